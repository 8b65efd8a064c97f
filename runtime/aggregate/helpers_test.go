package aggregate

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// fakeStack is a stack key with a fixed text.
type fakeStack struct {
	id   uint64
	text string
}

func (s *fakeStack) AggKey() uint64 { return s.id }
func (s *fakeStack) String() string { return s.text }

const (
	maxInt = math.MaxInt64
	minInt = math.MinInt64
)

// mustNew makes an aggregation or fails the test.
func mustNew(t testing.TB, kind Kind, name string, opts Options) *Agg {
	t.Helper()
	a, err := New(kind, name, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// add adds x under k or fails the test.
func add(t testing.TB, a *Agg, k Key, x int64) {
	t.Helper()
	if !a.Add(&k, x) {
		t.Fatalf("Add(%v, %d) dropped the update", k, x)
	}
}

// repeat is n copies of v.
func repeat(v int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// golden compares got with testdata/name.golden, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}
