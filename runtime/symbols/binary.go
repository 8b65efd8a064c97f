package symbols

import (
	"bytes"
	"debug/elf"
	"io"
	"math"
)

// binaryFile is one executable file (or the vDSO image) and what was learned
// from it. Everything past the handle is filled at the first lookup.
type binaryFile struct {
	path     string      // as the first process that mapped it saw it
	file     io.ReaderAt // nil when it could not be opened
	openedAs string      // the path that opened it, for .gnu_debuglink
	wantID   []byte      // build-id recorded at mmap time

	parsed    bool
	elf       *elf.File   // the binary; nil when unusable or replaced
	debug     *elf.File   // its separate debug file, if one was found
	debugFile io.ReaderAt // handle behind debug
	buildID   []byte
	loads     []segment
	fromDebug bool // loads came from a debug file: offsets are not real
	funcs     funcTable
	lines     *dwarfLines // nil until tried, or when there is no DWARF
	linesDone bool

	pe         *peImage // the binary is a PE image (pe.go)
	wholeImage bool     // a PE file: mapped whole, frames carry ModOffset
}

// segment is a PT_LOAD program header.
type segment struct {
	off, filesz, vaddr, memsz uint64
	exec                      bool
}

func newBinary(f io.ReaderAt, obj Object, openedAs string) *binaryFile {
	return &binaryFile{
		path:     moduleName(obj.Path),
		file:     f,
		openedAs: openedAs,
		wantID:   obj.BuildID,
	}
}

func (b *binaryFile) close(closeIt func(io.ReaderAt)) {
	if b == nil {
		return
	}
	closeIt(b.file)
	closeIt(b.debugFile)
	if b.lines != nil {
		b.lines.close()
	}
}

// pageSize is the mapping granularity the kernel used (x86-64).
const pageSize = 4096

// vaddr turns addr, inside the mapping obj, into the virtual address the
// symbol tables use. A PE image is mapped whole: the address is its
// preferred base plus the offset in the image. An ELF address goes
// through the file offset and the PT_LOAD that holds it. A debug file's
// program headers keep addresses but not offsets; then the mapping is
// taken to be the one executable PT_LOAD, which the kernel mapped from
// its page-aligned address.
func (b *binaryFile) vaddr(obj Object, addr uint64) (uint64, bool) {
	if b.pe != nil {
		rva := addr - obj.Start + obj.Pgoff
		if rva > math.MaxUint32 {
			return 0, false
		}
		return b.pe.base + rva, true
	}
	if b.fromDebug {
		for _, s := range b.loads {
			if !s.exec {
				continue
			}
			v := addr - obj.Start + s.vaddr&^(pageSize-1)
			if s.vaddr <= v && v-s.vaddr < s.memsz {
				return v, true
			}
		}
		return 0, false
	}
	fileOff := addr - obj.Start + obj.Pgoff
	for _, s := range b.loads {
		if s.off <= fileOff && fileOff-s.off < s.filesz {
			return fileOff - s.off + s.vaddr, true
		}
	}
	return 0, false
}

// parse reads the binary's headers, symbol tables and build-id, and finds
// its separate debug file. It runs once per binary; a bad file leaves the
// binary empty (every lookup unknown), counted as a failure.
func (r *Resolver) parse(b *binaryFile) {
	if b.parsed {
		return
	}
	b.parsed = true
	defer func() {
		if p := recover(); p != nil {
			r.stats.Failures++
			r.notice("panic:"+b.path, "symbols: %s: malformed file (%v); its addresses stay unresolved", b.path, p)
			b.elf, b.debug, b.loads, b.funcs, b.pe = nil, nil, nil, funcTable{}, nil
		}
	}()
	if b.file != nil && b.elf == nil && isPE(b.file) {
		r.parsePE(b)
		return
	}
	if b.file != nil && b.elf == nil { // ELF may have opened it already
		ef, err := elf.NewFile(b.file)
		if err != nil {
			r.stats.Failures++
			r.notice("elf:"+b.path, "symbols: %s: %v; its addresses stay unresolved", b.path, err)
		} else {
			b.elf = ef
		}
	}
	if b.elf != nil {
		id := buildIDOf(b.elf)
		if len(b.wantID) > 0 && len(id) > 0 && !bytes.Equal(id, b.wantID) {
			r.notice("replaced:"+b.path, "symbols: %s was replaced since it was mapped (build-id %x, the file now has %x); looking for a debug file by build-id", b.path, b.wantID, id)
			b.elf = nil
		} else {
			b.buildID = id
		}
	}
	if b.buildID == nil {
		b.buildID = b.wantID
	}
	if b.elf == nil || b.elf.Section(".symtab") == nil || (!r.opts.NoLines && !hasDWARF(b.elf)) {
		b.debug, b.debugFile = r.findDebugFile(b)
	}
	primary := b.elf
	if primary == nil {
		primary = b.debug
	}
	if primary == nil {
		return
	}
	b.loads = loadSegments(primary)
	b.fromDebug = b.elf == nil
	r.stats.Parsed++

	var syms, dyn []elf.Symbol
	if b.elf != nil {
		syms, _ = b.elf.Symbols()
		dyn, _ = b.elf.DynamicSymbols()
	}
	if len(syms) == 0 && b.debug != nil {
		syms, _ = b.debug.Symbols()
	}
	b.funcs = buildFuncTable(primary, syms, dyn)
	if len(syms) > 0 {
		return
	}
	// A stripped Go binary still has .gopclntab; its .dynsym, if any,
	// names only the C side.
	for _, ef := range []*elf.File{b.elf, b.debug} {
		if ef == nil {
			continue
		}
		if t, err := goFuncTable(ef); err == nil && t.len() > 0 {
			b.funcs = mergeFuncTables(t, b.funcs)
			break
		}
	}
}

