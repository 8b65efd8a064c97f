package symbols

import (
	"debug/elf"
	hexenc "encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// build describes how to turn testdata/fixture.c into the binary a case
// runs, and what the result should know.
type build struct {
	name       string
	cflags     []string
	post       func(t *testing.T, dir, bin string) Options // strip, split debug info...
	lib        bool                                        // link testdata/fixturelib.c as a shared library
	wantInline bool                                        // DWARF reaches the resolver
}

func TestUserResolvesCFunctions(t *testing.T) {
	needLinux(t)
	needTool(t, "gcc")
	builds := []build{
		{name: "a PIE binary at -O0 resolves its functions", cflags: []string{"-O0", "-fPIE", "-pie"}},
		{name: "a non-PIE binary at -O0 resolves its functions", cflags: []string{"-O0", "-no-pie"}},
		{name: "a PIE binary built with -g adds inlined frames and lines", cflags: []string{"-O0", "-g"}, wantInline: true},
		{name: "a non-PIE binary built with -O2 -g adds inlined frames and lines", cflags: []string{"-O2", "-g", "-no-pie"}, wantInline: true},
		{name: "a stripped binary reads its symbols and DWARF from its .gnu_debuglink file", cflags: []string{"-O0", "-g"}, post: splitDebuglink, wantInline: true},
		{name: "a stripped binary finds its debug file by build-id in a debug dir", cflags: []string{"-O0", "-g", "-Wl,--build-id"}, post: splitBuildID, wantInline: true},
		{name: "a binary linked with a shared library resolves the library's functions", cflags: []string{"-O0"}, lib: true},
	}
	src := testdata(t, "fixture.c")
	for _, bd := range builds {
		t.Run(bd.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "fixture")
			args := append([]string{}, bd.cflags...)
			if bd.lib {
				run(t, dir, "gcc", "-O0", "-shared", "-fPIC", "-o", filepath.Join(dir, "libfixture.so"), testdata(t, "fixturelib.c"))
				args = append(args, "-DWITH_LIB")
			}
			args = append(args, "-o", bin, src)
			if bd.lib {
				args = append(args, "-L"+dir, "-lfixture", "-Wl,-rpath,"+dir)
			}
			run(t, dir, "gcc", args...)
			opts := Options{DebugDirs: []string{}}
			if bd.post != nil {
				opts = bd.post(t, dir, bin)
			}
			tg := runTarget(t, bin)
			r := New(opts)
			defer r.Close()

			for _, name := range []string{"alpha", "beta", "outer_with_inline", "lib_gamma"} {
				addr, ok := tg.syms[name]
				if !ok {
					continue
				}
				obj := tg.object(t, addr)
				fr := r.User(obj, addr+1)
				if len(fr) == 0 || fr[len(fr)-1].Func != name || fr[len(fr)-1].Offset != 1 {
					t.Errorf("%s+1 at %#x resolved to %+v", name, addr+1, fr)
				}
				if fr[0].Module != obj.Path {
					t.Errorf("%s: module %q, want %q", name, fr[0].Module, obj.Path)
				}
			}
			if bd.lib && tg.syms["lib_gamma"] == 0 {
				t.Fatal("the fixture printed no lib_gamma")
			}

			ra := tg.ras["probe"]
			fr := r.User(tg.object(t, ra), ra-1)
			if !bd.wantInline {
				if !slices.Equal(funcs(fr), []string{"outer_with_inline"}) {
					t.Errorf("the call inside the inlined function resolved to %+v", fr)
				}
				return
			}
			if !slices.Equal(funcs(fr), []string{"inlined_step", "outer_with_inline"}) {
				t.Fatalf("the call inside the inlined function resolved to %+v, want inlined_step inside outer_with_inline", fr)
			}
			if !fr[0].Inlined || fr[1].Inlined {
				t.Errorf("Inlined flags: %+v", fr)
			}
			if want := lineOf(t, src, "LINE:probe"); fr[0].Line != want || filepath.Base(fr[0].File) != "fixture.c" {
				t.Errorf("inner frame at %s:%d, want fixture.c:%d", fr[0].File, fr[0].Line, want)
			}
			if want := lineOf(t, src, "LINE:call"); fr[1].Line != want {
				t.Errorf("outer frame at line %d, want %d (the inlined call site)", fr[1].Line, want)
			}
		})
	}
}

