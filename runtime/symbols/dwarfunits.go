package symbols

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
)

// dwarfSections are the DWARF sections lookups read, whole and raw. With
// them a compilation unit can be read alone (unitData): dwarf.New parses
// the abbreviation table of every unit it is given, which for libc's 2063
// units took 30-50 ms of every run that named a libc frame, where a
// profile reads a handful of units.
type dwarfSections struct {
	order                               binary.ByteOrder
	abbrev, info, line, ranges, str     []byte
	addr, lineStr, rnglists, strOffsets []byte
	aranges                             []byte
}

// readDwarfSections reads ef's DWARF sections, .debug_ or GNU's older
// .zdebug_, through the cache. release frees what the cache mapped.
func readDwarfSections(ef *elf.File, cache *dwarfCache, buildID []byte) (s *dwarfSections, release func(), err error) {
	var releases []func()
	release = func() {
		for _, r := range releases {
			r()
		}
	}
	s = &dwarfSections{order: ef.ByteOrder}
	for _, sec := range []struct {
		name string
		dst  *[]byte
	}{
		{"abbrev", &s.abbrev}, {"info", &s.info}, {"line", &s.line}, {"ranges", &s.ranges}, {"str", &s.str},
		{"addr", &s.addr}, {"line_str", &s.lineStr}, {"rnglists", &s.rnglists}, {"str_offsets", &s.strOffsets},
		{"aranges", &s.aranges},
	} {
		es := ef.Section(".debug_" + sec.name)
		if es == nil {
			es = ef.Section(".zdebug_" + sec.name) // GNU's older compression
		}
		if es == nil || es.Type == elf.SHT_NOBITS {
			continue
		}
		data, rel, err := cache.section(es, buildID) // debug/elf inflates .zdebug_
		releases = append(releases, rel)
		if err != nil {
			release()
			return nil, func() {}, fmt.Errorf("%s: %w", es.Name, err)
		}
		*sec.dst = data
	}
	return s, release, nil
}

// debugLine returns the .debug_line that data's line tables are read from.
func (s *dwarfSections) debugLine() debugLine {
	return debugLine{data: s.line, order: s.order}
}

