package symbols

import (
	"bytes"
	"debug/elf"
	"io"
)

// ELF returns the ELF file behind the mapping obj, or nil, for the
// unwinder (runtime/unwind), which reads its CFI sections. Every mapping
// of one binary gets the same *elf.File, shared with symbolization.
//
// It is cheap: it reads the file's headers and leaves symbol tables and
// debug files for the first symbol lookup, so a sampled binary costs the
// unwinder no symbol parsing (tens of milliseconds for a large binary,
// while the rings fill). A file replaced since it was mapped (another
// build-id) gives nil: its CFI would describe other code. debug is
// returned when parsing already found a separate debug file.
func (r *Resolver) ELF(obj Object) (bin, debug *elf.File) {
	b := r.binaryFor(obj)
	if b == nil {
		return nil, nil
	}
	if b.parsed {
		return b.elf, b.debug
	}
	if b.elf == nil && b.file != nil {
		b.elf = openELF(b.file) // parse reuses it
	}
	if b.elf == nil {
		return nil, nil
	}
	if id := buildIDOf(b.elf); len(b.wantID) > 0 && len(id) > 0 && !bytes.Equal(id, b.wantID) {
		return nil, nil // parse will say so when a frame is named
	}
	return b.elf, nil
}

// openELF reads an ELF file's headers, or returns nil (parse reports why).
func openELF(f io.ReaderAt) (ef *elf.File) {
	defer func() {
		if recover() != nil {
			ef = nil
		}
	}()
	ef, err := elf.NewFile(f)
	if err != nil {
		return nil
	}
	return ef
}
