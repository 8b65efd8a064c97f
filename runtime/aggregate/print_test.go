package aggregate

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// histExample is the distribution of the histogram in bpftrace's docs.
func histExample(t testing.TB, a *Agg, k Key) {
	for _, c := range []struct {
		v int64
		n int
	}{{0, 2}, {2, 3}, {3, 5}, {4, 40}, {7, 40}, {8, 12}, {1024, 1}} {
		for range c.n {
			add(t, a, k, c.v)
		}
	}
}

func TestPrintingMatchesTheGoldenFiles(t *testing.T) {
	kstack := &fakeStack{id: 1, text: "\tschedule+0x2a (vmlinux)\n\tdo_nanosleep+0x5c (vmlinux)\n"}
	ustack := &fakeStack{id: 2, text: "\tnanosleep+0x14 (libc.so.6)\n\tmain+0x3a (sleep)\n"}
	tests := []struct {
		name  string
		kind  Kind
		aname string
		opts  Options
		fill  func(t *testing.T, a *Agg)
	}{
		{"count_unkeyed", Count, "syscalls", Options{}, func(t *testing.T, a *Agg) {
			add(t, a, Key{}, 12)
		}},
		{"count_unnamed", Count, "", Options{}, func(t *testing.T, a *Agg) {
			add(t, a, Str("bash"), 3)
			add(t, a, Str("sshd"), 1)
		}},
		{"count_by_string", Count, "calls", Options{}, func(t *testing.T, a *Agg) {
			for _, c := range []string{"bash", "sshd", "bash", "cron", "bash", "sshd", "systemd"} {
				add(t, a, Str(c), 1)
			}
		}},
		{"count_by_tuple", Count, "pairs", Options{}, func(t *testing.T, a *Agg) {
			add(t, a, Tuple(Str("bash"), Int(12)), 5)
			add(t, a, Tuple(Str("bash"), Int(13)), 2)
			add(t, a, Tuple(Str("sshd"), Int(-1)), 9)
		}},
		{"count_by_stack", Count, "stacks", Options{}, func(t *testing.T, a *Agg) {
			add(t, a, StackOf(kstack), 7)
			add(t, a, StackOf(ustack), 3)
			add(t, a, StackOf(&fakeStack{id: 3}), 1) // an empty stack
		}},
		{"count_by_comm_and_stack", Count, "", Options{}, func(t *testing.T, a *Agg) {
			add(t, a, Tuple(Str("sleep"), StackOf(ustack)), 4)
		}},
		{"sum_by_int_past_int64", Sum, "bytes", Options{}, func(t *testing.T, a *Agg) {
			add(t, a, Int(1), maxInt)
			add(t, a, Int(1), maxInt)
			add(t, a, Int(2), -5)
			add(t, a, Int(3), minInt)
			add(t, a, Int(3), -1)
		}},
		{"min_and_max_keys", Max, "maxlat", Options{}, func(t *testing.T, a *Agg) {
			add(t, a, Str("read"), 10)
			add(t, a, Str("read"), 300)
			add(t, a, Str("write"), minInt)
		}},
		{"avg_by_string", Avg, "avg", Options{}, func(t *testing.T, a *Agg) {
			for _, v := range []int64{1, 2} {
				add(t, a, Str("a"), v)
			}
			for _, v := range []int64{10, 10, 11} {
				add(t, a, Str("b"), v)
			}
		}},
		{"stats_by_string", Stats, "lat", Options{}, func(t *testing.T, a *Agg) {
			for _, v := range []int64{1, 2, 3, 100} {
				add(t, a, Str("read"), v)
			}
			add(t, a, Str("close"), 7)
		}},
		{"hist_unkeyed", Hist, "usecs", Options{}, func(t *testing.T, a *Agg) {
			histExample(t, a, Key{})
		}},
		{"hist_negative_and_extremes", Hist, "edges", Options{}, func(t *testing.T, a *Agg) {
			for _, v := range []int64{minInt, -1, 0, 1, 1 << 61, maxInt, maxInt} {
				add(t, a, Key{}, v)
			}
		}},
		{"hist_by_string", Hist, "bytes", Options{}, func(t *testing.T, a *Agg) {
			histExample(t, a, Str("bash"))
			add(t, a, Str("cron"), 1<<20)
		}},
		{"lhist_with_both_overflows", LHist, "pct", Options{Linear: Linear{0, 100, 10}}, func(t *testing.T, a *Agg) {
			for _, v := range []int64{-5, 0, 9, 10, 35, 35, 35, 99, 100, maxInt} {
				add(t, a, Key{}, v)
			}
		}},
		{"lhist_inside_its_range", LHist, "kb", Options{Linear: Linear{0, 8192, 1024}}, func(t *testing.T, a *Agg) {
			for _, v := range []int64{1024, 2047, 3000, 3000, 5000} {
				add(t, a, Key{}, v)
			}
		}},
		{"lhist_uneven_step", LHist, "odd", Options{Linear: Linear{0, 10, 3}}, func(t *testing.T, a *Agg) {
			for v := int64(0); v <= 10; v++ {
				add(t, a, Key{}, v)
			}
		}},
		{"count_with_drops", Count, "x", Options{MaxKeys: 2}, func(t *testing.T, a *Agg) {
			k := Str("stale")
			a.Add(&k, 1) // a drop before Clear does not count
			a.Clear()
			add(t, a, Str("a"), 1)
			add(t, a, Str("b"), 2)
			k = Str("c")
			a.Add(&k, 1000)
			for range 234 {
				k = Str("d")
				a.Add(&k, 1)
			}
		}},
		{"hist_with_drops", Hist, "lat", Options{MaxKeys: 1}, func(t *testing.T, a *Agg) {
			add(t, a, Str("a"), 5)
			k := Str("b")
			a.Add(&k, 5)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustNew(t, tt.kind, tt.aname, tt.opts)
			tt.fill(t, a)
			var b bytes.Buffer
			if err := a.Print(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != a.String() {
				t.Errorf("Print and String differ:\n%s\n%s", b.String(), a.String())
			}
			golden(t, tt.name, b.String())
		})
	}
}

func TestAnEmptyAggregationPrintsNothing(t *testing.T) {
	for kind := Count; kind <= LHist; kind++ {
		a := mustNew(t, kind, "x", Options{Linear: Linear{0, 10, 1}})
		if s := a.String(); s != "" {
			t.Errorf("an empty %s prints %q", kind, s)
		}
	}
}

func TestHistBarsScaleToTheLargestBucket(t *testing.T) {
	tests := []struct {
		name string
		n    int64
		bar  int
	}{
		{"the largest bucket fills the bar", 80, 52},
		{"a bucket rounds its bar down", 12, 7},
		{"a small bucket can have no bar", 1, 0},
	}
	a := mustNew(t, Hist, "x", Options{})
	for range 80 {
		add(t, a, Key{}, 4)
	}
	for range 12 {
		add(t, a, Key{}, 8)
	}
	add(t, a, Key{}, 1)
	lines := strings.Split(a.String(), "\n")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, l := range lines {
				if len(l) < 25 || strings.TrimSpace(l[16:24]) != itoa(int(tt.n)) {
					continue
				}
				if got := strings.Count(l, "@"); got != tt.bar {
					t.Errorf("%q has a bar of %d, want %d", l, got, tt.bar)
				}
				if len(l) != 16+8+2+52+1 {
					t.Errorf("%q is %d columns wide, want 79", l, len(l))
				}
				return
			}
			t.Fatalf("no line with count %d in\n%s", tt.n, a.String())
		})
	}
}

// failAfter accepts n bytes, then fails every write.
type failAfter struct{ n int }

var errFull = errors.New("no space left on device")

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestPrintReturnsTheWriteError(t *testing.T) {
	a, err := New(Count, "calls", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20000 { // more than the print's buffer holds
		add(t, a, Key{Kind: IntKey, Int: int64(i)}, 1)
	}
	for _, room := range []int{0, 100, 70_000} {
		if err := a.Print(&failAfter{n: room}); !errors.Is(err, errFull) {
			t.Errorf("a writer that fails after %d bytes: Print returned %v", room, err)
		}
	}
	var b bytes.Buffer
	if err := a.Print(&b); err != nil || strings.Count(b.String(), "\n") != 20000 {
		t.Errorf("Print to a buffer: %v, %d lines", err, strings.Count(b.String(), "\n"))
	}
}
