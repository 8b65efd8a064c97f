//go:build linux

package live

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The profile toolbox script writes a pprof profile of the C call tree in
// which go tool pprof ranks the hottest function, b, first.
func TestAProfileOfTheCallTreeRanksItsHotFunctionFirstInPprof(t *testing.T) {
	prog := buildDebugC(t, "calltree")
	out := filepath.Join(t.TempDir(), "calltree.pb.gz")
	r := otrace(t, "run", "-o", out, "profile", "999", "--", prog, "spin", calltreeUnits)
	mustSucceed(t, r)
	top, err := exec.Command("go", "tool", "pprof", "-top", "-focus=main", out).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof -top: %v\n%s", err, top)
	}
	var first string
	for _, line := range strings.Split(string(top), "\n") {
		f := strings.Fields(line)
		// Rows: flat flat% sum% cum cum% name.
		if len(f) >= 6 && strings.HasSuffix(f[1], "%") && strings.HasSuffix(f[4], "%") {
			first = f[5]
			break
		}
	}
	if first != "b" {
		t.Errorf("pprof's top function is %q, want b (main -> a -> b spins twice as long as c):\n%s", first, top)
	}
}
