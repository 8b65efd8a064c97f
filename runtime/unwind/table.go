package unwind

import (
	"debug/elf"
	"slices"
	"sort"
)

// Table is the CFI of one binary: its sections, an index of their FDEs by
// address, and the rules compiled so far, one Rules per FDE on first use.
// Repeated addresses cost two binary searches.
type Table struct {
	arch    *archInfo
	sources []*source
	// Err is the first problem met reading the tables (the rest of them
	// stays usable), for diagnostics.
	Err error
}

// source is one CFI section and its index.
type source struct {
	sec   Section
	pcs   []uint64 // FDE starts, sorted
	offs  []uint64 // FDE offsets in sec, in the order of pcs
	rules []*Rules // compiled on demand; noRules when that failed
	cies  map[uint64]*CIE
}

// noRules marks an FDE whose rules could not be compiled. It covers no
// address and is never modified.
var noRules = &Rules{}

// NewTable indexes the sections of one binary: .eh_frame (through
// .eh_frame_hdr's search table when there is one) and .debug_frame, in
// that order of preference. hdr may be nil.
func NewTable(a Arch, ehFrame *Section, hdr *Section, debugFrame ...*Section) *Table {
	t := &Table{arch: infoOf(a)}
	if t.arch == nil {
		return t
	}
	if ehFrame != nil && len(ehFrame.Data) > 0 {
		s := &source{sec: *ehFrame, cies: map[uint64]*CIE{}}
		if hdr == nil || !s.indexFromHdr(hdr) {
			t.note(s.indexByScan())
		}
		t.add(s)
	}
	for _, df := range debugFrame {
		if df == nil || len(df.Data) == 0 {
			continue
		}
		s := &source{sec: *df, cies: map[uint64]*CIE{}}
		s.sec.Debug = true
		t.note(s.indexByScan())
		t.add(s)
	}
	return t
}

func (t *Table) note(err error) {
	if err != nil && t.Err == nil {
		t.Err = err
	}
}

func (t *Table) add(s *source) {
	if len(s.pcs) > 0 {
		s.rules = make([]*Rules, len(s.pcs))
		t.sources = append(t.sources, s)
	}
}

// FDEs is the number of FDEs indexed.
func (t *Table) FDEs() int {
	n := 0
	for _, s := range t.sources {
		n += len(s.pcs)
	}
	return n
}

// Lookup returns the rules of the FDE covering vaddr (a link-time
// address of the binary), compiling them on first use, or nil when no FDE
// covers it.
func (t *Table) Lookup(vaddr uint64) *Rules {
	r, _ := t.lookup(vaddr)
	return r
}

// lookup is Lookup with the row in force at vaddr.
func (t *Table) lookup(vaddr uint64) (*Rules, *row) {
	for _, s := range t.sources {
		if r := s.lookup(t, vaddr); r != nil {
			return r, r.find(vaddr)
		}
	}
	return nil, nil
}

func (s *source) lookup(t *Table, vaddr uint64) *Rules {
	pcs := s.pcs
	lo, hi := 0, len(pcs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if pcs[m] <= vaddr {
			lo = m + 1
		} else {
			hi = m
		}
	}
	i := lo - 1
	if i < 0 {
		return nil
	}
	r := s.rules[i]
	if r == nil {
		r = noRules
		if f, err := s.sec.parseFDE(s.offs[i], s.cies); err != nil {
			t.note(err)
		} else if c, err := compileFDE(&s.sec, f, t.arch); err != nil {
			t.note(err)
		} else {
			r = c
		}
		s.rules[i] = r
	}
	if r == noRules || vaddr < r.Start || vaddr >= r.End {
		return nil
	}
	return r
}

// indexFromHdr reads .eh_frame_hdr's sorted table of (start, FDE address)
// pairs; false when there is none or it is unusable.
func (s *source) indexFromHdr(hdr *Section) bool {
	c := hdr.cursor(0)
	if c.u8() != 1 {
		return false
	}
	ptrEnc, countEnc, tableEnc := c.u8(), c.u8(), c.u8()
	b := bases{section: hdr.Addr, data: hdr.Addr}
	if _, ok := c.pointer(ptrEnc, hdr.ptrSize(), &b); !ok {
		return false
	}
	count, ok := c.pointer(countEnc, hdr.ptrSize(), &b)
	if !ok || c.bad || tableEnc == peOmit || count == 0 || count > uint64(c.left())/2 {
		return false
	}
	pcs := make([]uint64, 0, count)
	offs := make([]uint64, 0, count)
	for i := uint64(0); i < count; i++ {
		pc, ok1 := c.pointer(tableEnc, hdr.ptrSize(), &b)
		at, ok2 := c.pointer(tableEnc, hdr.ptrSize(), &b)
		if !ok1 || !ok2 || at < s.sec.Addr || at-s.sec.Addr >= uint64(len(s.sec.Data)) {
			return false
		}
		pcs = append(pcs, pc)
		offs = append(offs, at-s.sec.Addr)
	}
	if !slices.IsSorted(pcs) {
		sortIndex(pcs, offs)
	}
	s.pcs, s.offs = pcs, offs
	return true
}

// indexByScan walks every entry of the section; FDEs before a malformed
// entry stay indexed.
func (s *source) indexByScan() error {
	err := s.sec.Entries(func(f *FDE) {
		if f.End > f.Start {
			s.pcs = append(s.pcs, f.Start)
			s.offs = append(s.offs, f.Off)
		}
	})
	sortIndex(s.pcs, s.offs)
	return err
}

type byPC struct{ pcs, offs []uint64 }

func (b byPC) Len() int           { return len(b.pcs) }
func (b byPC) Less(i, j int) bool { return b.pcs[i] < b.pcs[j] }
func (b byPC) Swap(i, j int) {
	b.pcs[i], b.pcs[j] = b.pcs[j], b.pcs[i]
	b.offs[i], b.offs[j] = b.offs[j], b.offs[i]
}

func sortIndex(pcs, offs []uint64) { sort.Stable(byPC{pcs, offs}) }

// TableFromELF reads the CFI sections of a binary and, when it has none
// of its own, of its separate debug file (either may be nil).
func TableFromELF(a Arch, bin, debug *elf.File) *Table {
	sec := func(f *elf.File, name string) *Section {
		if f == nil {
			return nil
		}
		s := f.Section(name)
		if s == nil || s.Type == elf.SHT_NOBITS {
			return nil
		}
		data, err := s.Data()
		if err != nil || len(data) == 0 {
			return nil
		}
		ptr := 8
		if f.Class == elf.ELFCLASS32 {
			ptr = 4
		}
		return &Section{Name: name, Data: data, Addr: s.Addr, Order: f.ByteOrder, PtrSize: ptr}
	}
	eh := sec(bin, ".eh_frame")
	var hdr *Section
	if eh != nil {
		hdr = sec(bin, ".eh_frame_hdr")
	}
	if eh == nil {
		// Only then is the debug file's .debug_frame worth reading: it
		// describes the same code, and can be large.
		return NewTable(a, nil, nil, sec(bin, ".debug_frame"), sec(debug, ".debug_frame"))
	}
	return NewTable(a, eh, hdr, sec(bin, ".debug_frame"))
}
