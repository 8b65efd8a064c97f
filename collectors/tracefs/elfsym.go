package tracefs

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"otrace/runtime/probe"
)

// SymbolOffset returns the offset in the ELF file at path of the function
// named symbol: the number uprobe_events wants after PATH:. The symbol is
// looked up in .symtab, then .dynsym; a version suffix (malloc@@GLIBC_2.2.5)
// is not part of the name.
func SymbolOffset(path, symbol string) (uint64, error) {
	return resolve(path, symbol, 0)
}

// resolve is SymbolOffset for the instruction plus bytes into the function.
func resolve(path, symbol string, plus uint64) (uint64, error) {
	f, err := elf.Open(path)
	if err != nil {
		var fe *elf.FormatError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return 0, fmt.Errorf("uprobe target %s does not exist", path)
		case errors.As(err, &fe), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return 0, fmt.Errorf("uprobe target %s is not an ELF file (%v)", path, err)
		}
		return 0, fmt.Errorf("uprobe target %s: %w", path, err)
	}
	defer f.Close()
	sym, err := findFunc(f, symbol)
	if err != nil {
		return 0, fmt.Errorf("uprobe target %s: %w", path, err)
	}
	if sym.Size > 0 && plus >= sym.Size {
		return 0, fmt.Errorf("uprobe target %s: %s+%#x lies beyond the function's %d bytes", path, symbol, plus, sym.Size)
	}
	off, err := fileOffset(f, sym.Value+plus)
	if err != nil {
		return 0, fmt.Errorf("uprobe target %s: %s: %w", path, symbol, err)
	}
	return off, nil
}

// findFunc returns the defined function symbol named name, from .symtab if
// it is there, else from .dynsym. Its error suggests close names.
func findFunc(f *elf.File, name string) (elf.Symbol, error) {
	var all []string
	for _, table := range []func() ([]elf.Symbol, error){f.Symbols, f.DynamicSymbols} {
		syms, err := table()
		if err != nil {
			continue // elf.ErrNoSymbols, or a table we cannot read: try the other
		}
		sym, found, err := pick(syms, name)
		if err != nil || found {
			return sym, err
		}
		for _, s := range syms {
			if isDefinedFunc(s) {
				all = append(all, bareName(s.Name))
			}
		}
	}
	if len(all) == 0 {
		return elf.Symbol{}, fmt.Errorf("no function %q: the file has no function symbols (stripped?)", name)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	msg := fmt.Sprintf("no function %q", name)
	s := probe.Suggest(name, all, 3)
	if len(s) == 0 {
		s = containing(all, name, 3)
	}
	if len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, ", ") + "?"
	}
	return elf.Symbol{}, errors.New(msg)
}

// pick chooses among the definitions of name in one symbol table: the
// default version over older ones (memcpy@@GLIBC_2.14 over
// memcpy@GLIBC_2.2.5), global over local. Two best candidates at different
// addresses (static functions of one name in two files) are an error rather
// than a guess.
func pick(syms []elf.Symbol, name string) (elf.Symbol, bool, error) {
	var best elf.Symbol
	bestScore, tied := -1, false
	for _, s := range syms {
		if !isDefinedFunc(s) || bareName(s.Name) != name {
			continue
		}
		score := 0
		if isDefaultVersion(s) {
			score += 2
		}
		if elf.ST_BIND(s.Info) != elf.STB_LOCAL {
			score++
		}
		switch {
		case score > bestScore:
			best, bestScore, tied = s, score, false
		case score == bestScore && s.Value != best.Value:
			tied = true
		}
	}
	if bestScore < 0 {
		return best, false, nil
	}
	if tied {
		return best, false, fmt.Errorf("function %q is defined more than once, at different addresses (static functions in several files); otrace cannot tell which one you mean", name)
	}
	return best, true, nil
}

func isDefinedFunc(s elf.Symbol) bool {
	return elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Section != elf.SHN_UNDEF && s.Value != 0
}

// bareName strips a symbol version: .symtab spells versions into the name
// ("malloc@@GLIBC_2.2.5"), .dynsym keeps them apart.
func bareName(name string) string {
	if i := strings.IndexByte(name, '@'); i > 0 {
		return name[:i]
	}
	return name
}

// isDefaultVersion reports whether s is the version a new link would bind
// to: unversioned, "@@" in .symtab, or not hidden in .dynsym.
func isDefaultVersion(s elf.Symbol) bool {
	if s.HasVersion {
		return !s.VersionIndex.IsHidden()
	}
	i := strings.IndexByte(s.Name, '@')
	return i < 0 || strings.HasPrefix(s.Name[i:], "@@")
}

// fileOffset converts a virtual address (as symbols give it, whether the file
// is PIE or not) to the offset of its byte in the file, through the PT_LOAD
// segment that holds it.
func fileOffset(f *elf.File, addr uint64) (uint64, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || addr < p.Vaddr || addr-p.Vaddr >= p.Memsz {
			continue
		}
		if addr-p.Vaddr >= p.Filesz {
			return 0, fmt.Errorf("address %#x is in a segment's zero-filled tail, not in the file", addr)
		}
		return addr - p.Vaddr + p.Off, nil
	}
	return 0, fmt.Errorf("address %#x lies in no loadable segment", addr)
}
