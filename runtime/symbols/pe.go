package symbols

import (
	"bytes"
	"cmp"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// PE images (Windows executables and DLLs, from ETW captures) are named
// from what the image itself holds: its export directory (every DLL has
// one: the names other modules link against) and, when the linker kept
// it, its COFF symbol table (Go and mingw builds keep one; MSVC's never
// does), plus DWARF for inlined frames and lines when present (Go and
// mingw again). MSVC-built images keep their other names in a PDB file,
// which otrace does not read: the CodeView record that names the PDB is
// kept as the image's build-id, so a frame's module+offset and that id
// are enough to name it later with Microsoft's tools.
//
// ETW reports where each image was loaded and how big it is: an image is
// mapped whole, so an address's offset from the load address is its
// RVA, whatever the sections' alignment.

// peImage is what was read of one PE file.
type peImage struct {
	f        *pe.File
	base     uint64 // the preferred image base: DWARF's addresses are base+RVA
	sections []peSection
	dirs     []pe.DataDirectory
	id       []byte // CodeView: GUID || age; nil without an RSDS record
	pdb      string
}

type peSection struct {
	va, vsize, off, rawSize uint32
	exec                    bool
}

// span is how much of the image the section covers once loaded.
func (s peSection) span() uint32 {
	if s.vsize != 0 {
		return s.vsize
	}
	return s.rawSize
}

// Data directory indexes (winnt.h IMAGE_DIRECTORY_ENTRY_*).
const (
	dirExport = 0
	dirDebug  = 6
)

const (
	imageDebugTypeCodeView = 2
	// Bounds on what a malformed file can make the parser read.
	maxExports       = 1 << 20
	maxExportBytes   = 64 << 20
	maxPENameLen     = 4096
	maxDebugEntries  = 64
	maxCodeViewBytes = 4096
)

// isPE reports whether r starts with the DOS header's "MZ".
func isPE(r io.ReaderAt) bool {
	var b [2]byte
	n, _ := r.ReadAt(b[:], 0)
	return n == 2 && string(b[:]) == "MZ"
}

// openPE reads a PE image's headers, sections and CodeView identity.
// Symbol names are read by funcs.
func openPE(r io.ReaderAt) (p *peImage, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			p, err = nil, fmt.Errorf("malformed PE file: %v", rec)
		}
	}()
	f, err := pe.NewFile(r)
	if err != nil {
		// debug/pe gives up on a damaged COFF symbol table; the exports
		// and DWARF may still be fine: read again without it.
		var ferr error
		if f, ferr = pe.NewFile(withoutCOFFSymbols(r)); ferr != nil {
			return nil, err
		}
	}
	p = &peImage{f: f}
	var sizeOfImage uint32
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader64:
		p.base, sizeOfImage = oh.ImageBase, oh.SizeOfImage
		p.dirs = oh.DataDirectory[:min(oh.NumberOfRvaAndSizes, uint32(len(oh.DataDirectory)))]
	case *pe.OptionalHeader32:
		p.base, sizeOfImage = uint64(oh.ImageBase), oh.SizeOfImage
		p.dirs = oh.DataDirectory[:min(oh.NumberOfRvaAndSizes, uint32(len(oh.DataDirectory)))]
	default:
		return nil, errors.New("a COFF object file, not an image (no optional header)")
	}
	if p.base > math.MaxUint64-uint64(sizeOfImage)-math.MaxUint32 {
		p.base = 0 // base+RVA would wrap: a corrupt header
	}
	for _, s := range f.Sections {
		p.sections = append(p.sections, peSection{va: s.VirtualAddress, vsize: s.VirtualSize, off: s.Offset, rawSize: s.Size,
			exec: s.Characteristics&(pe.IMAGE_SCN_CNT_CODE|pe.IMAGE_SCN_MEM_EXECUTE) != 0})
	}
	p.id, p.pdb = p.codeView(r)
	return p, nil
}

// withoutCOFFSymbols reads r as a PE image whose file header says it has
// no COFF symbol table (PointerToSymbolTable and NumberOfSymbols zero).
func withoutCOFFSymbols(r io.ReaderAt) io.ReaderAt {
	var b [4]byte
	if n, _ := r.ReadAt(b[:], 0x3c); n < 4 {
		return r
	}
	// The PE signature, then the file header: the two fields are at
	// offsets 8 and 12 of it.
	at := int64(binary.LittleEndian.Uint32(b[:])) + 4 + 8
	return &maskedReader{r: r, off: at, n: 8}
}

// maskedReader reads zeros in [off, off+n) of r.
type maskedReader struct {
	r      io.ReaderAt
	off, n int64
}

func (m *maskedReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := m.r.ReadAt(p, off)
	for i := max(m.off, off); i < min(m.off+m.n, off+int64(n)); i++ {
		p[i-off] = 0
	}
	return n, err
}

