package procfs

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Limits that keep a corrupt or hostile file from making readBuildID read
// much: real files have about a dozen program headers, a few dozen
// sections, notes of a few hundred bytes, and build-ids of 16 or 20 bytes.
const (
	maxTableEntries = 1024
	maxTableEntry   = 1024
	maxNotes        = 64 << 10
	maxBuildID      = 64
	ntGNUBuildID    = 3 // NT_GNU_BUILD_ID
)

// FormatError says what is wrong in an ELF file and where.
type FormatError struct {
	Off int64
	Msg string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("procfs: ELF at offset %#x: %s", e.Off, e.Msg)
}

// elfFile is what readBuildID needs of an ELF header: where the program
// and section header tables are.
type elfFile struct {
	r     io.ReaderAt
	order binary.ByteOrder
	is64  bool

	phoff, shoff         uint64
	phentsize, shentsize int
	phnum, shnum         int
}

// noteArea is a PT_NOTE segment or SHT_NOTE section.
type noteArea struct {
	off, size, align uint64
}

// readBuildID returns the GNU build-id (the desc of the NT_GNU_BUILD_ID
// note that linkers put in .note.gnu.build-id) of the ELF file r. It reads
// the ELF header, the program headers and the PT_NOTE segments, a few
// hundred bytes at the start of the file; only when they hold no build-id
// does it read the section headers and the SHT_NOTE sections, because Go's
// linker places .note.gnu.build-id outside any PT_NOTE. A file that is not
// ELF, or has no such note, gives nil, nil.
func readBuildID(r io.ReaderAt) ([]byte, error) {
	f, err := readELFHeader(r)
	if f == nil || err != nil {
		return nil, err
	}
	seen := map[uint64]bool{}
	for _, sections := range []bool{false, true} {
		areas, err := f.noteAreas(sections)
		if err != nil {
			return nil, err
		}
		for _, a := range areas {
			if seen[a.off] || a.size > maxNotes {
				continue
			}
			seen[a.off] = true
			notes := make([]byte, a.size)
			if _, err := r.ReadAt(notes, int64(a.off)); err != nil {
				return nil, readError(err, int64(a.off), "notes")
			}
			id, err := findBuildID(notes, f.order, a.align, int64(a.off))
			if id != nil || err != nil {
				return id, err
			}
		}
	}
	return nil, nil
}

