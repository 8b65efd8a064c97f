package unwind

import (
	"debug/elf"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// dumpCFI prints every FDE of a fixture's CFI sections with its compiled
// rules, as the golden files hold them.
func dumpCFI(t *testing.T, ef *elf.File, a Arch) string {
	t.Helper()
	var b strings.Builder
	for _, name := range []string{".eh_frame", ".debug_frame"} {
		s := ef.Section(name)
		if s == nil {
			continue
		}
		data, err := s.Data()
		if err != nil {
			t.Fatal(err)
		}
		sec := &Section{Name: name, Data: data, Addr: s.Addr, Debug: name == ".debug_frame", Order: ef.ByteOrder}
		fmt.Fprintf(&b, "%s\n", name)
		err = sec.Entries(func(f *FDE) {
			fmt.Fprintf(&b, "FDE %#x %x..%x cie=%#x %q code=%d data=%d ra=%d", f.Off, f.Start, f.End, f.CIE.Off,
				f.CIE.Augmentation, f.CIE.CodeAlign, f.CIE.DataAlign, f.CIE.RA)
			if f.CIE.Signal {
				b.WriteString(" signal")
			}
			b.WriteString("\n")
			r, err := Compile(sec, f, a)
			if err != nil {
				fmt.Fprintf(&b, "  error: %v\n", err)
				return
			}
			for _, l := range strings.SplitAfter(r.String(), "\n") {
				if l != "" {
					b.WriteString("  " + l)
				}
			}
		})
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
		}
	}
	return b.String()
}

func TestCFIRulesMatchTheGoldenFiles(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		arch    Arch
	}{
		{"snap", AMD64},
		{"snap-debugframe", AMD64},
		{"arm64", ARM64},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			golden(t, tc.fixture+".rules", dumpCFI(t, openFixture(t, tc.fixture), tc.arch))
		})
	}
}

// Every function of a fixture is covered by its table, through
// .eh_frame_hdr or a scan, at its first and last byte.
func TestTablesCoverEveryFunctionOfTheFixtures(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		arch    Arch
		funcs   []string
	}{
		{"snap", AMD64, []string{"main", "f1", "f2", "f3", "f4", "f5", "leaf", "snap", "sigtramp", "_start"}},
		{"snap-debugframe", AMD64, []string{"main", "f1", "f5", "leaf", "snap", "sigtramp", "_start"}},
		{"arm64", ARM64, []string{"main", "outer", "mid", "leaf", "expr"}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			ef := openFixture(t, tc.fixture)
			tab := TableFromELF(tc.arch, ef, nil)
			if tab.Err != nil {
				t.Fatal(tab.Err)
			}
			syms, _ := ef.Symbols()
			for _, name := range tc.funcs {
				var sym *elf.Symbol
				for i := range syms {
					if syms[i].Name == name {
						sym = &syms[i]
					}
				}
				if sym == nil {
					t.Fatalf("no symbol %s", name)
				}
				end := sym.Value + sym.Size - 1
				if sym.Size == 0 {
					end = sym.Value
				}
				for _, at := range []uint64{sym.Value, end} {
					if r, row := tab.lookup(at); r == nil || row == nil {
						t.Errorf("%s at %#x: no rules", name, at)
					}
				}
			}
		})
	}
}

func TestTableUsesTheHeaderSearchTable(t *testing.T) {
	ef := openFixture(t, "snap")
	hdr, eh := ef.Section(".eh_frame_hdr"), ef.Section(".eh_frame")
	hdrData, _ := hdr.Data()
	ehData, _ := eh.Data()
	ehSec := &Section{Name: ".eh_frame", Data: ehData, Addr: eh.Addr}
	withHdr := NewTable(AMD64, ehSec, &Section{Name: ".eh_frame_hdr", Data: hdrData, Addr: hdr.Addr})
	scanned := NewTable(AMD64, ehSec, nil)
	a, b := withHdr.sources[0], scanned.sources[0]
	if fmt.Sprint(a.pcs, a.offs) != fmt.Sprint(b.pcs, b.offs) {
		t.Errorf("the header's table differs from a scan:\n%x %x\n%x %x", a.pcs, a.offs, b.pcs, b.offs)
	}
	// A header that points outside .eh_frame is not trusted.
	bad := append([]byte(nil), hdrData...)
	le.PutUint32(bad[len(bad)-4:], 0x7fffffff)
	if tab := NewTable(AMD64, ehSec, &Section{Data: bad, Addr: hdr.Addr}); len(tab.sources[0].pcs) != len(b.pcs) {
		t.Errorf("a bad header gave %d FDEs, a scan %d", len(tab.sources[0].pcs), len(b.pcs))
	}
}

func TestMalformedCFIIsAFormatErrorNotAPanic(t *testing.T) {
	ef := openFixture(t, "snap")
	eh := ef.Section(".eh_frame")
	data, _ := eh.Data()
	for _, tc := range []struct {
		name string
		edit func([]byte) []byte
		want string
	}{
		{"a truncated section", func(b []byte) []byte { return b[:30] }, "past the end"},
		{"a length past the end", func(b []byte) []byte { le.PutUint32(b, 1<<30); return b }, "past the end"},
		{"a bad CIE version", func(b []byte) []byte { b[8] = 9; return b }, "CIE version 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec := &Section{Name: ".eh_frame", Data: tc.edit(append([]byte(nil), data...)), Addr: eh.Addr}
			err := sec.Entries(func(f *FDE) { Compile(sec, f, AMD64) })
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a FormatError saying %q", err, tc.want)
			}
		})
	}
}