// data returns a dwarf.Data over info: the whole .debug_info, or the
// bytes of one unit, whose offsets then count from its start.
func (s *dwarfSections) data(info []byte) (*dwarf.Data, error) {
	d, err := dwarf.New(s.abbrev, nil, nil, info, s.line, nil, s.ranges, s.str)
	if err != nil {
		return nil, err
	}
	for _, sec := range []struct {
		name string
		data []byte
	}{{".debug_addr", s.addr}, {".debug_line_str", s.lineStr}, {".debug_rnglists", s.rnglists}, {".debug_str_offsets", s.strOffsets}} {
		if sec.data != nil {
			if err := d.AddSection(sec.name, sec.data); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

// unitAlone returns the bytes of the unit whose header is at off in
// .debug_info, and the offset of its first DIE; alone is false when the
// unit refers to DIEs of other units (DW_FORM_ref_addr, as dwz and LTO
// write), so that it can only be read with the whole section.
func (s *dwarfSections) unitAlone(off uint64) (unit []byte, die uint64, alone bool, err error) {
	h, err := parseUnitHeader(s.info, off, s.order)
	if err != nil {
		return nil, 0, false, err
	}
	cross, err := crossUnitForms(s.abbrev, h.abbrevOff)
	if err != nil {
		return nil, 0, false, err
	}
	return s.info[off:h.end], h.die, !cross, nil
}

// unitHeader is what lookups need of a unit's header.
type unitHeader struct {
	die       uint64 // offset of the unit's first DIE
	end       uint64 // offset just past the unit
	abbrevOff uint64
}

func parseUnitHeader(info []byte, off uint64, order binary.ByteOrder) (unitHeader, error) {
	bad := func(what string) (unitHeader, error) {
		return unitHeader{}, fmt.Errorf("unit at %#x: %s", off, what)
	}
	b := dwarfBuf{data: info, off: off, order: order}
	length, dwarf64 := b.initialLength()
	if b.err != nil {
		return bad("truncated length")
	}
	end := b.off + length
	if end < b.off || end > uint64(len(info)) {
		return bad("length past the section")
	}
	version := b.u16()
	switch {
	case version >= 2 && version <= 4:
		abbrev := b.offset(dwarf64)
		b.u8() // address size
		if b.err != nil || b.off > end {
			return bad("truncated header")
		}
		return unitHeader{die: b.off, end: end, abbrevOff: abbrev}, nil
	case version == 5:
		unitType := b.u8()
		b.u8() // address size
		abbrev := b.offset(dwarf64)
		switch unitType {
		case 2, 6: // type units: a signature and a type offset
			b.u64()
			b.offset(dwarf64)
		case 4, 5: // skeleton and split units: a DWO id
			b.u64()
		}
		if b.err != nil || b.off > end {
			return bad("truncated header")
		}
		return unitHeader{die: b.off, end: end, abbrevOff: abbrev}, nil
	}
	return bad(fmt.Sprintf("DWARF version %d", version))
}

// DWARF forms that matter to reading a unit alone.
const (
	formRefAddr      = 0x10
	formIndirect     = 0x16 // names its form in the DIE: may be a ref_addr
	formImplicitCons = 0x21 // carries a value in the abbreviation
	formGNURefAlt    = 0x1f20
)

// crossUnitForms reports whether the abbreviation table at off uses a
// form that can refer into another unit.
func crossUnitForms(abbrev []byte, off uint64) (bool, error) {
	b := dwarfBuf{data: abbrev, off: off}
	for {
		code := b.uleb()
		if b.err != nil {
			return false, fmt.Errorf("abbreviations at %#x: truncated", off)
		}
		if code == 0 {
			return false, nil
		}
		b.uleb() // tag
		b.u8()   // children
		for {
			attr, form := b.uleb(), b.uleb()
			if b.err != nil {
				return false, fmt.Errorf("abbreviations at %#x: truncated", off)
			}
			if attr == 0 && form == 0 {
				break
			}
			switch form {
			case formRefAddr, formIndirect, formGNURefAlt:
				return true, nil
			case formImplicitCons:
				b.uleb() // signed; only skipped
			}
		}
	}
}

// parseAranges reads .debug_aranges: address ranges with the offset of
// the unit each belongs to (in cuRange.unit, as an offset). Ranges at
// address 0 (the code of functions the linker dropped) are left out.
func parseAranges(data []byte, order binary.ByteOrder) ([]arange, error) {
	var out []arange
	b := dwarfBuf{data: data, order: order}
	for b.off < uint64(len(data)) {
		start := b.off
		length, dwarf64 := b.initialLength()
		end := b.off + length
		if b.err != nil || end < b.off || end > uint64(len(data)) {
			return nil, fmt.Errorf("aranges set at %#x: bad length", start)
		}
		version := b.u16()
		unit := b.offset(dwarf64)
		addrSize, segSize := b.u8(), b.u8()
		if b.err != nil || version != 2 || (addrSize != 4 && addrSize != 8) || segSize != 0 {
			return nil, fmt.Errorf("aranges set at %#x: unsupported header (version %d, address size %d, segment size %d)", start, version, addrSize, segSize)
		}
		// Tuples start at a multiple of their size from the set's start.
		tuple := 2 * uint64(addrSize)
		if rem := (b.off - start) % tuple; rem != 0 {
			b.off += tuple - rem
		}
		for b.off+tuple <= end {
			lo, n := b.addr(addrSize), b.addr(addrSize)
			if lo == 0 && n == 0 {
				break
			}
			if lo != 0 && n != 0 && lo+n > lo {
				out = append(out, arange{lo: lo, hi: lo + n, unit: unit})
			}
		}
		if b.err != nil {
			return nil, fmt.Errorf("aranges set at %#x: truncated", start)
		}
		b.off = end
	}
	return out, nil
}

type arange struct{ lo, hi, unit uint64 }

// dwarfBuf reads DWARF encodings with bounds checks; the first overrun
// sets err and every later read returns 0.
type dwarfBuf struct {
	data  []byte
	off   uint64
	order binary.ByteOrder
	err   error
}

var errDwarfShort = errors.New("truncated")

func (b *dwarfBuf) bytes(n uint64) []byte {
	if b.err != nil || n > uint64(len(b.data)) || b.off > uint64(len(b.data))-n {
		b.err = errDwarfShort
		return nil
	}
	p := b.data[b.off : b.off+n]
	b.off += n
	return p
}

func (b *dwarfBuf) u8() uint8 {
	if p := b.bytes(1); p != nil {
		return p[0]
	}
	return 0
}

func (b *dwarfBuf) u16() uint16 {
	if p := b.bytes(2); p != nil {
		return b.order.Uint16(p)
	}
	return 0
}

func (b *dwarfBuf) u32() uint32 {
	if p := b.bytes(4); p != nil {
		return b.order.Uint32(p)
	}
	return 0
}

func (b *dwarfBuf) u64() uint64 {
	if p := b.bytes(8); p != nil {
		return b.order.Uint64(p)
	}
	return 0
}

func (b *dwarfBuf) addr(size uint8) uint64 {
	if size == 4 {
		return uint64(b.u32())
	}
	return b.u64()
}

// initialLength reads a unit length, 32- or 64-bit DWARF.
func (b *dwarfBuf) initialLength() (length uint64, dwarf64 bool) {
	n := b.u32()
	if n == 0xffffffff {
		return b.u64(), true
	}
	if n >= 0xfffffff0 {
		b.err = errors.New("reserved unit length")
		return 0, false
	}
	return uint64(n), false
}

func (b *dwarfBuf) offset(dwarf64 bool) uint64 {
	if dwarf64 {
		return b.u64()
	}
	return uint64(b.u32())
}

func (b *dwarfBuf) uleb() uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		p := b.bytes(1)
		if p == nil {
			return 0
		}
		if shift < 64 {
			v |= uint64(p[0]&0x7f) << shift
		}
		if p[0]&0x80 == 0 {
			return v
		}
	}
}