// readELFHeader reads the ELF header of r; nil, nil when r is not ELF.
func readELFHeader(r io.ReaderAt) (*elfFile, error) {
	var hdr [64]byte
	n, err := r.ReadAt(hdr[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("procfs: reading ELF header: %w", err)
	}
	if n < 16 || string(hdr[:4]) != elf.ELFMAG {
		return nil, nil
	}
	f := &elfFile{r: r}
	switch elf.Data(hdr[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		f.order = binary.LittleEndian
	case elf.ELFDATA2MSB:
		f.order = binary.BigEndian
	default:
		return nil, &FormatError{elf.EI_DATA, fmt.Sprintf("unknown data encoding %d", hdr[elf.EI_DATA])}
	}
	o := f.order
	switch elf.Class(hdr[elf.EI_CLASS]) {
	case elf.ELFCLASS64:
		if n < 64 {
			return nil, &FormatError{int64(n), "file ends inside the ELF header"}
		}
		f.is64 = true
		f.phoff, f.shoff = o.Uint64(hdr[0x20:]), o.Uint64(hdr[0x28:])
		f.phentsize, f.phnum = int(o.Uint16(hdr[0x36:])), int(o.Uint16(hdr[0x38:]))
		f.shentsize, f.shnum = int(o.Uint16(hdr[0x3a:])), int(o.Uint16(hdr[0x3c:]))
	case elf.ELFCLASS32:
		if n < 52 {
			return nil, &FormatError{int64(n), "file ends inside the ELF header"}
		}
		f.phoff, f.shoff = uint64(o.Uint32(hdr[0x1c:])), uint64(o.Uint32(hdr[0x20:]))
		f.phentsize, f.phnum = int(o.Uint16(hdr[0x2a:])), int(o.Uint16(hdr[0x2c:]))
		f.shentsize, f.shnum = int(o.Uint16(hdr[0x2e:])), int(o.Uint16(hdr[0x30:]))
	default:
		return nil, &FormatError{elf.EI_CLASS, fmt.Sprintf("unknown class %d", hdr[elf.EI_CLASS])}
	}
	return f, nil
}

// noteAreas reads the program header table, or the section header table,
// and returns its notes. The two tables differ only in entry layout.
func (f *elfFile) noteAreas(sections bool) ([]noteArea, error) {
	phdrSize, shdrSize := 0x20, 0x28 // Elf32_Phdr, Elf32_Shdr
	if f.is64 {
		phdrSize, shdrSize = 0x38, 0x40
	}
	off, entsize, num, what, minSize := f.phoff, f.phentsize, f.phnum, "program headers", phdrSize
	if sections {
		off, entsize, num, what, minSize = f.shoff, f.shentsize, f.shnum, "section headers", shdrSize
	}
	if num == 0 || off == 0 {
		return nil, nil
	}
	if entsize < minSize || entsize > maxTableEntry || num > maxTableEntries || off > 1<<40 {
		return nil, &FormatError{int64(min(off, 1<<40)), fmt.Sprintf("implausible %s: %d of %d bytes", what, num, entsize)}
	}
	table := make([]byte, num*entsize)
	if _, err := f.r.ReadAt(table, int64(off)); err != nil {
		return nil, readError(err, int64(off), what)
	}
	o := f.order
	var areas []noteArea
	for i := range num {
		e := table[i*entsize:]
		var typ uint32
		var a noteArea
		switch {
		case !sections && f.is64:
			typ, a = o.Uint32(e), noteArea{o.Uint64(e[0x08:]), o.Uint64(e[0x20:]), o.Uint64(e[0x30:])}
		case !sections:
			typ, a = o.Uint32(e), noteArea{uint64(o.Uint32(e[0x04:])), uint64(o.Uint32(e[0x10:])), uint64(o.Uint32(e[0x1c:]))}
		case f.is64:
			typ, a = o.Uint32(e[0x04:]), noteArea{o.Uint64(e[0x18:]), o.Uint64(e[0x20:]), o.Uint64(e[0x30:])}
		default:
			typ, a = o.Uint32(e[0x04:]), noteArea{uint64(o.Uint32(e[0x10:])), uint64(o.Uint32(e[0x14:])), uint64(o.Uint32(e[0x20:]))}
		}
		isNote := typ == uint32(elf.PT_NOTE)
		if sections {
			isNote = typ == uint32(elf.SHT_NOTE)
		}
		if isNote && a.off <= 1<<40 {
			areas = append(areas, a)
		}
	}
	return areas, nil
}

// findBuildID walks the notes of one PT_NOTE segment or SHT_NOTE section
// found at file offset base. A note's desc and the next note start at
// multiples of 4 bytes, or of 8 in areas aligned to 8 (such as
// .note.gnu.property).
func findBuildID(notes []byte, order binary.ByteOrder, align uint64, base int64) ([]byte, error) {
	pad := uint64(4)
	if align == 8 {
		pad = 8
	}
	roundUp := func(v uint64) uint64 { return (v + pad - 1) &^ (pad - 1) }
	for off := uint64(0); off < uint64(len(notes)); {
		rest := notes[off:]
		if len(rest) < 12 {
			return nil, &FormatError{base + int64(off), "note header runs past the notes"}
		}
		namesz, descsz, typ := uint64(order.Uint32(rest)), uint64(order.Uint32(rest[4:])), order.Uint32(rest[8:])
		descOff := roundUp(12 + namesz)
		if descOff+descsz > uint64(len(rest)) {
			return nil, &FormatError{base + int64(off), fmt.Sprintf("note of %d+%d bytes runs past the notes", namesz, descsz)}
		}
		if typ == ntGNUBuildID && bytes.Equal(rest[12:12+namesz], []byte("GNU\x00")) {
			if descsz == 0 || descsz > maxBuildID {
				return nil, &FormatError{base + int64(off), fmt.Sprintf("build-id of %d bytes", descsz)}
			}
			return bytes.Clone(rest[descOff : descOff+descsz]), nil
		}
		off += roundUp(descOff + descsz)
	}
	return nil, nil
}

func readError(err error, off int64, what string) error {
	if errors.Is(err, io.EOF) {
		return &FormatError{off, what + " run past the end of the file"}
	}
	return fmt.Errorf("procfs: reading ELF %s at %#x: %w", what, off, err)
}
