package tracefs

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// libcPath returns the C library's path, or skips.
func libcPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{
		"/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6",
		"/lib64/libc.so.6", "/usr/lib/libc.so.6",
	} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("no glibc found")
	return ""
}

// readelfOffset computes the file offset of the symbol that readelf -s
// lists under exactly name (versions included), from readelf -l's program
// headers: an account of the ELF file independent of debug/elf.
func readelfOffset(t *testing.T, path, name string) uint64 {
	t.Helper()
	if _, err := exec.LookPath("readelf"); err != nil {
		skipUnlessLive(t, "readelf is not installed")
	}
	syms, err := exec.Command("readelf", "-sW", path).Output()
	if err != nil {
		t.Fatalf("readelf -sW %s: %v", path, err)
	}
	var value uint64
	found := false
	for _, line := range strings.Split(string(syms), "\n") {
		// Num: Value Size Type Bind Vis Ndx Name [(version)]
		f := strings.Fields(line)
		if len(f) >= 8 && f[3] == "FUNC" && f[6] != "UND" && f[7] == name {
			value = parseHex(t, f[1])
			found = true
			break
		}
	}
	if !found {
		t.Fatalf("readelf -s %s lists no function %s", path, name)
	}
	progs, err := exec.Command("readelf", "-lW", path).Output()
	if err != nil {
		t.Fatalf("readelf -lW %s: %v", path, err)
	}
	for _, line := range strings.Split(string(progs), "\n") {
		// LOAD Offset VirtAddr PhysAddr FileSiz MemSiz Flg... Align
		f := strings.Fields(line)
		if len(f) < 6 || f[0] != "LOAD" {
			continue
		}
		off, vaddr, filesz := parseHex(t, f[1]), parseHex(t, f[2]), parseHex(t, f[4])
		if value >= vaddr && value < vaddr+filesz {
			return value - vaddr + off
		}
	}
	t.Fatalf("readelf -l %s: no LOAD segment holds %#x", path, value)
	return 0
}

func parseHex(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Fatalf("readelf printed %q: %v", s, err)
	}
	return v
}

func TestSymbolOffsetAgreesWithReadelf(t *testing.T) {
	tests := []struct {
		name    string
		path    func(t *testing.T) string
		symbol  string
		readelf string // the name readelf lists it under
		pie     bool
	}{
		{"a Go function in a non-PIE executable", func(t *testing.T) string { return goTarget(t, false) },
			"main.target", "main.target", false},
		{"a Go function in a PIE executable", func(t *testing.T) string { return goTarget(t, true) },
			"main.target", "main.target", true},
		{"a C function in a non-PIE executable", func(t *testing.T) string { return cTarget(t, false) },
			"target", "target", false},
		{"a C function in a PIE executable", func(t *testing.T) string { return cTarget(t, true) },
			"target", "target", true},
		{"a versioned libc function found in .dynsym by its bare name", libcPath,
			"malloc", "malloc@@GLIBC_2.2.5", true},
		{"the default version of a function wins over an older one", libcPath,
			"realpath", "realpath@@GLIBC_2.3", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path(t)
			assertELFType(t, path, tt.pie)
			got, err := SymbolOffset(path, tt.symbol)
			if err != nil {
				t.Fatal(err)
			}
			if want := readelfOffset(t, path, tt.readelf); got != want {
				t.Errorf("SymbolOffset(%s, %s) = %#x, readelf says %#x", path, tt.symbol, got, want)
			}
		})
	}
}

// assertELFType checks a test binary is the kind the case means to test:
// ET_DYN (PIE, shared library) or ET_EXEC.
func assertELFType(t *testing.T, path string, pie bool) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if want := map[bool]elf.Type{true: elf.ET_DYN, false: elf.ET_EXEC}[pie]; f.Type != want {
		t.Fatalf("%s is %v, the case wants %v", path, f.Type, want)
	}
}

