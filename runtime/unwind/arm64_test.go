package unwind

import (
	"debug/elf"
	"fmt"
	"testing"

	"otrace/runtime/process"
)

// arm64Stack builds stacks for the arm64 fixture by hand, as its
// prologues would have left them.
type arm64Stack struct {
	t     *testing.T
	base  uint64
	mem   []byte
	regs  [33]uint64 // x0-x30, sp, pc: perf's order
	procs *process.Table
	syms  map[string]uint64
}

const pacBits = 0x002a_0000_0000_0000 // a pointer-authentication code

func newARM64Stack(t *testing.T) *arm64Stack {
	ef := openFixture(t, "arm64")
	s := &arm64Stack{t: t, base: 0xffff_f000_0000 &^ 0xfff, mem: make([]byte, 4096), procs: process.NewTable(), syms: map[string]uint64{}}
	syms, _ := ef.Symbols()
	for _, sym := range syms {
		if elf.ST_TYPE(sym.Info) == elf.STT_FUNC || sym.Section != elf.SHN_UNDEF {
			s.syms[sym.Name] = sym.Value
		}
	}
	s.procs.AddMmap(process.Mmap{PID: 100, Start: 0x400000, Len: 0x1000, Prot: protExec, Path: "/fixtures/arm64"})
	return s
}

func (s *arm64Stack) sym(name string) uint64 {
	v, ok := s.syms[name]
	if !ok {
		s.t.Fatalf("no symbol %s", name)
	}
	return v
}

func (s *arm64Stack) put(at, v uint64) { le.PutUint64(s.mem[at-s.base:], v) }

func (s *arm64Stack) unwind(sp uint64) Stack {
	s.regs[31] = sp
	regs := append([]uint64(nil), s.regs[:]...)
	smp := &Sample{PID: 100, Time: 1, Regs: regs, RegsMask: PerfRegsMask(ARM64), Stack: s.mem[sp-s.base:]}
	var st Stack
	New(Config{Arch: ARM64, Mappings: s.procs, Files: newFixtureFiles(s.t)}).Unwind(smp, &st)
	return st
}

func TestARM64UnwindsThroughSignedReturnAddresses(t *testing.T) {
	s := newARM64Stack(t)
	// main -> outer -> mid -> leaf. outer's frame record at spOuter
	// (CFA-16), mid's 32-byte frame below it with x29, x30 (signed) and
	// x19; leaf keeps no frame: its return address is in x30.
	spOuter := s.base + 0x200
	spMid := spOuter - 32
	s.put(spOuter, 0)                           // main's x29
	s.put(spOuter+8, s.sym("main")+4)           // outer returns into main
	s.put(spMid, spOuter)                       // outer's x29
	s.put(spMid+8, (s.sym("outer")+12)|pacBits) // mid returns into outer, signed
	s.put(spMid+16, 0x1919)                     // x19
	s.regs[29] = spMid
	s.regs[30] = s.sym("mid") + 0x14
	s.regs[32] = s.sym("leaf") + 4
	st := s.unwind(spMid)
	want := []uint64{s.sym("leaf") + 4, s.sym("mid") + 0x14, s.sym("outer") + 12, s.sym("main") + 4}
	if fmt.Sprintf("%x", st.PCs) != fmt.Sprintf("%x", want) || st.Stop != StopEnd {
		t.Errorf("unwound %x (%v), want %x and the end (main's lr is undefined)", st.PCs, st.Stop, want)
	}
}

func TestARM64FallsBackToFrameRecordsWithoutCFI(t *testing.T) {
	s := newARM64Stack(t)
	// main -> outer -> nocfi -> leaf: nocfi has no FDE, only its frame
	// record {x29, x30} at x29.
	spOuter := s.base + 0x200
	spNocfi := spOuter - 16
	s.put(spOuter, 0)
	s.put(spOuter+8, s.sym("main")+4)
	s.put(spNocfi, spOuter)
	s.put(spNocfi+8, s.sym("outer")+16)
	s.regs[29] = spNocfi
	s.regs[30] = s.sym("nocfi") + 12
	s.regs[32] = s.sym("leaf")
	st := s.unwind(spNocfi)
	want := []uint64{s.sym("leaf"), s.sym("nocfi") + 12, s.sym("outer") + 16, s.sym("main") + 4}
	if fmt.Sprintf("%x", st.PCs) != fmt.Sprintf("%x", want) {
		t.Fatalf("unwound %x (%v), want %x", st.PCs, st.Stop, want)
	}
	if fmt.Sprint(st.How) != "[regs cfi fp cfi]" {
		t.Errorf("recovered by %v, want [regs cfi fp cfi]", st.How)
	}
}

func TestARM64CFAExpressionOfARealignedFrame(t *testing.T) {
	s := newARM64Stack(t)
	// main -> expr -> leaf, expr's sp realigned below its frame record:
	// only the expression CFA = x29 + 16 finds main.
	spExpr := s.base + 0x300
	s.put(spExpr, 0)
	s.put(spExpr+8, s.sym("main")+8)
	s.regs[29] = spExpr
	s.regs[30] = s.sym("expr") + 16
	s.regs[32] = s.sym("leaf")
	st := s.unwind(s.base + 0x100) // the realigned sp
	want := []uint64{s.sym("leaf"), s.sym("expr") + 16, s.sym("main") + 8}
	if fmt.Sprintf("%x", st.PCs) != fmt.Sprintf("%x", want) || st.Stop != StopEnd {
		t.Errorf("unwound %x (%v), want %x", st.PCs, st.Stop, want)
	}
}

// newARM64Procs is a process model with the arm64 fixture mapped as
// process 100.
func newARM64Procs() *process.Table {
	p := process.NewTable()
	p.AddMmap(process.Mmap{PID: 100, Start: 0x400000, Len: 0x1000, Prot: protExec, Path: "/fixtures/arm64"})
	return p
}
