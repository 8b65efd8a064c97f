package perfdata

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fixtures are real captures made with Debian's perf 6.1 on Linux
// 6.18 (see fixtureRecipes), each with what perf script printed for it
// then. They let the reader be checked against perf without root.
var fixtures = []struct {
	name   string
	file   string
	chains bool // the .script holds callchains (else tracepoint lines)
	user   bool // compare the user part of callchains too
}{
	{"a file-mode capture of two tracepoints gives perf script's samples, fields and order", "sched.data", false, false},
	{"a pipe-mode profile with -g gives perf script's callchains", "profile-pipe.data", true, true},
	{"a --call-graph dwarf capture gives perf script's kernel callchains", "dwarf.data", true, false},
}

func TestFixturesMatchPerfScript(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			path := filepath.Join("testdata", f.file)
			r, s := readFile(t, path, Options{Notice: func(n string) { t.Errorf("unexpected notice: %s", n) }})
			script, err := os.Open(strings.TrimSuffix(path, ".data") + ".script")
			if err != nil {
				t.Fatal(err)
			}
			defer script.Close()
			if f.chains {
				compareChains(t, s.items, parseChainScript(t, script), f.user)
			} else {
				compareTrace(t, r, s.samples(), parseTraceScript(t, script))
			}
			golden(t, strings.TrimSuffix(path, ".data")+".summary", summary(r, s))
		})
	}
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("summary differs from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// shortReads returns at most 7 bytes a read and hides every interface but
// io.Reader, as a pipe delivering in pieces would.
type shortReads struct{ r io.Reader }

func (s *shortReads) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), 7)]) }

func TestEveryWayOfReadingAFixtureGivesTheSameRecords(t *testing.T) {
	for _, f := range fixtures {
		data, err := os.ReadFile(filepath.Join("testdata", f.file))
		if err != nil {
			t.Fatal(err)
		}
		want := readBytes(t, bytes.NewReader(data), len(data))
		ways := []struct {
			name string
			src  io.Reader
		}{
			{"from a plain reader", struct{ io.Reader }{bytes.NewReader(data)}},
			{"in 7-byte pieces", &shortReads{bytes.NewReader(data)}},
		}
		for _, w := range ways {
			t.Run(f.file+" read "+w.name+" gives what Open gives", func(t *testing.T) {
				if got := readBytes(t, w.src, len(data)); got != want {
					t.Errorf("got\n%.2000s\nwant\n%.2000s", got, want)
				}
			})
		}
	}
}

// readBytes reads a perf.data from src and renders every record delivered.
func readBytes(t *testing.T, src io.Reader, size int) string {
	t.Helper()
	r, err := NewReader(src)
	if err != nil {
		t.Fatal(err)
	}
	enableAll(t, r)
	s := &recSink{}
	if err := drain(t, r, s, size); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, it := range s.items {
		fmt.Fprintf(&b, "%+v\n", it)
	}
	fmt.Fprintf(&b, "%+v\n", r.Stats())
	return b.String()
}
