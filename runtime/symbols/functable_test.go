package symbols

import (
	"debug/elf"
	"testing"
)

func sym(name string, value, size uint64, bind elf.SymBind, typ elf.SymType) elf.Symbol {
	return elf.Symbol{Name: name, Value: value, Size: size, Info: elf.ST_INFO(bind, typ), Section: 14}
}

func TestBuildFuncTable(t *testing.T) {
	symtab := []elf.Symbol{
		sym("__libc_malloc", 0x1000, 0x80, elf.STB_GLOBAL, elf.STT_FUNC),
		sym("malloc", 0x1000, 0x80, elf.STB_GLOBAL, elf.STT_FUNC),
		sym("weak_malloc", 0x1000, 0x80, elf.STB_WEAK, elf.STT_FUNC),
		sym("memcpy@@GLIBC_2.14", 0x2000, 0x40, elf.STB_GLOBAL, elf.STT_GNU_IFUNC),
		sym("sizeless", 0x3000, 0, elf.STB_LOCAL, elf.STT_FUNC),
		sym("label", 0x3100, 0, elf.STB_LOCAL, elf.STT_NOTYPE),
		sym("next_one", 0x3200, 0x10, elf.STB_GLOBAL, elf.STT_FUNC),
		sym("an_object", 0x4000, 0x100, elf.STB_GLOBAL, elf.STT_OBJECT),
		sym("$x", 0x5000, 0, elf.STB_LOCAL, elf.STT_FUNC),
		sym("last_sizeless", 0x6000, 0, elf.STB_GLOBAL, elf.STT_FUNC),
		{Name: "undefined", Info: elf.ST_INFO(elf.STB_GLOBAL, elf.STT_FUNC), Section: elf.SHN_UNDEF, Value: 0x7000},
	}
	dynsym := []elf.Symbol{sym("malloc", 0x1000, 0x80, elf.STB_GLOBAL, elf.STT_FUNC)}
	tab := buildFuncTable(nil, symtab, dynsym)
	for _, tc := range []struct {
		name string
		addr uint64
		want string
	}{
		{"of global aliases the one with fewer leading underscores wins", 0x1010, "malloc"},
		{"a function ends at its size", 0x1080, ""},
		{"a versioned name prints bare and an IFUNC counts", 0x2001, "memcpy"},
		{"a sizeless function reaches the next function, past untyped labels", 0x31ff, "sizeless"},
		{"the next function starts on time", 0x3200, "next_one"},
		{"data objects are not functions", 0x4010, ""},
		{"mapping symbols are not functions", 0x5000, ""},
		{"the last sizeless function does not reach forever", 0x6000 + lastSymbolSpan, ""},
		{"undefined symbols are not functions", 0x7000, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if i := tab.lookup(tc.addr); i >= 0 {
				got = tab.name(i)
			}
			if got != tc.want {
				t.Errorf("lookup(%#x) = %q, want %q", tc.addr, got, tc.want)
			}
		})
	}
	weakOnly := buildFuncTable(nil, []elf.Symbol{sym("weak_one", 0x10, 8, elf.STB_WEAK, elf.STT_FUNC), sym("local_one", 0x10, 8, elf.STB_LOCAL, elf.STT_FUNC)})
	if got := weakOnly.name(weakOnly.lookup(0x10)); got != "local_one" {
		t.Errorf("a weak and a local alias: got %q, want the non-weak one as perf does", got)
	}
}
