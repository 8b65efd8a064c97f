package symbols

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
)

func TestAddJITNamesCodeUntilReplaced(t *testing.T) {
	r := New(Options{ProcRoot: t.TempDir()})
	defer r.Close()
	r.AddJIT(7, 0x1000, 0x100, "App.Program.Main")
	r.AddJIT(7, 0x1100, 0x40, "App.Program.Helper")
	r.AddJIT(7, 0x1080, 0x10, "App.Program.Rejitted") // code memory reused
	r.AddJIT(7, 0x2000, 0, "App.Empty")               // no code: names nothing
	r.AddJIT(8, 0x1000, 0x100, "Other.Process")
	for _, tc := range []struct {
		name   string
		pid    int32
		addr   uint64
		want   string
		offset uint64
	}{
		{"a function's start", 7, 0x1000, "App.Program.Main", 0},
		{"inside it", 7, 0x107f, "App.Program.Main", 0x7f},
		{"where a later function took over", 7, 0x1085, "App.Program.Rejitted", 5},
		{"what the later one left", 7, 0x1090, "App.Program.Main", 0x90},
		{"the next function", 7, 0x113f, "App.Program.Helper", 0x3f},
		{"past the last function", 7, 0x1140, "", 0},
		{"a size-0 function", 7, 0x2000, "", 0},
		{"another process has its own", 8, 0x1085, "Other.Process", 0x85},
		{"a process with none", 9, 0x1000, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 2 { // the second answer comes from the cache
				fr, ok := r.JIT(tc.pid, tc.addr)
				if ok != (tc.want != "") || fr[0].Func != tc.want || fr[0].Offset != tc.offset || fr[0].Addr != tc.addr {
					t.Fatalf("JIT(%d, %#x) = %+v, %v; want %q+%#x", tc.pid, tc.addr, fr, ok, tc.want, tc.offset)
				}
				if ok && fr[0].Module != jitModule {
					t.Errorf("module %q", fr[0].Module)
				}
			}
		})
	}
	// A function added after a lookup is seen by the next one.
	r.AddJIT(7, 0x1140, 0x10, "App.Late")
	if fr, ok := r.JIT(7, 0x1141); !ok || fr[0].Func != "App.Late" {
		t.Errorf("after AddJIT: %+v", fr)
	}
}

func TestAddJITComesBeforeThePerfMap(t *testing.T) {
	procRoot, _ := fakeProc(t, 4242, 4242, os.Geteuid(), "1000 100 from_perf_map\n3000 10 only_in_map\n")
	r := New(Options{ProcRoot: procRoot})
	defer r.Close()
	r.AddJIT(4242, 0x1000, 0x100, "from_events")
	if fr, _ := r.JIT(4242, 0x1010); fr[0].Func != "from_events" {
		t.Errorf("0x1010: %+v", fr)
	}
	if fr, _ := r.JIT(4242, 0x3001); fr[0].Func != "only_in_map" {
		t.Errorf("0x3001: %+v", fr)
	}
}

// TestOverlayPaintsAsABatchWould adds random functions one at a time and
// checks that the segments are what painting all of them at once gives.
func TestOverlayPaintsAsABatchWould(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var one, batch jitTable
		for i := range 1 + rng.IntN(30) {
			start := uint64(rng.IntN(64)) * 8
			e := jitEntry{start: start, end: start + 1 + uint64(rng.IntN(80)), name: strconv.Itoa(i)}
			one.overlay(e)
			batch.entries = append(batch.entries, e)
		}
		batch.paint()
		for a := uint64(0); a < 700; a++ {
			if x, y := one.frame(a), batch.frame(a); x != y {
				t.Fatalf("round %d at %#x: one by one %+v, all at once %+v", round, a, x, y)
			}
		}
		for i, s := range one.segs {
			if s.start >= s.end || (i > 0 && one.segs[i-1].end > s.start) {
				t.Fatalf("round %d: segments overlap or are empty: %+v", round, one.segs)
			}
		}
		if !slices.IsSortedFunc(one.segs, func(a, b jitSeg) int { return int(a.start) - int(b.start) }) {
			t.Fatalf("round %d: unsorted %+v", round, one.segs)
		}
	}
}
