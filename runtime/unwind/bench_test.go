package unwind

import (
	"testing"
)

// deepSample builds a 20-frame stack out of snap's real return sites:
// f5 -> f4 -> ... -> f1 -> f5 ..., each frame 16 bytes as their CFI says
// (CFA = rsp+16 past the prologue), ending in a zero return address.
func deepSample(tb testing.TB, u *Unwinder, snap *snapshot, frames int) *Sample {
	var st Stack
	u.Unwind(snap.sample(), &st)
	if len(st.PCs) < 6 {
		tb.Fatalf("snapshot unwound to %d frames", len(st.PCs))
	}
	sites := st.PCs[1:6] // return addresses into f5 .. f1
	const base = 0x7ffd00000000
	stack := make([]byte, 16*frames+16)
	for i := 0; i < frames-1; i++ {
		le.PutUint64(stack[16*i+8:], sites[(i+1)%len(sites)])
	}
	mask := PerfRegsMask(AMD64)
	regs := make([]uint64, 17)
	regs[7], regs[8] = base, sites[0] // SP, IP in perf's order
	return &Sample{PID: 100, Time: 10, Regs: regs, RegsMask: mask, Stack: stack}
}

func benchUnwind(b *testing.B, s *Sample, u *Unwinder, want int) {
	var st Stack
	u.Unwind(s, &st)
	if len(st.PCs) != want {
		b.Fatalf("unwound %d frames (%v), want %d", len(st.PCs), st.Stop, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u.Unwind(s, &st)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(st.PCs)), "ns/frame")
}

// BenchmarkUnwind20Frames is a warm 20-frame walk: every binary's table
// built and every FDE compiled, as after the first samples of a run.
func BenchmarkUnwind20Frames(b *testing.B) {
	snap := readSnapshot(b)
	u := New(Config{Arch: AMD64, Mappings: snap.procs(), Files: newFixtureFiles(b)})
	benchUnwind(b, deepSample(b, u, snap, 20), u, 20)
}

// BenchmarkUnwindSnapshot walks the real snapshot of snap's leaf: seven
// frames by CFI, then libc, which is not among the fixtures.
func BenchmarkUnwindSnapshot(b *testing.B) {
	snap := readSnapshot(b)
	u := New(Config{Arch: AMD64, Mappings: snap.procs(), Files: newFixtureFiles(b)})
	benchUnwind(b, snap.sample(), u, 8)
}

// BenchmarkCompileFDE is the cold cost of one FDE: parse and compile the
// largest function of snap (dump, 18 rows).
func BenchmarkCompileFDE(b *testing.B) {
	ef := openFixture(b, "snap")
	s := ef.Section(".eh_frame")
	data, _ := s.Data()
	sec := &Section{Name: ".eh_frame", Data: data, Addr: s.Addr}
	var big *FDE
	sec.Entries(func(f *FDE) {
		if big == nil || len(f.Instructions) > len(big.Instructions) {
			big = f
		}
	})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f, err := sec.parseFDE(big.Off, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := compileFDE(sec, f, &amd64Info); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAWarmUnwindAllocatesNothing(t *testing.T) {
	snap := readSnapshot(t)
	u := New(Config{Arch: AMD64, Mappings: snap.procs(), Files: newFixtureFiles(t)})
	s := deepSample(t, u, snap, 20)
	var st Stack
	u.Unwind(s, &st)
	if n := testing.AllocsPerRun(100, func() { u.Unwind(s, &st) }); n != 0 {
		t.Errorf("%v allocations per warm unwind", n)
	}
}
