//go:build linux

package live

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const targetCalls = 5000

func TestUprobesCountEveryCallAndReturnOfAFunction(t *testing.T) {
	prog := workload(t, "calls")
	r := otrace(t, "run", "-e", fmt.Sprintf(`
entries := 0
returns := 0
otrace.on("uprobe:%[1]s:target", func(e) { entries += 1 })
otrace.on("uretprobe:%[1]s:target", func(e) { returns += 1 })
otrace.end(func() {
	otrace.printf("entries %%d\n", entries)
	otrace.printf("returns %%d\n", returns)
})`, prog), "--", prog, strconv.Itoa(targetCalls))
	mustSucceed(t, r)
	if s := summaryOf(t, r); s.lost != 0 {
		t.Errorf("%d events lost", s.lost)
	}
	if got := value(t, r, "entries"); got != targetCalls {
		t.Errorf("uprobe on target: %d calls, want %d\n%v", got, targetCalls, r)
	}
	if got := value(t, r, "returns"); got != targetCalls {
		t.Errorf("uretprobe on target: %d returns, want %d\n%v", got, targetCalls, r)
	}
	// The program's own account ("calls sum S", S = 0+1+...+K-1) shows it
	// made the K calls, so a miscount above is otrace's.
	sum := lines(r.stdout, "calls")
	if want := strconv.Itoa(targetCalls * (targetCalls - 1) / 2); len(sum) != 1 || len(sum[0]) != 3 || sum[0][2] != want {
		t.Errorf("the program printed %q, want calls sum %s", sum, want)
	}
	assertNoUprobesLeft(t, r.pid, prog)
}

// assertNoUprobesLeft checks the run removed the uprobes it created: none
// in its group otrace_PID, none on prog. Other otrace runs on the machine
// may own otrace_ groups of their own, so only ours are counted.
func assertNoUprobesLeft(t *testing.T, pid int, prog string) {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(env.tracefs, "uprobe_events"))
	if err != nil {
		t.Fatalf("reading uprobe_events: %v", err)
	}
	group := fmt.Sprintf("otrace_%d/", pid)
	for _, l := range strings.Split(string(text), "\n") {
		if strings.Contains(l, group) || (strings.Contains(l, "otrace_") && strings.Contains(l, prog+":")) {
			t.Errorf("uprobe left behind after the run: %s", l)
		}
	}
}