// readRVA reads up to n bytes of the loaded image at rva, from the file:
// fewer where the section's data ends (the rest is zeros in memory, and
// nothing otrace reads lives there), none outside every section.
func (p *peImage) readRVA(r io.ReaderAt, rva uint32, n int) []byte {
	for _, s := range p.sections {
		if rva < s.va || rva-s.va >= s.span() {
			continue
		}
		d := rva - s.va
		if d >= s.rawSize {
			return nil
		}
		n = min(n, int(s.rawSize-d))
		buf := make([]byte, n)
		m, _ := r.ReadAt(buf, int64(s.off)+int64(d))
		return buf[:m]
	}
	return nil
}

// codeView returns the image's identity from its debug directory's
// CodeView entry (an "RSDS" record: PDB GUID, age, PDB path), the key
// Windows symbol stores file the image's PDB under. The GUID is kept in
// the order its text form shows (Data1, Data2 and Data3 big-endian), then
// the age big-endian, so the build-id's hex is the symbol store key with
// the age zero-padded: 293bc76fe77a9e548ac6f8ef4a6b18be00000001 for
// tiny.pdb/293BC76FE77A9E548AC6F8EF4A6B18BE1/tiny.pdb.
func (p *peImage) codeView(r io.ReaderAt) ([]byte, string) {
	if len(p.dirs) <= dirDebug || p.dirs[dirDebug].Size == 0 {
		return nil, ""
	}
	dd := p.dirs[dirDebug]
	n := min(dd.Size/28, maxDebugEntries)
	ents := p.readRVA(r, dd.VirtualAddress, int(n*28))
	le := binary.LittleEndian
	for ; len(ents) >= 28; ents = ents[28:] {
		if le.Uint32(ents[12:]) != imageDebugTypeCodeView {
			continue
		}
		size, rva, ptr := min(le.Uint32(ents[16:]), maxCodeViewBytes), le.Uint32(ents[20:]), le.Uint32(ents[24:])
		var data []byte
		if ptr != 0 {
			data = make([]byte, size)
			m, _ := r.ReadAt(data, int64(ptr))
			data = data[:m]
		} else {
			data = p.readRVA(r, rva, int(size))
		}
		if len(data) < 24 || string(data[:4]) != "RSDS" {
			continue // NB10 (a VC6-era PDB) or garbage
		}
		g := data[4:20]
		id := []byte{g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6]}
		id = append(id, g[8:16]...)
		id = binary.BigEndian.AppendUint32(id, le.Uint32(data[20:]))
		pdb := data[24:]
		if i := bytes.IndexByte(pdb, 0); i >= 0 {
			pdb = pdb[:i]
		}
		return id, string(pdb)
	}
	return nil, ""
}

// peSym is a name for an RVA, from the export directory or the COFF
// symbol table; rank orders names of one address, lowest first.
type peSym struct {
	rva  uint32
	rank int
	name string
}

const (
	rankExport = iota // the name callers link against
	rankCOFFGlobal
	rankCOFFStatic
)

// exports reads the export directory's named entry points; forwarders
// (an export that names a function of another DLL: its RVA points inside
// the export directory, at the target's name) have no code here.
// Exports known only by ordinal have no name to give.
func (p *peImage) exports(r io.ReaderAt) []peSym {
	if len(p.dirs) <= dirExport || p.dirs[dirExport].Size == 0 {
		return nil
	}
	dd := p.dirs[dirExport]
	blob := p.readRVA(r, dd.VirtualAddress, int(min(dd.Size, maxExportBytes)))
	if len(blob) < 40 {
		return nil
	}
	// The tables and names normally lie inside the directory: read
	// from the blob, from the file otherwise.
	at := func(rva uint32, n int) []byte {
		if off := uint64(rva) - uint64(dd.VirtualAddress); rva >= dd.VirtualAddress && off < uint64(len(blob)) {
			return blob[off:min(uint64(len(blob)), off+uint64(n))]
		}
		return p.readRVA(r, rva, n)
	}
	le := binary.LittleEndian
	nFuncs, nNames := min(le.Uint32(blob[20:]), maxExports), min(le.Uint32(blob[24:]), maxExports)
	funcs := at(le.Uint32(blob[28:]), int(4*nFuncs))
	names := at(le.Uint32(blob[32:]), int(4*nNames))
	ords := at(le.Uint32(blob[36:]), int(2*nNames))
	var out []peSym
	for i := 0; 4*i+4 <= len(names) && 2*i+2 <= len(ords); i++ {
		ord := int(le.Uint16(ords[2*i:]))
		if 4*ord+4 > len(funcs) {
			continue
		}
		rva := le.Uint32(funcs[4*ord:])
		if rva == 0 || (rva >= dd.VirtualAddress && rva-dd.VirtualAddress < dd.Size) {
			continue
		}
		name := at(le.Uint32(names[4*i:]), maxPENameLen)
		end := bytes.IndexByte(name, 0)
		if end <= 0 {
			continue
		}
		out = append(out, peSym{rva: rva, rank: rankExport, name: string(name[:end])})
	}
	return out
}