// resolveVaddr builds the frames for one ELF virtual address: inlined
// frames and lines from DWARF when present, the outer name from the symbol
// table (which knows exported and mangled names best), else from DWARF.
func (r *Resolver) resolveVaddr(b *binaryFile, vaddr uint64) []Frame {
	var fr []Frame
	if !r.opts.NoLines {
		if dl := r.linesOf(b); dl != nil {
			fr = dl.frames(vaddr)
			if dl.failed > 0 {
				r.stats.Failures += dl.failed
				dl.failed = 0
			}
		}
	}
	if len(fr) == 0 {
		fr = []Frame{{}}
	}
	outer := &fr[len(fr)-1]
	if i := b.funcs.lookup(vaddr); i >= 0 {
		outer.Func = b.funcs.name(i)
		outer.Offset = vaddr - b.funcs.syms[i].start
	}
	return fr
}

// linesOf opens the DWARF of b (or of its debug file) once.
func (r *Resolver) linesOf(b *binaryFile) *dwarfLines {
	if b.linesDone {
		return b.lines
	}
	b.linesDone = true
	if b.pe != nil && b.pe.hasDWARF() {
		dl, err := newPEDwarfLines(b.pe.f)
		if err != nil {
			r.stats.Failures++
			r.notice("dwarf:"+b.path, "symbols: %s: DWARF unusable (%v); no inlined frames or lines", b.path, err)
			return nil
		}
		b.lines = dl
		return dl
	}
	for _, ef := range []*elf.File{b.elf, b.debug} {
		if ef == nil || !hasDWARF(ef) {
			continue
		}
		dl, err := newDwarfLines(ef, r.dwarfCache, b.buildID)
		if err != nil {
			r.stats.Failures++
			r.notice("dwarf:"+b.path, "symbols: %s: DWARF unusable (%v); no inlined frames or lines", b.path, err)
			continue
		}
		b.lines = dl
		break
	}
	return b.lines
}

func hasDWARF(ef *elf.File) bool {
	s := ef.Section(".debug_info")
	if s == nil {
		s = ef.Section(".zdebug_info")
	}
	return s != nil && s.Type != elf.SHT_NOBITS
}

// loadSegments returns the PT_LOAD headers of ef.
func loadSegments(ef *elf.File) []segment {
	var out []segment
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		out = append(out, segment{off: p.Off, filesz: p.Filesz, vaddr: p.Vaddr, memsz: p.Memsz, exec: p.Flags&elf.PF_X != 0})
	}
	return out
}

// buildIDOf returns the GNU build-id note of ef: from .note.gnu.build-id,
// else any note section (Go binaries put it where they like), else the
// PT_NOTE segments (files without section headers).
func buildIDOf(ef *elf.File) []byte {
	if s := ef.Section(".note.gnu.build-id"); s != nil {
		if id := noteBuildID(ef, s.Open(), s.Size); id != nil {
			return id
		}
	}
	for _, s := range ef.Sections {
		if s.Type == elf.SHT_NOTE && s.Name != ".note.gnu.build-id" {
			if id := noteBuildID(ef, s.Open(), s.Size); id != nil {
				return id
			}
		}
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_NOTE {
			if id := noteBuildID(ef, p.Open(), p.Filesz); id != nil {
				return id
			}
		}
	}
	return nil
}

// maxNoteBytes bounds how much of a note section is read.
const maxNoteBytes = 1 << 16

// noteBuildID scans ELF notes for NT_GNU_BUILD_ID (type 3, name "GNU").
func noteBuildID(ef *elf.File, rd io.ReadSeeker, size uint64) []byte {
	if size > maxNoteBytes {
		size = maxNoteBytes
	}
	data := make([]byte, size)
	n, _ := io.ReadFull(rd, data)
	data = data[:n]
	bo := ef.ByteOrder
	for len(data) >= 12 {
		namesz, descsz, typ := uint64(bo.Uint32(data)), uint64(bo.Uint32(data[4:])), bo.Uint32(data[8:])
		data = data[12:]
		nameEnd := align4(namesz)
		descEnd := nameEnd + align4(descsz)
		if nameEnd > uint64(len(data)) || descEnd > uint64(len(data)) || nameEnd+descsz > uint64(len(data)) {
			return nil
		}
		if typ == 3 && namesz == 4 && string(data[:4]) == "GNU\x00" && descsz > 0 {
			return append([]byte(nil), data[nameEnd:nameEnd+descsz]...)
		}
		data = data[descEnd:]
	}
	return nil
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }
