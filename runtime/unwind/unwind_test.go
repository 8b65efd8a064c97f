package unwind

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"otrace/runtime/process"
)

// names names each PC of a stack: a function of the fixture binary, else
// the base name of the mapping it fell in.
func names(t *testing.T, st *Stack, procs *process.Table, fixture string) []string {
	t.Helper()
	tab := newSymtab(t, openFixture(t, fixture))
	ef := openFixture(t, fixture)
	var out []string
	for i, pc := range st.PCs {
		m := procs.MappingAt(100, pc, 10)
		switch {
		case m == nil:
			out = append(out, "?")
		case filepath.Base(m.Path) == fixture:
			bias, _ := biasOf(ef, nil, m.Start, m.Pgoff)
			look := pc
			if i > 0 {
				look--
			}
			out = append(out, tab.name(look+bias))
		default:
			out = append(out, filepath.Base(m.Path))
		}
	}
	return out
}

func TestSnapshotUnwindsToMainThroughOmittedFramePointers(t *testing.T) {
	snap := readSnapshot(t)
	procs := snap.procs()
	u := New(Config{Arch: AMD64, Mappings: procs, Files: newFixtureFiles(t)})
	var st Stack
	u.Unwind(snap.sample(), &st)
	got := names(t, &st, procs, "snap")
	want := []string{"leaf", "f5", "f4", "f3", "f2", "f1", "main"}
	if len(got) < len(want)+1 || strings.Join(got[:len(want)], " ") != strings.Join(want, " ") {
		t.Fatalf("unwound %v (%v), want %v then libc", got, st.Stop, want)
	}
	if !strings.HasPrefix(got[len(want)], "libc") {
		t.Errorf("main's caller is %s, want libc's __libc_start_call_main", got[len(want)])
	}
	for i, h := range st.How[:len(want)] {
		if want := map[bool]Method{true: FromRegs, false: FromCFI}[i == 0]; h != want {
			t.Errorf("frame %d recovered by %v, want %v", i, h, want)
		}
	}
	// libc is not among the fixtures: past main the unwinder has no CFI
	// and the frame pointer is not one; it must stop cleanly.
	if st.Stop == StopMaxDepth {
		t.Errorf("stopped by %v", st.Stop)
	}
}

func TestUnwindingAStackTwiceGivesTheSameFramesFromTheCache(t *testing.T) {
	snap := readSnapshot(t)
	files := newFixtureFiles(t)
	u := New(Config{Arch: AMD64, Mappings: snap.procs(), Files: files})
	var a, b Stack
	u.Unwind(snap.sample(), &a)
	first := append([]uint64(nil), a.PCs...)
	u.Unwind(snap.sample(), &b)
	if fmt.Sprint(first) != fmt.Sprint(b.PCs) {
		t.Errorf("second unwind %x, first %x", b.PCs, first)
	}
	if s := u.Stats(); s.Stacks != 2 || s.Tables != files.opens-countNil(files) {
		t.Errorf("stats %+v, files opened %d", s, files.opens)
	}
}

func countNil(f *fixtureFiles) int {
	n := 0
	for _, ef := range f.files {
		if ef == nil {
			n++
		}
	}
	return n
}

// A stack copy cut short ends the walk at the first frame whose caller
// lies past it, keeping the frames before.
func TestAShortCopyStopsOutOfStack(t *testing.T) {
	snap := readSnapshot(t)
	procs := snap.procs()
	u := New(Config{Arch: AMD64, Mappings: procs, Files: newFixtureFiles(t)})
	s := snap.sample()
	s.Stack = s.Stack[:40]
	var st Stack
	u.Unwind(s, &st)
	if st.Stop != StopOutOfStack || len(st.PCs) < 1 || len(st.PCs) > 5 {
		t.Errorf("got %d frames, stop %v; want a few frames and out-of-stack", len(st.PCs), st.Stop)
	}
}

func TestStopReasons(t *testing.T) {
	snap := readSnapshot(t)
	procs := snap.procs()
	files := newFixtureFiles(t)
	for _, tc := range []struct {
		name string
		edit func(*Sample, *Config)
		want Stop
		max  int
	}{
		{"no registers", func(s *Sample, _ *Config) { s.Regs = nil }, StopNoRegs, 0},
		{"a PC outside every mapping", func(s *Sample, _ *Config) { s.Regs[8] = 0x10 }, StopNoMapping, 1},
		{"an unknown process", func(s *Sample, _ *Config) { s.PID = 7 }, StopNoMapping, 1},
		{"a depth limit", func(_ *Sample, c *Config) { c.MaxFrames = 3 }, StopMaxDepth, 3},
		{"a zero PC", func(s *Sample, _ *Config) { s.Regs[8] = 0 }, StopEnd, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := snap.sample()
			cfg := Config{Arch: AMD64, Mappings: procs, Files: files}
			tc.edit(s, &cfg)
			var st Stack
			New(cfg).Unwind(s, &st)
			if st.Stop != tc.want || len(st.PCs) != tc.max {
				t.Errorf("stop %v after %d frames, want %v after %d", st.Stop, len(st.PCs), tc.want, tc.max)
			}
		})
	}
}

// sigtramp carries glibc's signal-frame CFI: the CFA and the registers
// come from a ucontext on the stack, and the interrupted PC is exact.
func TestSignalFrameRestoresTheInterruptedContext(t *testing.T) {
	snap := readSnapshot(t)
	procs := snap.procs()
	ef := openFixture(t, "snap")
	var exe process.Mmap
	for _, m := range snap.maps {
		if filepath.Base(m.Path) == "snap" && m.Prot&protExec != 0 {
			exe = m
		}
	}
	bias, _ := biasOf(ef, nil, exe.Start, exe.Pgoff)
	addr := func(name string) uint64 {
		syms, _ := ef.Symbols()
		for _, s := range syms {
			if s.Name == name {
				return s.Value - bias
			}
		}
		t.Fatalf("no %s", name)
		return 0
	}
	// A handler frame (f5's body, frameless at its entry) returned into
	// sigtramp; the ucontext above holds f4's registers, interrupted
	// right at f4's first instruction: its CFA is rsp+8.
	const base = 0x7ff000000000
	stack := make([]byte, 1024)
	put := func(at uint64, v uint64) { le.PutUint64(stack[at-base:], v) }
	handlerSP := uint64(base)
	put(handlerSP, addr("sigtramp")) // f5 "returns" into the trampoline
	uc := handlerSP + 8              // sigtramp's rsp: the ucontext
	interruptedSP := uint64(base + 512)
	put(uc+160, interruptedSP)       // oRSP
	put(uc+168, addr("f4"))          // oRIP: the first byte of f4
	put(uc+120, 0x1111)              // oRBP
	put(uc+128, 0x2222)              // oRBX
	put(interruptedSP, addr("f3")+9) // f4's return address, into f3
	s := &Sample{PID: 100, Time: 10, RegsMask: 1<<7 | 1<<8, Regs: []uint64{handlerSP, addr("f5")}, Stack: stack}
	u := New(Config{Arch: AMD64, Mappings: procs, Files: newFixtureFiles(t)})
	var st Stack
	u.Unwind(s, &st)
	got := names(t, &st, procs, "snap")
	// f4's PC is exact: the interrupted instruction, not a return address.
	if len(st.PCs) < 4 || st.PCs[1] != addr("sigtramp") || st.PCs[2] != addr("f4") || st.PCs[3] != addr("f3")+9 {
		t.Fatalf("unwound %x (%v) %v, want f5, sigtramp, f4 (exact), f3", st.PCs, got, st.Stop)
	}
	if st.How[2] != FromCFI {
		t.Errorf("the interrupted frame was recovered by %v", st.How[2])
	}
}

// The PLT's CFA expression gives rsp+8 in the first 11 bytes of an entry
// (before the push) and rsp+16 after it.
func TestPLTExpression(t *testing.T) {
	ef := openFixture(t, "snap")
	tab := TableFromELF(AMD64, ef, nil)
	plt := ef.Section(".plt")
	if plt == nil {
		t.Fatal("no .plt")
	}
	for _, tc := range []struct {
		at   uint64 // offset in the second PLT entry
		want uint64
	}{{0, 8}, {6, 8}, {10, 8}, {11, 16}, {15, 16}} {
		pc := plt.Addr + 16 + tc.at
		r, rw := tab.lookup(pc)
		if rw == nil || rw.cfa.kind != cfaExpr {
			t.Fatalf("PLT at %#x: rules %v", pc, r)
		}
		var regs regFile
		regs.set(7, 0x1000)
		regs.set(16, pc)
		got, ok := eval(r.exprs[rw.cfa.off], &regs, &memory{order: le}, 0, false)
		if !ok || got != 0x1000+tc.want {
			t.Errorf("PLT+16+%d: CFA %#x (%v), want rsp+%d", tc.at, got, ok, tc.want)
		}
	}
}