func TestSymbolOffsetErrors(t *testing.T) {
	notELF := filepath.Join(t.TempDir(), "script.sh")
	writeFile(t, notELF, "#!/bin/sh\n")
	tests := []struct {
		name    string
		path    func(t *testing.T) string
		symbol  string
		wantErr string
	}{
		{"a missing file says it does not exist", func(*testing.T) string { return "/no/such/file" },
			"main", "uprobe target /no/such/file does not exist"},
		{"a file that is not ELF says so", func(*testing.T) string { return notELF },
			"main", "is not an ELF file"},
		{"a typo suggests the close symbol", func(t *testing.T) string { return goTarget(t, false) },
			"main.targt", `no function "main.targt"; did you mean main.target`},
		{"part of a name suggests the symbols holding it", func(t *testing.T) string { return cTarget(t, false) },
			"targe", `did you mean target`},
		{"a data symbol is not a function", func(t *testing.T) string { return goTarget(t, false) },
			"runtime.buildVersion", `no function "runtime.buildVersion"`},
		{"a missing symbol names the file", func(t *testing.T) string { return goTarget(t, false) },
			"zzzzzzzzzzzz", filepath.Join(buildDir, "gotarget")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SymbolOffset(tt.path(t), tt.symbol)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v\nwant it to say %q", err, tt.wantErr)
			}
		})
	}
}

func TestAnOffsetPastTheFunctionIsRefused(t *testing.T) {
	path := goTarget(t, false)
	base, err := SymbolOffset(path, "main.target")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := resolve(path, "main.target", 4); err != nil || got != base+4 {
		t.Errorf("resolve(+4) = %#x, %v; want %#x", got, err, base+4)
	}
	if _, err := resolve(path, "main.target", 1<<20); err == nil || !strings.Contains(err.Error(), "lies beyond the function") {
		t.Errorf("resolve(+1MiB) err = %v, want it to lie beyond the function", err)
	}
}

func sym(name string, typ elf.SymType, bind elf.SymBind, value uint64) elf.Symbol {
	return elf.Symbol{Name: name, Info: elf.ST_INFO(bind, typ), Section: 1, Value: value, Size: 8}
}

func TestPick(t *testing.T) {
	undefined := sym("f", elf.STT_FUNC, elf.STB_GLOBAL, 0x10)
	undefined.Section = elf.SHN_UNDEF
	tests := []struct {
		name      string
		syms      []elf.Symbol
		want      uint64 // 0: not found
		wantError bool
	}{
		{"a lone function is found", []elf.Symbol{sym("f", elf.STT_FUNC, elf.STB_GLOBAL, 0x10)}, 0x10, false},
		{"a .symtab name with @@ is the default version",
			[]elf.Symbol{sym("f@V1", elf.STT_FUNC, elf.STB_GLOBAL, 0x10), sym("f@@V2", elf.STT_FUNC, elf.STB_GLOBAL, 0x20)}, 0x20, false},
		{"a global wins over a local of the same name",
			[]elf.Symbol{sym("f", elf.STT_FUNC, elf.STB_LOCAL, 0x10), sym("f", elf.STT_FUNC, elf.STB_GLOBAL, 0x20)}, 0x20, false},
		{"two aliases at one address are no ambiguity",
			[]elf.Symbol{sym("f", elf.STT_FUNC, elf.STB_LOCAL, 0x10), sym("f", elf.STT_FUNC, elf.STB_LOCAL, 0x10)}, 0x10, false},
		{"two static functions of one name are ambiguous",
			[]elf.Symbol{sym("f", elf.STT_FUNC, elf.STB_LOCAL, 0x10), sym("f", elf.STT_FUNC, elf.STB_LOCAL, 0x20)}, 0, true},
		{"an object of the name is not a function", []elf.Symbol{sym("f", elf.STT_OBJECT, elf.STB_GLOBAL, 0x10)}, 0, false},
		{"an undefined import is not a definition", []elf.Symbol{undefined}, 0, false},
		{"a longer name is not a match", []elf.Symbol{sym("f2", elf.STT_FUNC, elf.STB_GLOBAL, 0x10)}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, err := pick(tt.syms, "f")
			if (err != nil) != tt.wantError {
				t.Fatalf("err = %v, want error: %v", err, tt.wantError)
			}
			if tt.wantError {
				return
			}
			if found != (tt.want != 0) || found && got.Value != tt.want {
				t.Errorf("pick = %#x (found %v), want %#x", got.Value, found, tt.want)
			}
		})
	}
}