// coffSymbols returns the COFF symbol table's functions: symbols of
// function type (Go and gcc mark theirs) in an executable section. The
// linkers' own markers (__CTOR_LIST__, __end__...) are untyped, and a
// section or file symbol is not a function.
func (p *peImage) coffSymbols() []peSym {
	var out []peSym
	for _, s := range p.f.Symbols {
		if s.Type&0x30 != 0x20 || s.SectionNumber < 1 || int(s.SectionNumber) > len(p.sections) {
			continue
		}
		rank := rankCOFFGlobal
		switch s.StorageClass {
		case 2: // IMAGE_SYM_CLASS_EXTERNAL
		case 3: // IMAGE_SYM_CLASS_STATIC
			rank = rankCOFFStatic
		default:
			continue
		}
		sec := p.sections[s.SectionNumber-1]
		if !sec.exec || s.Value >= sec.span() || s.Name == "" {
			continue
		}
		name := s.Name
		if p.f.Machine == pe.IMAGE_FILE_MACHINE_I386 {
			name = undecorate386(name)
		}
		out = append(out, peSym{rva: sec.va + s.Value, rank: rank, name: name})
	}
	return out
}

// undecorate386 drops what 32-bit x86 C compilers add to a name: the
// leading underscore and a stdcall suffix ("_Sleep@4" is Sleep).
func undecorate386(s string) string {
	s = strings.TrimPrefix(s, "_")
	if i := strings.LastIndexByte(s, '@'); i > 0 && strings.Trim(s[i+1:], "0123456789") == "" && i+1 < len(s) {
		s = s[:i]
	}
	return s
}

// execSectionAt returns the executable section holding rva.
func (p *peImage) execSectionAt(rva uint32) (peSection, bool) {
	for _, s := range p.sections {
		if s.exec && rva >= s.va && rva-s.va < s.span() {
			return s, true
		}
	}
	return peSection{}, false
}

// funcTable turns names into functions at base+RVA: one name per
// address (exports first, then global, then static COFF names), each
// function reaching to the next name or the end of its section, as PE
// names carry no sizes. Names outside executable sections (exported
// data) are dropped.
func (p *peImage) funcTable(syms []peSym) funcTable {
	slices.SortFunc(syms, func(a, b peSym) int {
		return cmp.Or(cmp.Compare(a.rva, b.rva), cmp.Compare(a.rank, b.rank), cmp.Compare(a.name, b.name))
	})
	syms = slices.CompactFunc(syms, func(a, b peSym) bool { return a.rva == b.rva })
	out := make([]funcSym, 0, len(syms))
	for i, s := range syms {
		sec, ok := p.execSectionAt(s.rva)
		if !ok {
			continue
		}
		end := uint64(sec.va) + uint64(sec.span())
		if i+1 < len(syms) {
			end = min(end, uint64(syms[i+1].rva))
		}
		out = append(out, funcSym{start: p.base + uint64(s.rva), end: p.base + end, name: s.name})
	}
	return funcTable{syms: out}
}

// hasDWARF reports whether the image carries DWARF (Go and mingw builds
// do unless stripped).
func (p *peImage) hasDWARF() bool {
	for _, s := range p.f.Sections {
		if s.Name == ".debug_info" || s.Name == ".zdebug_info" {
			return true
		}
	}
	return false
}

// parsePE fills b from the PE image behind it. A file whose CodeView
// identity differs from the one recorded at load time is another build:
// its names would be wrong, so its frames stay module+offset.
func (r *Resolver) parsePE(b *binaryFile) {
	b.wholeImage = true
	p, err := openPE(b.file)
	b.buildID = b.wantID
	if err != nil {
		r.stats.Failures++
		r.notice("pe:"+b.path, "symbols: %s: %v; its frames show as module+offset", b.path, err)
		return
	}
	if len(b.wantID) > 0 && len(p.id) > 0 && !bytes.Equal(p.id, b.wantID) {
		r.notice("replaced:"+b.path, "symbols: %s is not the image that was loaded (CodeView id %x, the file has %x); its frames show as module+offset", b.path, b.wantID, p.id)
		return
	}
	if len(p.id) > 0 {
		b.buildID = p.id
	}
	b.pe = p
	r.stats.Parsed++
	coff := p.coffSymbols()
	b.funcs = p.funcTable(append(p.exports(b.file), coff...))
	if len(coff) == 0 {
		r.notice("pdb", "symbols: Windows images are named from their exports (and COFF symbols, when a build keeps them); PDB files are not read, so addresses between exports show as the export before them plus an offset")
	}
}

// ReadPEIdentity reads the CodeView identity of the PE image in r: the
// build-id (PDB GUID || age, as codeView lays it out) and the PDB path the
// linker wrote. It returns an error when r is not a PE image, and a nil
// id when the image has no RSDS record. Collectors record the id with
// the image's mapping, as perf records an ELF file's build-id.
func ReadPEIdentity(r io.ReaderAt) (buildID []byte, pdb string, err error) {
	if !isPE(r) {
		return nil, "", errors.New("not a PE image (no MZ header)")
	}
	p, err := openPE(r)
	if err != nil {
		return nil, "", err
	}
	return p.id, p.pdb, nil
}
