package symbols

import (
	"cmp"
	"debug/elf"
	"slices"
	"sort"
	"strings"
)

// funcTable is a binary's functions sorted by start address, one entry per
// start, searched with a binary search.
type funcTable struct {
	syms []funcSym
}

type funcSym struct {
	start, end uint64
	name       string // raw until demangled is set
	demangled  bool
}

func (t *funcTable) len() int { return len(t.syms) }

// lookup returns the index of the function holding addr, or -1.
func (t *funcTable) lookup(addr uint64) int {
	i := sort.Search(len(t.syms), func(i int) bool { return t.syms[i].start > addr }) - 1
	if i < 0 || addr >= t.syms[i].end {
		return -1
	}
	return i
}

// name returns the demangled name of function i, demangling it once.
func (t *funcTable) name(i int) string {
	s := &t.syms[i]
	if !s.demangled {
		s.name = demangleName(s.name)
		s.demangled = true
	}
	return s.name
}

// lastSymbolSpan bounds a size-0 symbol that has no successor and no
// section around it.
const lastSymbolSpan = 4096

type funcCandidate struct {
	value, size uint64
	name        string
	bind        elf.SymBind
}

// buildFuncTable keeps the function symbols (STT_FUNC and STT_GNU_IFUNC:
// untyped symbols are mostly labels and section markers) of both tables.
// Where several names share a start it prefers, as perf does, one with a
// size, then a non-weak one, then a global one, then fewer leading
// underscores, then the longest name. A symbol without a size ends where
// the next one starts, or where its executable section ends.
func buildFuncTable(ef *elf.File, tables ...[]elf.Symbol) funcTable {
	var cands []funcCandidate
	for _, syms := range tables {
		for _, s := range syms {
			typ := elf.ST_TYPE(s.Info)
			if typ != elf.STT_FUNC && typ != elf.STT_GNU_IFUNC {
				continue
			}
			if s.Section == elf.SHN_UNDEF || s.Value == 0 {
				continue
			}
			name := s.Name
			if i := strings.IndexByte(name, '@'); i > 0 {
				name = name[:i] // malloc@@GLIBC_2.2.5 prints bare
			}
			if name == "" || name[0] == '$' {
				continue // ARM and RISC-V mapping symbols
			}
			cands = append(cands, funcCandidate{value: s.Value, size: s.Size, name: name, bind: elf.ST_BIND(s.Info)})
		}
	}
	slices.SortFunc(cands, func(a, b funcCandidate) int {
		switch {
		case a.value != b.value:
			return cmp.Compare(a.value, b.value)
		case better(&a, &b):
			return -1
		case better(&b, &a):
			return 1
		}
		return 0
	})
	secs := execSections(ef)
	out := make([]funcSym, 0, len(cands))
	for i := 0; i < len(cands); i++ {
		if i > 0 && cands[i].value == cands[i-1].value {
			continue // a worse alias of the one kept
		}
		c := cands[i]
		end := c.value + c.size
		if c.size == 0 || end < c.value {
			end = sizelessEnd(c.value, cands[i+1:], secs)
		}
		out = append(out, funcSym{start: c.value, end: end, name: c.name})
	}
	return funcTable{syms: out}
}

func better(a, b *funcCandidate) bool {
	if (a.size == 0) != (b.size == 0) {
		return a.size != 0
	}
	if (a.bind == elf.STB_WEAK) != (b.bind == elf.STB_WEAK) {
		return a.bind != elf.STB_WEAK
	}
	if (a.bind == elf.STB_GLOBAL) != (b.bind == elf.STB_GLOBAL) {
		return a.bind == elf.STB_GLOBAL
	}
	ua, ub := leadingUnderscores(a.name), leadingUnderscores(b.name)
	if ua != ub {
		return ua < ub
	}
	if len(a.name) != len(b.name) {
		return len(a.name) > len(b.name)
	}
	return a.name < b.name
}

func leadingUnderscores(s string) int {
	n := 0
	for n < len(s) && s[n] == '_' {
		n++
	}
	return n
}

// sizelessEnd is where a symbol without a size ends: at the next start,
// but never past the end of its executable section.
func sizelessEnd(start uint64, rest []funcCandidate, secs [][2]uint64) uint64 {
	end := uint64(0)
	for _, c := range rest {
		if c.value > start {
			end = c.value
			break
		}
	}
	for _, s := range secs {
		if s[0] <= start && start < s[1] {
			if end == 0 || end > s[1] {
				end = s[1]
			}
			return end
		}
	}
	if end == 0 {
		end = start + lastSymbolSpan
		if end < start {
			end = ^uint64(0)
		}
	}
	return end
}

// execSections returns the [start, end) of each allocated executable
// section; a debug file keeps them (as NOBITS) with their addresses.
func execSections(ef *elf.File) [][2]uint64 {
	if ef == nil {
		return nil
	}
	var out [][2]uint64
	for _, s := range ef.Sections {
		if s.Flags&elf.SHF_EXECINSTR == 0 || s.Flags&elf.SHF_ALLOC == 0 || s.Size == 0 {
			continue
		}
		end := s.Addr + s.Size
		if end < s.Addr {
			end = ^uint64(0)
		}
		out = append(out, [2]uint64{s.Addr, end})
	}
	return out
}

// mergeFuncTables combines two tables, the first winning where both start
// a function at the same address; each function is cut where the next one
// starts.
func mergeFuncTables(first, second funcTable) funcTable {
	all := make([]funcSym, 0, first.len()+second.len())
	all = append(all, first.syms...)
	all = append(all, second.syms...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].start < all[j].start })
	out := all[:0]
	for _, s := range all {
		if n := len(out); n > 0 && out[n-1].start == s.start {
			continue
		}
		out = append(out, s)
	}
	for i := 0; i+1 < len(out); i++ {
		out[i].end = min(out[i].end, out[i+1].start)
	}
	return funcTable{syms: out}
}
