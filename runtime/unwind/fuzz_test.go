package unwind

import (
	"encoding/binary"
	"testing"
)

// FuzzCFI parses arbitrary bytes as .eh_frame, .debug_frame and an
// .eh_frame_hdr over them, compiles every FDE it finds for both
// architectures, and looks addresses up: nothing may panic, and rules
// found must cover the address asked for.
func FuzzCFI(f *testing.F) {
	for _, name := range []string{"snap", "snap-debugframe", "arm64"} {
		ef := openFixture(f, name)
		for _, sec := range []string{".eh_frame", ".debug_frame"} {
			if s := ef.Section(sec); s != nil {
				data, _ := s.Data()
				f.Add(data, sec == ".debug_frame", []byte(nil))
			}
		}
		if s := ef.Section(".eh_frame_hdr"); s != nil {
			hdr, _ := s.Data()
			eh, _ := ef.Section(".eh_frame").Data()
			f.Add(eh, false, hdr)
		}
	}
	f.Add([]byte{}, false, []byte{})
	f.Fuzz(func(t *testing.T, data []byte, debug bool, hdr []byte) {
		sec := &Section{Name: "fuzz", Data: data, Addr: 0x2000, Debug: debug}
		var starts []uint64
		sec.Entries(func(fde *FDE) {
			starts = append(starts, fde.Start, fde.End-1, fde.Start+(fde.End-fde.Start)/2)
			for _, a := range []Arch{AMD64, ARM64} {
				if r, err := Compile(sec, fde, a); err == nil {
					_ = r.String()
				}
			}
		})
		var h *Section
		if hdr != nil {
			h = &Section{Name: "hdr", Data: hdr, Addr: 0x1000}
		}
		for _, a := range []Arch{AMD64, ARM64} {
			var tab *Table
			if debug {
				tab = NewTable(a, nil, nil, sec)
			} else {
				tab = NewTable(a, sec, h)
			}
			for _, at := range append(starts, 0, 0x2000, ^uint64(0)) {
				if r, row := tab.lookup(at); r != nil && (at < r.Start || at >= r.End || row == nil) {
					t.Fatalf("rules %x..%x for %#x", r.Start, r.End, at)
				}
			}
		}
	})
}

// FuzzUnwind walks arbitrary stacks and registers through the fixtures'
// real CFI (x86-64 snap, arm64): the walk must end, within MaxFrames,
// without panicking, with as many methods as PCs.
func FuzzUnwind(f *testing.F) {
	snap := readSnapshot(f)
	s := snap.sample()
	regBytes := make([]byte, 8*len(s.Regs))
	for i, r := range s.Regs {
		binary.LittleEndian.PutUint64(regBytes[8*i:], r)
	}
	f.Add(regBytes, s.Stack[:min(len(s.Stack), 4096)], false)
	f.Add(regBytes, []byte{}, true)
	f.Add([]byte{1, 2, 3}, []byte{9}, false)
	procs := snap.procs()
	files := newFixtureFiles(f)
	amd := New(Config{Arch: AMD64, Mappings: procs, Files: files, MaxFrames: 64})
	arm := newARM64Procs()
	armU := New(Config{Arch: ARM64, Mappings: arm, Files: files, MaxFrames: 64})
	f.Fuzz(func(t *testing.T, regs []byte, stack []byte, onARM bool) {
		vals := make([]uint64, len(regs)/8)
		for i := range vals {
			vals[i] = binary.LittleEndian.Uint64(regs[8*i:])
		}
		u, mask := amd, PerfRegsMask(AMD64)
		if onARM {
			u, mask = armU, PerfRegsMask(ARM64)
			// Point the PC and SP somewhere useful now and then.
			if len(vals) > 32 {
				vals[32] = 0x400000 + vals[32]%0x200
			}
		} else if len(vals) > 8 && len(s.Regs) > 8 {
			vals[8] = s.Regs[8] + vals[8]%0x400 - 0x200
		}
		var st Stack
		u.Unwind(&Sample{PID: 100, Time: 10, Regs: vals, RegsMask: mask, Stack: stack}, &st)
		if len(st.PCs) > 64 || len(st.PCs) != len(st.How) {
			t.Fatalf("%d PCs, %d methods", len(st.PCs), len(st.How))
		}
	})
}