// splitDebuglink moves the debug information of bin to bin.debug and
// links it with .gnu_debuglink, as Debian and Fedora packages do.
func splitDebuglink(t *testing.T, dir, bin string) Options {
	needTool(t, "objcopy")
	needTool(t, "strip")
	run(t, dir, "objcopy", "--only-keep-debug", bin, bin+".debug")
	run(t, dir, "strip", "--strip-all", bin)
	run(t, dir, "objcopy", "--add-gnu-debuglink="+bin+".debug", bin)
	assertNoSymtab(t, bin)
	return Options{DebugDirs: []string{}}
}

// splitBuildID moves the debug information of bin into a debug dir laid
// out by build-id (DIR/.build-id/xx/rest.debug).
func splitBuildID(t *testing.T, dir, bin string) Options {
	needTool(t, "objcopy")
	needTool(t, "strip")
	id := hexenc.EncodeToString(readBuildID(t, bin))
	dbg := filepath.Join(dir, "debug")
	if err := os.MkdirAll(filepath.Join(dbg, ".build-id", id[:2]), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, dir, "objcopy", "--only-keep-debug", bin, filepath.Join(dbg, ".build-id", id[:2], id[2:]+".debug"))
	run(t, dir, "strip", "--strip-all", bin)
	assertNoSymtab(t, bin)
	return Options{DebugDirs: []string{dbg}}
}

func assertNoSymtab(t *testing.T, bin string) {
	t.Helper()
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	if ef.Section(".symtab") != nil || ef.Section(".debug_info") != nil {
		t.Fatalf("%s still has .symtab or .debug_info", bin)
	}
}

// readBuildID reads the build-id note the plain way, apart from the code
// under test.
func readBuildID(t testing.TB, bin string) []byte {
	t.Helper()
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	s := ef.Section(".note.gnu.build-id")
	if s == nil {
		t.Fatalf("%s has no build-id", bin)
	}
	data, err := s.Data()
	if err != nil || len(data) < 16 || string(data[12:16]) != "GNU\x00" {
		t.Fatalf("%s: bad build-id note %x (%v)", bin, data, err)
	}
	return data[16:]
}

func TestUserResolvesASharedLibraryAtAnyBase(t *testing.T) {
	needTool(t, "gcc")
	dir := t.TempDir()
	lib := filepath.Join(dir, "libfixture.so")
	run(t, dir, "gcc", "-O0", "-shared", "-fPIC", "-o", lib, testdata(t, "fixturelib.c"))
	r := New(Options{DebugDirs: []string{}})
	defer r.Close()
	for _, tc := range []struct {
		name string
		base uint64
	}{
		{"lib_gamma", 0x7f1234560000},
		{"lib_delta", 0x7f1234560000}, // static: .symtab only
		{"lib_gamma", 0x10000},
	} {
		obj, addr := fileObject(t, lib, symbolValue(t, lib, tc.name), tc.base)
		fr := r.User(obj, addr+4)
		if len(fr) != 1 || fr[0].Func != tc.name || fr[0].Offset != 4 || fr[0].Addr != addr+4 {
			t.Errorf("%s at base %#x: got %+v", tc.name, tc.base, fr)
		}
	}
	if st := r.Stats(); st.Opened != 1 || st.Parsed != 1 {
		t.Errorf("one library mapped thrice was opened %d and parsed %d times", st.Opened, st.Parsed)
	}
}

