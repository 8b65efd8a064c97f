package symbols

import (
	"debug/elf"
	"debug/gosym"
	"errors"
	"sort"
)

// goFuncTable reads the functions of a Go binary from .gopclntab, which
// stays when -ldflags=-s removed .symtab (and DWARF). Names are as Go
// prints them ("main.(*T).m").
func goFuncTable(ef *elf.File) (funcTable, error) {
	sec := ef.Section(".gopclntab")
	if sec == nil || sec.Type == elf.SHT_NOBITS {
		return funcTable{}, errors.New("no .gopclntab")
	}
	data, err := sec.Data()
	if err != nil {
		return funcTable{}, err
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, goTextStart(ef, sec.Addr, data)))
	if err != nil {
		return funcTable{}, err
	}
	out := make([]funcSym, 0, len(tab.Funcs))
	for _, f := range tab.Funcs {
		if f.End <= f.Entry || f.Sym == nil {
			continue
		}
		out = append(out, funcSym{start: f.Entry, end: f.End, name: f.Name, demangled: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return funcTable{syms: out}, nil
}

// moduledataTextWord is the index, in pointer-sized words, of the text
// field in runtime.moduledata (Go 1.18 and later): pcHeader, six slices,
// findfunctab, minpc, maxpc, then text.
const moduledataTextWord = 1 + 6*3 + 3

// goTextStart returns the address function entries in pclntab are
// relative to (runtime.text). gosym needs it from the caller; without a
// symbol table it is found in runtime.firstmoduledata (in .go.module in
// recent toolchains, .noptrdata in older ones), which starts with a
// pointer to pclntab followed by a slice of its function names. Where that
// is not found, .text's start is right for internally linked binaries;
// externally linked ones (cgo) put C start-up code first.
func goTextStart(ef *elf.File, pclnAddr uint64, pcln []byte) uint64 {
	text := uint64(0)
	if s := ef.Section(".text"); s != nil {
		text = s.Addr
	}
	if len(pcln) < 8+4*8 {
		return text
	}
	ptr := int(pcln[7])
	if ptr != 4 && ptr != 8 {
		return text
	}
	bo := ef.ByteOrder
	word := func(b []byte) uint64 {
		if ptr == 4 {
			return uint64(bo.Uint32(b))
		}
		return bo.Uint64(b)
	}
	funcnameOff := word(pcln[8+3*ptr:])
	for _, name := range []string{".go.module", ".noptrdata", ".data.rel.ro", ".data"} {
		s := ef.Section(name)
		if s == nil || s.Type == elf.SHT_NOBITS || s.Size > 64<<20 {
			continue
		}
		data, err := s.Data()
		if err != nil {
			continue
		}
		need := (moduledataTextWord + 1) * ptr
		for off := 0; off+need <= len(data); off += ptr {
			if word(data[off:]) != pclnAddr || word(data[off+ptr:]) != pclnAddr+funcnameOff {
				continue
			}
			minpc := word(data[off+(moduledataTextWord-2)*ptr:])
			maxpc := word(data[off+(moduledataTextWord-1)*ptr:])
			t := word(data[off+moduledataTextWord*ptr:])
			if t != 0 && t <= minpc && minpc < maxpc {
				return t
			}
		}
	}
	return text
}
