package scripts

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"otrace/collectors/replay"
)

var update = flag.Bool("update", false, "rewrite the .out files and testdata recordings")

var otraceBin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "otrace-scripts")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	otraceBin = filepath.Join(dir, "otrace")
	build := exec.Command("go", "build", "-o", otraceBin, "otrace/cmd/otrace")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building otrace:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// recordings are the testdata recordings, written by the fixture generator.
var recordings = map[string]replay.FixtureOptions{
	"sched.rec":           {},
	"sched-truncated.rec": {Switches: 200, Truncate: true},
}

// TestRecordingsAreCurrent checks the committed recordings are what the
// generator writes today, so a change to the generator or the format shows
// up as a failing test (run with -update to accept it).
func TestRecordingsAreCurrent(t *testing.T) {
	for name, opts := range recordings {
		var b bytes.Buffer
		if err := replay.WriteSchedFixture(&b, opts); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./tests/scripts -update)", err)
		}
		if !bytes.Equal(old, b.Bytes()) {
			t.Errorf("%s differs from what the generator writes; run go test ./tests/scripts -update", path)
		}
	}
}

func TestScripts(t *testing.T) {
	scripts, err := filepath.Glob("*.tengo")
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) < 12 {
		t.Fatalf("found %d script tests, want at least 12", len(scripts))
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(script, ".tengo")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := runScript(t, script)
			want := name + ".out"
			if *update {
				if err := os.WriteFile(want, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			exp, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run go test ./tests/scripts -update)", err)
			}
			if got != string(exp) {
				t.Errorf("output of %s differs from %s:\n%s", script, want, diff(string(exp), got))
			}
		})
	}
}

type directives struct {
	flags, args []string
	input       string
}

func parseDirectives(t *testing.T, script string) directives {
	src, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	d := directives{input: "sched.rec"}
	for _, line := range strings.Split(string(src), "\n") {
		rest, ok := strings.CutPrefix(line, "//")
		if !ok {
			break
		}
		key, val, ok := strings.Cut(strings.TrimSpace(rest), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "flags":
			d.flags = strings.Fields(val)
		case "args":
			d.args = strings.Fields(val)
		case "input":
			d.input = val
		}
	}
	return d
}

// runScript runs otrace on a script and renders what it printed.
func runScript(t *testing.T, script string) string {
	d := parseDirectives(t, script)
	args := []string{"run"}
	if d.input != "none" {
		args = append(args, "--input", filepath.Join("testdata", d.input))
	}
	args = append(args, d.flags...)
	args = append(args, script)
	args = append(args, d.args...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, otraceBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running otrace: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("otrace %s did not finish in time", strings.Join(args, " "))
	}
	var b strings.Builder
	b.WriteString(stdout.String())
	b.WriteString("--- stderr\n")
	b.WriteString(stderr.String())
	fmt.Fprintf(&b, "--- exit %d\n", code)
	return b.String()
}

// diff shows the first lines where want and got part.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %q\n  got:  %q\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}
