package scripts

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"otrace/collectors/replay"
	"otrace/tests/scripttest"
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
	scripts, err := scripttest.Find(".", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) < 12 {
		t.Fatalf("found %d script tests, want at least 12", len(scripts))
	}
	for _, script := range scripts {
		c, err := scripttest.Load(script)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(c.Name(), func(t *testing.T) {
			t.Parallel()
			got, err := c.Run(otraceBin, 60*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(c.Golden(), []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			exp, err := os.ReadFile(c.Golden())
			if err != nil {
				t.Fatalf("%v (run go test ./tests/scripts -update)", err)
			}
			if got != string(exp) {
				t.Errorf("output of %s differs from %s:\n%s", script, c.Golden(), scripttest.Diff(string(exp), got))
			}
		})
	}
}
