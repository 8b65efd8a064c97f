package symbols

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	hexenc "encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// tiny.dll (testdata/README.md) lays out its .text at RVA 0x1000: 32
// bytes named by nothing, then TinyAdd (exported), tiny_static (COFF,
// static), TinyMul (exported) and tiny_internal (COFF, global).
const (
	tinyLoad   = 0x7ff812340000 // where the tests "load" it: not its preferred base
	tinyID     = "293bc76fe77a9e548ac6f8ef4a6b18be00000001"
	tinyPDB    = "tiny.pdb"
	tinyWinDir = `C:\Windows\System32\tiny.dll`
)

// symfsWith lays out a symfs holding testdata/src at rel.
func symfsWith(t *testing.T, src, rel string) string {
	t.Helper()
	data, err := os.ReadFile(testdata(t, src))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPEImagesAreNamedFromExportsAndCOFFSymbols(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		rva  uint64
		want string // Frame.Name
	}{
		{"an exported function is named by its export", "tiny.dll", 0x1020, "TinyAdd"},
		{"an offset inside it is added", "tiny.dll", 0x1025, "TinyAdd+0x5"},
		{"a static function is named from the COFF symbol table", "tiny.dll", 0x1034, "tiny_static+0x1"},
		{"a second export", "tiny.dll", 0x1048, "TinyMul+0x5"},
		{"a global function that is not exported", "tiny.dll", 0x1059, "tiny_internal"},
		{"code before every symbol is module+offset", "tiny.dll", 0x1010, "tiny.dll+0x1010"},
		{"the headers are module+offset", "tiny.dll", 0x10, "tiny.dll+0x10"},
		{"a data section is never named after a function", "tiny.dll", 0x2010, "tiny.dll+0x2010"},
		{"past the image is module+offset", "tiny.dll", 0x9000, "tiny.dll+0x9000"},
		{"without COFF symbols, the export before names the address", "tiny-stripped.dll", 0x1034, "TinyAdd+0x14"},
		{"without COFF symbols, an export still names itself", "tiny-stripped.dll", 0x1043, "TinyMul"},
		{"without COFF symbols, code before the first export is module+offset", "tiny-stripped.dll", 0x1000, "tiny.dll+0x1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New(Options{Symfs: symfsWith(t, tc.file, "C/Windows/System32/tiny.dll"), DebugDirs: []string{}})
			defer r.Close()
			obj := Object{PID: 40, Path: tinyWinDir, Start: tinyLoad}
			fr := r.User(obj, tinyLoad+tc.rva)
			if len(fr) != 1 || fr[0].Name() != tc.want || fr[0].Addr != tinyLoad+tc.rva || fr[0].Module != tinyWinDir || fr[0].ModOffset != tc.rva {
				t.Errorf("RVA %#x resolved to %+v (%s), want %s", tc.rva, fr, fr[0].Name(), tc.want)
			}
		})
	}
}

