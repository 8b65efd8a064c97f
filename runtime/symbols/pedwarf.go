package symbols

import (
	"bytes"
	"compress/zlib"
	"debug/dwarf"
	"debug/pe"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// readPEDwarfSections reads the DWARF sections of a PE image that lookups
// use (not .debug_types or .debug_loclists) the way pe.File.DWARF reads
// them: .debug_x or .zdebug_x (the last of either name), cut to the
// section's virtual size, inflated when it starts with "ZLIB" (Go writes
// its Windows DWARF that way), but without trusting the size the ZLIB
// header claims (inflateZLIB).
func readPEDwarfSections(f *pe.File) (*dwarfSections, error) {
	s := &dwarfSections{order: binary.LittleEndian}
	dst := map[string]*[]byte{
		"abbrev": &s.abbrev, "info": &s.info, "line": &s.line, "ranges": &s.ranges, "str": &s.str,
		"addr": &s.addr, "line_str": &s.lineStr, "rnglists": &s.rnglists, "str_offsets": &s.strOffsets,
	}
	for _, sec := range f.Sections {
		name, ok := strings.CutPrefix(sec.Name, ".debug_")
		if !ok {
			name, ok = strings.CutPrefix(sec.Name, ".zdebug_")
		}
		p := dst[name]
		if !ok || p == nil {
			continue
		}
		data, err := peDwarfSection(sec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sec.Name, err)
		}
		*p = data
	}
	return s, nil
}

// peDwarfSection returns the contents of one DWARF section of a PE image.
func peDwarfSection(s *pe.Section) ([]byte, error) {
	b, err := s.Data()
	if err != nil && uint32(len(b)) < s.Size {
		return nil, err
	}
	if 0 < s.VirtualSize && s.VirtualSize < s.Size {
		b = b[:s.VirtualSize]
	}
	return inflateZLIB(b)
}

// inflateZLIB returns the contents of a GNU-compressed DWARF section
// (.zdebug_*: "ZLIB", the inflated size big-endian in 8 bytes, then a
// zlib stream), or b itself when it is not one. The buffer grows only as
// data inflates: pe.File.DWARF allocates the size the header claims, so a
// damaged header that claimed a terabyte killed the process with a fatal
// out-of-memory error. (debug/elf inflates .zdebug_ sections itself,
// growing as it reads.)
func inflateZLIB(b []byte) ([]byte, error) {
	if len(b) < 12 || string(b[:4]) != "ZLIB" {
		return b, nil
	}
	size := binary.BigEndian.Uint64(b[4:12])
	zr, err := zlib.NewReader(bytes.NewReader(b[12:]))
	if err != nil {
		return nil, err
	}
	// DWARF deflates to a third or a quarter of its size: start there.
	out := bytes.NewBuffer(make([]byte, 0, min(size, 4*uint64(len(b)))))
	if _, err := out.ReadFrom(io.LimitReader(zr, int64(min(size, 1<<62)))); err != nil {
		return nil, err
	}
	if uint64(out.Len()) != size {
		return nil, fmt.Errorf("inflates to %d bytes, not the %d its header says", out.Len(), size)
	}
	if err := zr.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// newPEDwarfLines indexes a PE image's DWARF, read by
// readPEDwarfSections, by walking every unit's first DIE.
func newPEDwarfLines(f *pe.File) (*dwarfLines, error) {
	secs, err := readPEDwarfSections(f)
	if err != nil {
		return nil, err
	}
	return newDwarfLinesFrom(func() (*dwarf.Data, error) { return secs.data(secs.info) }, secs)
}