func TestUserDemanglesCPlusPlus(t *testing.T) {
	if _, err := exec.LookPath("g++"); err != nil {
		skipOrFail(t, "g++ not found (apt-get install g++)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fixture")
	run(t, dir, "g++", "-O1", "-o", bin, testdata(t, "fixture.cpp"))
	r := New(Options{DebugDirs: []string{}})
	defer r.Close()
	for _, tc := range []struct{ mangled, want string }{
		{"_ZN3geo6shapes6Widget4spinEi", "geo::shapes::Widget::spin"},
		{"_ZN3geo6shapes5twiceIiEET_S2_", "geo::shapes::twice<int>"},
	} {
		obj, addr := fileObject(t, bin, symbolValue(t, bin, tc.mangled), 0x555500000000)
		if fr := r.User(obj, addr); fr[0].Func != tc.want {
			t.Errorf("%s resolved to %q, want %q", tc.mangled, fr[0].Func, tc.want)
		}
	}
}

// startWaiting starts a fixture that stays alive until its standard input
// closes, and reads what it printed.
func startWaiting(t *testing.T, bin string) (*exec.Cmd, io.WriteCloser, target) {
	t.Helper()
	cmd := exec.Command(bin, "wait")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	var out strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(out.String(), "ready\n") {
		n, err := stdout.Read(buf)
		if err != nil {
			t.Fatalf("fixture ended early: %v\n%s", err, out.String())
		}
		out.Write(buf[:n])
	}
	tg := parseTarget(t, out.String())
	tg.pid = cmd.Process.Pid
	return cmd, stdin, tg
}

func TestUserResolvesAfterTheProcessExitedAndItsFileWasDeleted(t *testing.T) {
	needLinux(t)
	needTool(t, "gcc")
	dir := t.TempDir()
	bin := filepath.Join(dir, "fixture")
	run(t, dir, "gcc", "-O0", "-o", bin, testdata(t, "fixture.c"))
	cmd, stdin, tg := startWaiting(t, bin)

	r := New(Options{DebugDirs: []string{}})
	defer r.Close()
	alpha := tg.syms["alpha"]
	obj := tg.object(t, alpha)
	r.Prepare(obj)

	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(bin); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(tg.pid))); err == nil {
		t.Fatal("the fixture still runs")
	}
	if fr := r.User(obj, alpha+2); fr[0].Func != "alpha" || fr[0].Offset != 2 {
		t.Errorf("after exit and delete, alpha+2 resolved to %+v", fr)
	}
	if st := r.Stats(); st.Opened != 1 {
		t.Errorf("opened %d files, want the one from Prepare", st.Opened)
	}
}