func TestPEForwardersAndDataExportsAreNotFunctions(t *testing.T) {
	f, err := os.Open(testdata(t, "tiny.dll"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := openPE(f)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range p.exports(f) {
		names = append(names, s.name+"@"+strconv.FormatUint(uint64(s.rva), 16))
	}
	// TinySleep forwards to KERNEL32.Sleep: no code of tiny.dll.
	if want := []string{"TinyAdd@1020", "TinyMul@1043"}; !slices.Equal(names, want) {
		t.Errorf("exports %v, want %v", names, want)
	}
}

func TestPEIdentityIsTheCodeViewRecord(t *testing.T) {
	for _, file := range []string{"tiny.dll", "tiny-stripped.dll"} {
		f, err := os.Open(testdata(t, file))
		if err != nil {
			t.Fatal(err)
		}
		id, pdb, err := ReadPEIdentity(f)
		f.Close()
		if err != nil || hexenc.EncodeToString(id) != tinyID || pdb != tinyPDB {
			t.Errorf("%s: identity %x %q %v, want %s %s", file, id, pdb, err, tinyID, tinyPDB)
		}
	}
	if _, _, err := ReadPEIdentity(bytes.NewReader([]byte("\x7fELF"))); err == nil {
		t.Error("an ELF file has a PE identity")
	}
	if id, _, err := ReadPEIdentity(bytes.NewReader(mustRead(t, "tiny.dll")[:0x200])); err == nil || id != nil {
		t.Errorf("headers alone: %x, %v", id, err)
	}

	// The resolver keeps it as the binary's build-id, and a file with
	// another one is another build: module+offset only.
	for _, tc := range []struct {
		name  string
		id    string
		named bool
	}{
		{"the recorded id matches: named", tinyID, true},
		{"no id recorded: named", "", true},
		{"another id recorded: not this build", "00" + tinyID[2:], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, _ := hexenc.DecodeString(tc.id)
			var notices []string
			r := New(Options{Symfs: symfsWith(t, "tiny.dll", "tiny.dll"), DebugDirs: []string{}, Notice: func(s string) { notices = append(notices, s) }})
			defer r.Close()
			obj := Object{PID: 40, Path: tinyWinDir, Start: tinyLoad, BuildID: want}
			fr := r.User(obj, tinyLoad+0x1021)
			if got := fr[0].Name(); (got == "TinyAdd+0x1") != tc.named || (!tc.named && got != "tiny.dll+0x1021") {
				t.Errorf("frame %q", got)
			}
			b := r.binaryFor(obj)
			if tc.named && hexenc.EncodeToString(b.buildID) != tinyID {
				t.Errorf("build-id %x", b.buildID)
			}
			if !tc.named && (len(notices) != 1 || !strings.Contains(notices[0], "not the image that was loaded")) {
				t.Errorf("notices %q", notices)
			}
		})
	}
}

// TestTinyDLLAgreesWithBinutils checks the fixture and the parser against
// GNU objdump's reading of the same file: the export table, the COFF
// function symbols and the CodeView record.
func TestTinyDLLAgreesWithBinutils(t *testing.T) {
	objdump := needTool(t, "objdump")
	path := testdata(t, "tiny.dll")
	headers := run(t, "", objdump, "-p", path)
	if !strings.Contains(headers, "pei-x86-64") {
		skipOrFail(t, "this objdump does not read PE files")
	}
	m := regexp.MustCompile(`format RSDS signature ([0-9a-f]{32}) age (\d+) pdb ([^)\s]+)`).FindStringSubmatch(headers)
	if m == nil {
		t.Fatalf("objdump shows no RSDS record:\n%s", headers)
	}
	age, _ := strconv.Atoi(m[2])
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	id, pdb, _ := ReadPEIdentity(f)
	if want := m[1] + strconv.FormatUint(uint64(age)|1<<32, 16)[1:]; hexenc.EncodeToString(id) != want || pdb != m[3] {
		t.Errorf("identity %x %s, objdump says %s %s", id, pdb, want, m[3])
	}

	// objdump -t: "[  3](sec  1)(fl 0x00)(ty   20)(scl   2) (nx 1) 0x...0020 TinyAdd"
	p, _ := openPE(f)
	var got, want []string
	for _, s := range p.coffSymbols() {
		got = append(got, s.name+"@"+strconv.FormatUint(uint64(s.rva), 16))
	}
	sym := regexp.MustCompile(`\(sec\s+(\d+)\).*\(ty\s+20\)\(scl\s+[23]\) \(nx \d\) 0x([0-9a-f]+) (\S+)`)
	for _, l := range strings.Split(run(t, "", objdump, "-t", path), "\n") {
		if m := sym.FindStringSubmatch(l); m != nil {
			sec, _ := strconv.Atoi(m[1])
			v, _ := strconv.ParseUint(m[2], 16, 32)
			want = append(want, m[3]+"@"+strconv.FormatUint(uint64(p.sections[sec-1].va)+v, 16))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if len(want) != 4 || !slices.Equal(got, want) {
		t.Errorf("COFF functions %v, objdump says %v", got, want)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWindowsPathsAreFoundUnderSymfs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rel   string // where the file is under the symfs
		path  string // what the image load said
		found bool
	}{
		{"a drive path, the drive a directory", "C/Windows/System32/tiny.dll", tinyWinDir, true},
		{"a drive path, in other case", "c/WINDOWS/system32/Tiny.DLL", tinyWinDir, true},
		{"a drive path, by its file name alone", "tiny.dll", tinyWinDir, true},
		{"a drive path, by its file name in other case", "TINY.dll", tinyWinDir, true},
		{"a \\\\?\\ path", "C/Windows/System32/tiny.dll", `\\?\` + tinyWinDir, true},
		{"a kernel device path, as it came", "Device/HarddiskVolume3/Windows/tiny.dll", `\Device\HarddiskVolume3\Windows\tiny.dll`, true},
		{"a kernel device path, by its file name", "tiny.dll", `\Device\HarddiskVolume3\Windows\tiny.dll`, true},
		{"a file that is not there", "other.dll", tinyWinDir, false},
		{"a path climbing out of the symfs, by its file name only", "tiny.dll", `C:\..\..\tiny.dll`, true},
		{"a path climbing out of the symfs is not followed", "x/tiny.dll", `C:\..\x\tiny.dll`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var notices []string
			r := New(Options{Symfs: symfsWith(t, "tiny.dll", tc.rel), DebugDirs: []string{}, Notice: func(s string) { notices = append(notices, s) }})
			defer r.Close()
			fr := r.User(Object{PID: 40, Path: tc.path, Start: tinyLoad}, tinyLoad+0x1043)
			if got := fr[0].Name(); (got == "TinyMul") != tc.found || (!tc.found && got != "tiny.dll+0x1043") {
				t.Errorf("frame %q; found %v", got, tc.found)
			}
			if !tc.found && (len(notices) != 1 || !strings.Contains(notices[0], "--symfs")) {
				t.Errorf("notices %q, want one about --symfs", notices)
			}
		})
	}
	t.Run("without a symfs a Windows file is module+offset", func(t *testing.T) {
		r := New(Options{DebugDirs: []string{}})
		defer r.Close()
		fr := r.User(Object{PID: 40, Path: `D:\app\app.exe`, Start: 0x400000}, 0x401234)
		if fr[0].Name() != "app.exe+0x1234" || fr[0].Module != `D:\app\app.exe` {
			t.Errorf("frame %+v", fr)
		}
	})
}

func TestWindowsPathHelpers(t *testing.T) {
	for p, want := range map[string]bool{
		`C:\Windows\x.dll`: true, `c:/x.dll`: true, `\\?\C:\x.dll`: true, `\Device\HarddiskVolume3\x.dll`: true,
		`\SystemRoot\System32\x.dll`: true, `\\server\share\x.dll`: true,
		"/usr/lib/libc.so.6": false, "//anon": false, "[vdso]": false, "": false, "C:": false, `x\y`: false,
	} {
		if IsWindowsPath(p) != want {
			t.Errorf("IsWindowsPath(%q) = %v", p, !want)
		}
	}
	for in, want := range map[string]string{
		`C:\Windows\System32\ntdll.dll`: "ntdll.dll", `\Device\HarddiskVolume3\a\b.exe`: "b.exe", `C:/a/b.dll`: "b.dll",
		"/usr/lib/libc.so.6": "libc.so.6", "[kernel.kallsyms]": "[kernel.kallsyms]", "/a/b\\c": "b\\c",
	} {
		if got := ModuleBase(in); got != want {
			t.Errorf("ModuleBase(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		`C:\Windows\x.dll`: "C/Windows/x.dll", `\\?\D:\a\b`: "D/a/b", `\??\C:\a`: "C/a", `\Device\HarddiskVolume1\x`: "Device/HarddiskVolume1/x",
		`C:\a\..\b`: "C/a/../b",
	} {
		if got := strings.Join(windowsParts(in), "/"); got != want {
			t.Errorf("windowsParts(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFrameNames(t *testing.T) {
	for _, tc := range []struct {
		f    Frame
		want string
	}{
		{Frame{Addr: 0x7f0012345678, Module: "/usr/lib/libc.so.6"}, "0x7f0012345678"},
		{Frame{Addr: 0x7f0012345678, Func: "malloc", Offset: 0x1f, Module: "/usr/lib/libc.so.6"}, "malloc+0x1f"},
		{Frame{Addr: 0x7ff812341234, Module: `C:\Windows\System32\ntdll.dll`, ModOffset: 0x1234}, "ntdll.dll+0x1234"},
		{Frame{Addr: 0x7ff812341234, Func: "RtlUserThreadStart", Offset: 0x21, Module: `C:\Windows\System32\ntdll.dll`, ModOffset: 0x1234}, "RtlUserThreadStart+0x21"},
		{Frame{Addr: 0x1234}, "0x1234"},
	} {
		if got := tc.f.Name(); got != tc.want {
			t.Errorf("%+v prints %q, want %q", tc.f, got, tc.want)
		}
	}
}

// TestGoWindowsBinariesResolve builds the Go fixture for Windows: a PE
// with a COFF symbol table and DWARF, no exports.
func TestGoWindowsBinariesResolve(t *testing.T) {
	t.Setenv("GOOS", "windows")
	t.Setenv("GOARCH", "amd64")
	bin := buildGoFixture(t, false)
	pf, err := pe.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	// Where the symbol table puts main.outer, read with debug/pe alone.
	var outer uint64
	for _, s := range pf.Symbols {
		if s.Name == "main.outer" {
			outer = uint64(pf.Sections[s.SectionNumber-1].VirtualAddress) + uint64(s.Value)
		}
	}
	if outer == 0 {
		t.Fatal("no main.outer in the COFF symbol table")
	}
	r := New(Options{DebugDirs: []string{}})
	defer r.Close()
	const load = 0x7ff700000000
	obj := Object{PID: 9, Path: bin, Start: load}
	fr := r.User(obj, load+outer+1)
	if last := fr[len(fr)-1]; last.Func != "main.outer" || last.Offset != 1 || last.ModOffset != outer+1 {
		t.Fatalf("main.outer+1 resolved to %+v", fr)
	}
	// main.small is inlined into main.outer: DWARF says so somewhere in
	// main.outer's code.
	inlined := false
	for off := uint64(0); off < 0x100 && !inlined; off++ {
		fr := r.User(obj, load+outer+off)
		if len(fr) == 2 && fr[0].Func == "main.small" && fr[0].Inlined && fr[1].Func == "main.outer" && fr[0].Line > 0 {
			inlined = true
		}
	}
	if !inlined {
		t.Error("no address of main.outer shows main.small inlined: DWARF was not read")
	}
}

func TestUserSurvivesBadPEs(t *testing.T) {
	tiny := mustRead(t, "tiny.dll")
	flipped := bytes.Clone(tiny)
	for i := 0x40; i < len(flipped); i += 61 {
		flipped[i] ^= 0x5a
	}
	hugeExports := bytes.Clone(tiny)
	// The export directory's counts (at .edata 0x800 + 20 and + 24 in
	// the file) claim billions of entries.
	copy(hugeExports[0x800+20:], []byte{0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f})
	badSymbols := bytes.Clone(tiny)
	// The file header's PointerToSymbolTable points past the end.
	copy(badSymbols[binary.LittleEndian.Uint32(tiny[0x3c:])+4+8:], []byte{0xf0, 0xff, 0xff, 0x7f})
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"MZ alone", []byte("MZ")},
		{"a symbol table past the end of the file", badSymbols},
		{"the DOS header alone", tiny[:64]},
		{"the headers alone", tiny[:0x400]},
		{"half the file", tiny[:len(tiny)/2]},
		{"bytes flipped throughout", flipped},
		{"export counts in the billions", hugeExports},
	} {
		t.Run(tc.name+" resolves without panicking", func(t *testing.T) {
			r := New(Options{Symfs: t.TempDir(), DebugDirs: []string{}})
			defer r.Close()
			if err := os.WriteFile(filepath.Join(r.opts.Symfs, "tiny.dll"), tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, rva := range []uint64{0, 0x1020, 0x1043, 0x2000} {
				fr := r.User(Object{PID: 1, Path: tinyWinDir, Start: tinyLoad}, tinyLoad+rva)
				if len(fr) == 0 || fr[len(fr)-1].ModOffset != rva {
					t.Errorf("RVA %#x: %+v", rva, fr)
				}
			}
			ReadPEIdentity(bytes.NewReader(tc.data))
		})
	}
	t.Run("a damaged COFF symbol table still leaves the exports", func(t *testing.T) {
		r := New(Options{Symfs: t.TempDir(), DebugDirs: []string{}})
		defer r.Close()
		if err := os.WriteFile(filepath.Join(r.opts.Symfs, "tiny.dll"), badSymbols, 0o644); err != nil {
			t.Fatal(err)
		}
		if fr := r.User(Object{PID: 1, Path: tinyWinDir, Start: tinyLoad}, tinyLoad+0x1034); fr[0].Name() != "TinyAdd+0x14" {
			t.Errorf("frame %+v", fr)
		}
	})
}

// tiny-dwarf.dll is tiny.dll assembled with DWARF 5 line tables
// (testdata/README.md): its addresses get the assembly source's lines.
func TestPEDwarfLinesNameTheSourceLine(t *testing.T) {
	r := New(Options{Symfs: symfsWith(t, "tiny-dwarf.dll", "C/Windows/System32/tiny.dll"), DebugDirs: []string{}})
	defer r.Close()
	obj := Object{PID: 40, Path: tinyWinDir, Start: tinyLoad}
	for _, tc := range []struct {
		rva  uint64
		name string
		line int
	}{
		{0x1020, "TinyAdd", lineOf(t, testdata(t, "tiny-dll.s"), "lea\t(%rcx,%rdx), %rax")},
		{0x1043, "TinyMul", lineOf(t, testdata(t, "tiny-dll.s"), "call\ttiny_static")},
	} {
		fr := r.User(obj, tinyLoad+tc.rva)
		if len(fr) != 1 || fr[0].Name() != tc.name || !strings.HasSuffix(fr[0].File, "tiny-dll.s") || fr[0].Line != tc.line {
			t.Errorf("RVA %#x resolved to %+v, want %s at tiny-dll.s:%d", tc.rva, fr, tc.name, tc.line)
		}
	}
}