func TestPrepareOpensADeletedBinaryThroughMapFiles(t *testing.T) {
	needLinux(t)
	needTool(t, "gcc")
	if os.Geteuid() != 0 {
		skipOrFail(t, "/proc/PID/map_files needs root")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fixture")
	run(t, dir, "gcc", "-O0", "-o", bin, testdata(t, "fixture.c"))
	_, _, tg := startWaiting(t, bin)
	if err := os.Remove(bin); err != nil {
		t.Fatal(err)
	}
	r := New(Options{DebugDirs: []string{}})
	defer r.Close()
	beta := tg.syms["beta"]
	obj := tg.object(t, beta)
	r.Prepare(obj)
	if fr := r.User(obj, beta+1); fr[0].Func != "beta" {
		t.Errorf("beta+1 of a deleted binary resolved to %+v", fr)
	}
}

func TestUserFindsAReplacedBinaryByBuildID(t *testing.T) {
	needTool(t, "gcc")
	needTool(t, "objcopy")
	dir := t.TempDir()
	bin := filepath.Join(dir, "fixture")
	src := testdata(t, "fixture.c")
	run(t, dir, "gcc", "-O0", "-g", "-Wl,--build-id", "-o", bin, src)
	id := readBuildID(t, bin)
	dbg := filepath.Join(dir, "debug")
	h := hexenc.EncodeToString(id)
	if err := os.MkdirAll(filepath.Join(dbg, ".build-id", h[:2]), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, dir, "objcopy", "--only-keep-debug", bin, filepath.Join(dbg, ".build-id", h[:2], h[2:]+".debug"))
	obj, addr := fileObject(t, bin, symbolValue(t, bin, "beta"), 0x555555554000)
	obj.BuildID = id

	// A new build of something else now sits at the same path.
	run(t, dir, "gcc", "-O0", "-DWITH_LIB", "-shared", "-fPIC", "-o", bin, testdata(t, "fixturelib.c"))

	var notices []string
	r := New(Options{DebugDirs: []string{dbg}, Notice: func(s string) { notices = append(notices, s) }})
	defer r.Close()
	fr := r.User(obj, addr+1)
	if fr[len(fr)-1].Func != "beta" || fr[len(fr)-1].Offset != 1 {
		t.Errorf("beta+1 in the replaced binary resolved to %+v", fr)
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "replaced") {
		t.Errorf("notices %q, want one saying the file was replaced", notices)
	}
}

func TestPrepareIsCheapWhenSeenBefore(t *testing.T) {
	needTool(t, "gcc")
	dir := t.TempDir()
	lib := filepath.Join(dir, "libfixture.so")
	run(t, dir, "gcc", "-O0", "-shared", "-fPIC", "-Wl,--build-id", "-o", lib, testdata(t, "fixturelib.c"))
	r := New(Options{DebugDirs: []string{}})
	defer r.Close()
	obj, addr := fileObject(t, lib, symbolValue(t, lib, "lib_gamma"), 0x7f0000000000)
	r.Prepare(obj)
	if allocs := testing.AllocsPerRun(100, func() { r.Prepare(obj) }); allocs != 0 {
		t.Errorf("Prepare of a mapping seen before allocated %v times", allocs)
	}
	// Mappings that carry a build-id are found by it: the first that
	// cannot be opened is retried by the next process that maps it.
	gone := obj
	gone.BuildID = readBuildID(t, lib)
	gone.PID, gone.Path = 999999, "/nonexistent/libfixture.so"
	r.Prepare(gone)
	again := gone
	again.PID, again.Start, again.Path = 1000000, 0x7e0000000000, lib
	r.Prepare(again)
	if allocs := testing.AllocsPerRun(100, func() { r.Prepare(again) }); allocs != 0 {
		t.Errorf("Prepare of a build-id seen before allocated %v times", allocs)
	}
	if st := r.Stats(); st.Opened != 2 || st.Failures != 1 {
		t.Errorf("stats %+v: want the file opened, one failed open for the new build-id, then it opened again", st)
	}
	if fr := r.User(gone, addr); fr[0].Func != "lib_gamma" {
		t.Errorf("lib_gamma through the build-id resolved to %+v", fr)
	}
	if fr := r.User(obj, addr); fr[0].Func != "lib_gamma" {
		t.Errorf("lib_gamma resolved to %+v", fr)
	}
}

func TestSymfsIsSearchedFirst(t *testing.T) {
	needTool(t, "gcc")
	symfs := t.TempDir()
	libDir := filepath.Join(symfs, "opt", "elsewhere")
	if err := os.MkdirAll(libDir, 0o755); err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(libDir, "libfixture.so")
	run(t, symfs, "gcc", "-O0", "-shared", "-fPIC", "-o", lib, testdata(t, "fixturelib.c"))
	obj, addr := fileObject(t, lib, symbolValue(t, lib, "lib_gamma"), 0x7f0000000000)
	obj.Path = "/opt/elsewhere/libfixture.so" // as the other machine saw it
	r := New(Options{Symfs: symfs, DebugDirs: []string{}})
	defer r.Close()
	if fr := r.User(obj, addr); fr[0].Func != "lib_gamma" || fr[0].Module != obj.Path {
		t.Errorf("lib_gamma under Symfs resolved to %+v", fr)
	}
}

// A debug file's compressed DWARF is inflated once: later resolvers read
// the sections from the cache, by build-id; an entry of the wrong size is
// ignored and written again.
func TestCompressedDWARFIsCachedByBuildID(t *testing.T) {
	needLinux(t)
	needTool(t, "gcc")
	dir := t.TempDir()
	bin := filepath.Join(dir, "fixture")
	src := testdata(t, "fixture.c")
	run(t, dir, "gcc", "-O0", "-g", "-gz=zlib", "-Wl,--build-id", "-o", bin, src)
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	info := ef.Section(".debug_info")
	ef.Close()
	if info == nil || info.Flags&elf.SHF_COMPRESSED == 0 {
		skipOrFail(t, "this gcc did not compress the DWARF (-gz=zlib)")
	}
	cache := filepath.Join(dir, "cache")
	entry := filepath.Join(cache, "dwarf", hexenc.EncodeToString(readBuildID(t, bin)), ".debug_info")
	tg := runTarget(t, bin)
	ra := tg.ras["probe"]
	resolve := func() {
		t.Helper()
		r := New(Options{DebugDirs: []string{}, CacheDir: cache})
		defer r.Close()
		fr := r.User(tg.object(t, ra), ra-1)
		if !slices.Equal(funcs(fr), []string{"inlined_step", "outer_with_inline"}) {
			t.Fatalf("resolved to %+v, want inlined_step inside outer_with_inline", fr)
		}
	}
	resolve()
	fi, err := os.Stat(entry)
	if err != nil || uint64(fi.Size()) != info.Size {
		t.Fatalf("cache entry %s: %v, size %v, want %d", entry, err, fi, info.Size)
	}
	// Read from the cache: the entry is not written again.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(entry, old, old)
	resolve()
	if fi, _ := os.Stat(entry); !fi.ModTime().Equal(old) {
		t.Errorf("the cached %s was written again", entry)
	}
	// A truncated entry is not used, and is replaced.
	if err := os.Truncate(entry, 10); err != nil {
		t.Fatal(err)
	}
	resolve()
	if fi, _ := os.Stat(entry); uint64(fi.Size()) != info.Size {
		t.Errorf("the truncated entry was not replaced: %d bytes", fi.Size())
	}
}
