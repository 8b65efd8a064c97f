package symbols

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const (
	testBootID  = "0f5e3c1a-8d2b-4c6e-9a7f-1b2c3d4e5f60"
	testRelease = "6.18.0-test"
)

// kernelProc makes a ProcRoot with kallsyms, a boot id and a release.
func kernelProc(t testing.TB, kallsyms, bootID, release string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range map[string]string{
		"kallsyms":                  kallsyms,
		"sys/kernel/random/boot_id": bootID + "\n",
		"sys/kernel/osrelease":      release + "\n",
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fixtureKallsyms(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(testdata(t, "kallsyms.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// renamed gives every symbol of a kallsyms text a new name, and every
// module too: a Resolver that answers with the old names did not read it.
func renamed(text string) string {
	var out strings.Builder
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) >= 3 {
			f[2] = "new_" + f[2]
			if len(f) == 4 {
				f[2] += "\t[new_" + strings.Trim(f[3], "[]") + "]"
				f = f[:3]
			}
			line = strings.Join(f, " ") + "\n"
		}
		out.WriteString(line)
	}
	return out.String()
}

// warmCache runs one Resolver over root so that it writes the cache.
func warmCache(t testing.TB, root, cacheDir string) {
	t.Helper()
	r := New(Options{ProcRoot: root, CacheDir: cacheDir})
	r.Kernel(0xffffffff81001101)
	if _, err := os.Stat(filepath.Join(cacheDir, "kallsyms", testBootID)); err != nil {
		t.Fatalf("the first Resolver of a boot wrote no cache: %v", err)
	}
}

func TestKallsymsCacheAnswersLaterRunsOfABoot(t *testing.T) {
	fixture := fixtureKallsyms(t)
	restricted, err := os.ReadFile(testdata(t, "kallsyms-restricted.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		change   func(t *testing.T, root string) // after the cache is written
		addr     uint64
		want     string // Func
		module   string
		wantRead bool   // the whole of kallsyms was read
		notice   string // in the one notice, if any
	}{
		{"a warm cache names an address of the kernel image without reading kallsyms",
			func(t *testing.T, root string) { writeFile(t, filepath.Join(root, "kallsyms"), renamed(fixture)) },
			0xffffffff81001101, "schedule", kernelModule, false, ""},
		{"the address where the image's last text symbol ends reads kallsyms",
			func(t *testing.T, root string) { writeFile(t, filepath.Join(root, "kallsyms"), renamed(fixture)) },
			0xffffffff81001500, "", kernelModule, true, ""},
		{"a module address reads kallsyms",
			func(t *testing.T, root string) { writeFile(t, filepath.Join(root, "kallsyms"), renamed(fixture)) },
			0xffffffffc0100010, "new_ext4_fill_super", "[new_ext4]", true, ""},
		{"an address below the image reads kallsyms",
			func(t *testing.T, root string) { writeFile(t, filepath.Join(root, "kallsyms"), renamed(fixture)) },
			0xffffffff80000000, "", kernelModule, true, ""},
		{"another boot misses",
			func(t *testing.T, root string) {
				writeFile(t, filepath.Join(root, "kallsyms"), renamed(fixture))
				writeFile(t, filepath.Join(root, "sys/kernel/random/boot_id"), "1f5e3c1a-8d2b-4c6e-9a7f-1b2c3d4e5f60\n")
			},
			0xffffffff81001101, "new_schedule", kernelModule, true, ""},
		{"another kernel release misses",
			func(t *testing.T, root string) {
				writeFile(t, filepath.Join(root, "kallsyms"), renamed(fixture))
				writeFile(t, filepath.Join(root, "sys/kernel/osrelease"), "6.19.0\n")
			},
			0xffffffff81001101, "new_schedule", kernelModule, true, ""},
		{"kallsyms hidden by kptr_restrict since hides the cache too",
			func(t *testing.T, root string) { writeFile(t, filepath.Join(root, "kallsyms"), string(restricted)) },
			0xffffffff81001101, "", kernelModule, true, "kptr_restrict"},
		{"kallsyms gone since leaves kernel frames unresolved, as without a cache",
			func(t *testing.T, root string) { os.Remove(filepath.Join(root, "kallsyms")) },
			0xffffffff81001101, "", kernelModule, true, "cannot read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, cacheDir := kernelProc(t, fixture, testBootID, testRelease), t.TempDir()
			warmCache(t, root, cacheDir)
			tc.change(t, root)
			var notices []string
			r := New(Options{ProcRoot: root, CacheDir: cacheDir, Notice: func(s string) { notices = append(notices, s) }})
			fr := r.Kernel(tc.addr)
			if fr[0].Func != tc.want || fr[0].Module != tc.module {
				t.Errorf("Kernel(%#x) = %+v, want %q in %s", tc.addr, fr[0], tc.want, tc.module)
			}
			if r.kernel.read != tc.wantRead {
				t.Errorf("kallsyms read: %v, want %v", r.kernel.read, tc.wantRead)
			}
			if tc.notice == "" && len(notices) > 0 || tc.notice != "" && (len(notices) != 1 || !strings.Contains(notices[0], tc.notice)) {
				t.Errorf("notices %q, want one about %q", notices, tc.notice)
			}
		})
	}
}

func TestKallsymsCacheKeepsOneBootsFilePrivate(t *testing.T) {
	root, cacheDir := kernelProc(t, fixtureKallsyms(t), testBootID, testRelease), t.TempDir()
	cacheDir = filepath.Join(cacheDir, "otrace") // made by the Resolver
	warmCache(t, root, cacheDir)
	// Another boot's file and a stranger, then this boot's file again.
	stale := filepath.Join(cacheDir, "kallsyms", "1f5e3c1a-8d2b-4c6e-9a7f-1b2c3d4e5f60")
	other := filepath.Join(cacheDir, "kallsyms", "README")
	writeFile(t, stale, "an older boot's cache")
	writeFile(t, other, "not a boot's cache")
	if err := os.Remove(filepath.Join(cacheDir, "kallsyms", testBootID)); err != nil {
		t.Fatal(err)
	}
	warmCache(t, root, cacheDir)
	for _, tc := range []struct {
		name string
		path string
		mode os.FileMode // 0: gone
	}{
		{"the cache directory is the user's alone", cacheDir, os.ModeDir | 0o700},
		{"the kallsyms directory is the user's alone", filepath.Join(cacheDir, "kallsyms"), os.ModeDir | 0o700},
		{"the file is the user's alone", filepath.Join(cacheDir, "kallsyms", testBootID), 0o600},
		{"another boot's file is removed", stale, 0},
		{"a file that is no boot's stays", other, 0o644},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fi, err := os.Stat(tc.path)
			switch {
			case tc.mode == 0 && !os.IsNotExist(err):
				t.Errorf("%s: %v, want it gone", tc.path, err)
			case tc.mode != 0 && (err != nil || fi.Mode() != tc.mode):
				t.Errorf("%s: %v %v, want mode %v", tc.path, fi.Mode(), err, tc.mode)
			}
		})
	}
	if ents, _ := os.ReadDir(filepath.Dir(stale)); len(ents) != 2 {
		t.Errorf("left in the cache: %v, want the boot's file and README", ents)
	}
}

func TestKallsymsCacheThatCannotBeWrittenIsNoError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cache func(t *testing.T) string
	}{
		{"a cache dir that is a file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "file")
			writeFile(t, p, "")
			return p
		}},
		{"a cache entry that is a directory", func(t *testing.T) string {
			d := t.TempDir()
			if err := os.MkdirAll(filepath.Join(d, "kallsyms", testBootID, "x"), 0o700); err != nil {
				t.Fatal(err)
			}
			return d
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var notices []string
			root := kernelProc(t, fixtureKallsyms(t), testBootID, testRelease)
			r := New(Options{ProcRoot: root, CacheDir: tc.cache(t), Notice: func(s string) { notices = append(notices, s) }})
			if fr := r.Kernel(0xffffffff81001101); fr[0].Func != "schedule" || len(notices) > 0 || r.Stats().Failures > 0 {
				t.Errorf("Kernel = %+v, notices %q, stats %+v", fr, notices, r.Stats())
			}
		})
	}
}

func TestKallsymsCacheOnlyForProcRootsKallsyms(t *testing.T) {
	root, cacheDir := kernelProc(t, fixtureKallsyms(t), testBootID, testRelease), t.TempDir()
	r := New(Options{ProcRoot: root, Kallsyms: testdata(t, "kallsyms.txt"), CacheDir: cacheDir})
	if fr := r.Kernel(0xffffffff81001101); fr[0].Func != "schedule" {
		t.Errorf("Kernel = %+v", fr)
	}
	if ents, _ := os.ReadDir(cacheDir); len(ents) != 0 {
		t.Errorf("a copy of kallsyms was cached: %v", ents)
	}
}

// fixCRC makes data's checksum right again after a test changed it.
func fixCRC(data []byte) {
	if len(data) >= kallsymsCacheHeader {
		binary.LittleEndian.PutUint32(data[12:], crc32.Checksum(data[16:], castagnoli))
	}
}

func TestKallsymsCacheIgnoresAndReplacesBadFiles(t *testing.T) {
	fixture := fixtureKallsyms(t)
	root, cacheDir := kernelProc(t, fixture, testBootID, testRelease), t.TempDir()
	warmCache(t, root, cacheDir)
	path := filepath.Join(cacheDir, "kallsyms", testBootID)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := decodeKallsymsCache(good)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	startsOff := kallsymsCacheHeader + len(testBootID) + len(testRelease)
	endsOff, nameEndsOff := startsOff+4*c.n, startsOff+8*c.n
	edit := func(f func(b []byte) []byte) func() []byte {
		return func() []byte { return f(bytes.Clone(good)) }
	}
	for _, tc := range []struct {
		name string
		file func() []byte
	}{
		{"an empty file", edit(func(b []byte) []byte { return nil })},
		{"a file cut in its header", edit(func(b []byte) []byte { return b[:20] })},
		{"a file cut by one byte", edit(func(b []byte) []byte { return b[:len(b)-1] })},
		{"a file with a byte more", edit(func(b []byte) []byte { return append(b, 0) })},
		{"a foreign file", edit(func(b []byte) []byte { return []byte(fixture) })},
		{"an older version", edit(func(b []byte) []byte { le.PutUint32(b[8:], kallsymsCacheVersion-1); return b })},
		{"a flipped bit in a name", edit(func(b []byte) []byte { b[len(b)-2] ^= 1; return b })},
		{"a flipped bit in a start", edit(func(b []byte) []byte { b[startsOff+4] ^= 4; return b })},
		{"a flipped bit in the checksum", edit(func(b []byte) []byte { b[13] ^= 1; return b })},
		{"a count too high, checksum fixed", edit(func(b []byte) []byte { le.PutUint32(b[16:], uint32(c.n+1)); fixCRC(b); return b })},
		{"no symbols, checksum fixed", edit(func(b []byte) []byte { le.PutUint32(b[16:], 0); fixCRC(b); return b })},
		{"names too long, checksum fixed", edit(func(b []byte) []byte { le.PutUint32(b[28:], 1<<31); fixCRC(b); return b })},
		{"a boot id too long, checksum fixed", edit(func(b []byte) []byte { le.PutUint32(b[20:], 1<<31); fixCRC(b); return b })},
		{"starts out of order, checksum fixed", edit(func(b []byte) []byte {
			le.PutUint32(b[startsOff+4:], le.Uint32(b[startsOff+8:])+1)
			fixCRC(b)
			return b
		})},
		{"an end past the next start, checksum fixed", edit(func(b []byte) []byte {
			le.PutUint32(b[endsOff:], le.Uint32(b[startsOff+4:])+1)
			fixCRC(b)
			return b
		})},
		{"a first start that is not the base, checksum fixed", edit(func(b []byte) []byte { le.PutUint32(b[startsOff:], 1); fixCRC(b); return b })},
		{"an empty name, checksum fixed", edit(func(b []byte) []byte {
			le.PutUint32(b[nameEndsOff+4:], le.Uint32(b[nameEndsOff:]))
			fixCRC(b)
			return b
		})},
		{"a name past the names, checksum fixed", edit(func(b []byte) []byte {
			le.PutUint32(b[nameEndsOff+4*(c.n-1):], 1<<30)
			fixCRC(b)
			return b
		})},
		{"a symbol past the end of the address space, checksum fixed", edit(func(b []byte) []byte {
			le.PutUint64(b[32:], ^uint64(0)-2)
			fixCRC(b)
			return b
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := tc.file()
			if _, err := decodeKallsymsCache(bad); err == nil {
				t.Fatalf("decoded %d bad bytes", len(bad))
			}
			if err := os.WriteFile(path, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			r := New(Options{ProcRoot: root, CacheDir: cacheDir})
			if fr := r.Kernel(0xffffffff81001101); fr[0].Func != "schedule" || !r.kernel.read {
				t.Errorf("Kernel = %+v, kallsyms read %v: the bad file was used", fr, r.kernel.read)
			}
			if again, err := os.ReadFile(path); err != nil || !bytes.Equal(again, good) {
				t.Errorf("the bad file was not replaced (%v)", err)
			}
		})
	}
}

// genKallsyms makes a kallsyms text of n lines in the image, in a
// scrambled order, with aliases, data symbols and gaps; modules adds
// modules above the image, moduleInside a module's symbol amid the image,
// where the cache must stop.
func genKallsyms(seed uint64, n int, modules, moduleInside bool) string {
	rnd := rand.New(rand.NewPCG(seed, 1))
	var lines []string
	addr := uint64(0xffffffff81000000)
	for i := range n {
		typ := "TTTTttttWwDdRrbBA"[rnd.IntN(17)]
		lines = append(lines, fmt.Sprintf("%016x %c %s%s_%d", addr, typ, strings.Repeat("_", rnd.IntN(3)), "sym", i))
		if rnd.IntN(8) > 0 {
			addr += uint64(rnd.IntN(0x200))
		}
		if moduleInside && i == n/2 {
			addr += 0x1000
			lines = append(lines, fmt.Sprintf("%016x t inside_fn\t[inside]", addr))
			addr += 0x1000
		}
	}
	addr = 0xffffffffc0000000
	for i := range n / 10 {
		if modules {
			lines = append(lines, fmt.Sprintf("%016x %c mod_%d\t[mod%d]", addr, "tTdD"[rnd.IntN(4)], i, i%3))
			addr += uint64(rnd.IntN(0x400))
		}
	}
	for i := range lines {
		if j := i + rnd.IntN(4); j < len(lines) {
			lines[i], lines[j] = lines[j], lines[i]
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestKallsymsCacheAgreesWithKallsyms(t *testing.T) {
	for _, tc := range []struct {
		name     string
		kallsyms string
		outside  uint64 // an address the cache must leave to kallsyms
	}{
		{"the fixture", fixtureKallsyms(t), 0xffffffffc0100010},
		{"a generated table", genKallsyms(1, 3000, true, false), 0xffffffffc0000000},
		{"a table that ends in the image", genKallsyms(2, 500, false, false), 0},
		{"a table with a module amid the image", genKallsyms(3, 3000, true, true), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, cacheDir := kernelProc(t, tc.kallsyms, testBootID, testRelease), t.TempDir()
			plain := New(Options{ProcRoot: root})
			New(Options{ProcRoot: root, CacheDir: cacheDir}).Kernel(0)
			cached := New(Options{ProcRoot: root, CacheDir: cacheDir})
			if k := cached.openKallsyms(); k.core == nil || k.read {
				t.Fatalf("the cache was not used")
			}
			if tc.outside != 0 && cached.kernel.core.covers(tc.outside) {
				t.Errorf("the cache covers %#x", tc.outside)
			}
			var addrs []uint64
			for line := range strings.Lines(tc.kallsyms) {
				if a, err := strconv.ParseUint(strings.Fields(line)[0], 16, 64); err == nil {
					addrs = append(addrs, a-1, a, a+1, a+7, a+0x1ff)
				}
			}
			// Random ones over the cache's range and a little around it.
			core := cached.kernel.core
			rnd := rand.New(rand.NewPCG(9, 9))
			for range 2000 {
				addrs = append(addrs, core.base-0x10+rnd.Uint64N(uint64(core.end(core.n-1))+0x20))
			}
			// The cache's addresses first: none of them may read kallsyms.
			slices.SortStableFunc(addrs, func(a, b uint64) int { return b2i(!core.covers(a)) - b2i(!core.covers(b)) })
			inCore := 0
			for _, a := range addrs {
				if core.covers(a) {
					inCore++
				}
				if got, want := cached.Kernel(a), plain.Kernel(a); !slices.Equal(got, want) {
					t.Fatalf("Kernel(%#x) = %+v from the cache, %+v from kallsyms", a, got, want)
				}
				if core.covers(a) && cached.kernel.read {
					t.Fatalf("Kernel(%#x) read kallsyms", a)
				}
			}
			if inCore < len(addrs)/4 {
				t.Errorf("only %d of %d addresses in the cache", inCore, len(addrs))
			}
			if got, want := cached.Stats(), plain.Stats(); got != want {
				t.Errorf("stats %+v with the cache, %+v without", got, want)
			}
		})
	}
}

func TestKallsymsCacheStopsWhereModulesCouldChangeAnEnd(t *testing.T) {
	for _, tc := range []struct {
		name     string
		kallsyms string
		want     []string // the names cached
	}{
		{"a module right after the image ends the last symbol: it is left out",
			"ffffffff81000000 T a\nffffffff81000100 T b\nffffffffc0000000 t m\t[mod]\n", []string{"a"}},
		{"a data symbol of the image ends the last text symbol",
			"ffffffff81000000 T a\nffffffff81000100 T b\nffffffff81000200 D d\nffffffffc0000000 t m\t[mod]\n", []string{"a", "b"}},
		{"the last line of the table has no end to trust",
			"ffffffff81000000 T a\nffffffff81000100 T b\n", []string{"a"}},
		{"module data amid the image stops the cache",
			"ffffffff81000000 T a\nffffffff81000100 T b\nffffffff81000180 d x\t[mod]\nffffffff81000200 T c\nffffffff81000300 D d\n", []string{"a"}},
		{"a BPF program below the image does not matter",
			"ffffffff80000000 t bpf_prog_1\t[bpf]\nffffffff81000000 T a\nffffffff81000100 D d\n", []string{"a"}},
		{"no symbol of the image, nothing to cache",
			"ffffffffc0000000 t m\t[mod]\nffffffffc0000100 t n\t[mod]\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table, err := readKallsymsTable(strings.NewReader(tc.kallsyms))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range coreSymbols(table) {
				got = append(got, s.name)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("cached %q, want %q", got, tc.want)
			}
		})
	}
}

func TestShowsAddresses(t *testing.T) {
	long := "0000000000000000 A " + strings.Repeat("n", 4096-19) + "ffffffff81000000 T tail\n"
	for _, tc := range []struct {
		name, kallsyms string
		want           bool
	}{
		{"a real address", "ffffffff81000000 T _stext\n", true},
		{"per-CPU zeros, then a real address", "0000000000000000 A fixed_percpu_data\n0000000000001000 D x\n", true},
		{"only zeros (kptr_restrict)", "0000000000000000 T _stext\n0000000000000000 T schedule\n", false},
		{"nothing", "", false},
		{"the rest of a long line is not a line", long, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "kallsyms")
			writeFile(t, p, tc.kallsyms)
			if got := showsAddresses(p); got != tc.want {
				t.Errorf("showsAddresses = %v, want %v", got, tc.want)
			}
		})
	}
	if showsAddresses(filepath.Join(t.TempDir(), "none")) {
		t.Error("a missing kallsyms shows addresses")
	}
}

func TestKallsymsCacheAgreesOnLiveKallsyms(t *testing.T) {
	needLinux(t)
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		skipOrFail(t, "no /proc/kallsyms: %v", err)
	}
	defer f.Close()
	var addrs []uint64
	sc := bufio.NewScanner(f)
	for i := 0; sc.Scan(); i++ {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || i%97 != 0 && len(fields) == 3 {
			continue
		}
		if a, err := strconv.ParseUint(fields[0], 16, 64); err == nil && a != 0 {
			addrs = append(addrs, a, a+1, a+0x20)
		}
	}
	if len(addrs) == 0 {
		skipOrFail(t, "/proc/kallsyms hides addresses (not root, or kptr_restrict)")
	}
	cacheDir := t.TempDir()
	New(Options{CacheDir: cacheDir}).Kernel(addrs[0])
	plain, cached := New(Options{}), New(Options{CacheDir: cacheDir})
	fromCache := 0
	for _, a := range addrs {
		got := cached.Kernel(a)
		if cached.kernel.core.covers(a) && !cached.kernel.read {
			fromCache++
		}
		if want := plain.Kernel(a); !slices.Equal(got, want) {
			t.Errorf("Kernel(%#x) = %+v from the cache, %+v from /proc/kallsyms", a, got, want)
		}
	}
	if fromCache < len(addrs)/2 {
		t.Errorf("only %d of %d addresses came from the cache", fromCache, len(addrs))
	}
	t.Logf("%d addresses, %d from the cache before the first outside it", len(addrs), fromCache)
}

// encodedFixture is the cache file of testdata/kallsyms.txt.
func encodedFixture(t testing.TB) []byte {
	t.Helper()
	data, err := encodeKallsymsCache(testBootID, testRelease, coreSymbols(mustTable(t, fixtureKallsyms(t))))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func FuzzKallsymsCache(f *testing.F) {
	seed := encodedFixture(f)
	f.Add(seed, false, uint64(0xffffffff81001101))
	f.Add(seed[:len(seed)/2], true, uint64(0xffffffff81000010))
	f.Add(seed[:kallsymsCacheHeader], true, uint64(0))
	big, err := encodeKallsymsCache(testBootID, testRelease, coreSymbols(mustTable(f, genKallsyms(4, 200, true, true))))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(big, false, uint64(0xffffffff81000400))
	f.Fuzz(func(t *testing.T, data []byte, fix bool, addr uint64) {
		if fix {
			// Past the checksum, to the checks behind it.
			fixCRC(data)
		}
		c, err := decodeKallsymsCache(data)
		if err != nil {
			return
		}
		syms := make([]ksym, c.n)
		for i := range syms {
			syms[i] = ksym{start: c.base + uint64(c.start(i)), end: c.base + uint64(c.end(i)), name: c.name(i), module: kernelModule}
		}
		again, err := encodeKallsymsCache(c.bootID, c.release, syms)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("a decoded file encodes to other bytes (%v)", err)
		}
		for _, a := range []uint64{addr, c.base, syms[c.n-1].end - 1, syms[c.n/2].start + 1} {
			if !c.covers(a) {
				continue
			}
			fr := c.frame(a)
			i := sort.Search(len(syms), func(i int) bool { return syms[i].start > a }) - 1
			want := Frame{Addr: a, Module: kernelModule}
			if i >= 0 && a < syms[i].end {
				want.Func, want.Offset = syms[i].name, a-syms[i].start
			}
			if fr != want {
				t.Fatalf("frame(%#x) = %+v, want %+v", a, fr, want)
			}
		}
	})
}

func mustTable(t testing.TB, text string) kallsymsTable {
	t.Helper()
	table, err := readKallsymsTable(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// BenchmarkKernelFirstCall times a run's first kernel address against
// this machine's /proc/kallsyms: with no cache (the whole table read and
// parsed), on the first run of a boot (the same, and the cache written),
// and on a later run (the cache read, kallsyms probed).
func BenchmarkKernelFirstCall(b *testing.B) {
	needLinux(b)
	if !showsAddresses("/proc/kallsyms") {
		skipOrFail(b, "/proc/kallsyms hides addresses (not root, or kptr_restrict)")
	}
	var schedule uint64
	if data, err := os.ReadFile("/proc/kallsyms"); err == nil {
		for line := range strings.Lines(string(data)) {
			if f := strings.Fields(line); len(f) == 3 && f[2] == "schedule" {
				schedule, _ = strconv.ParseUint(f[0], 16, 64)
			}
		}
	}
	warm := b.TempDir()
	New(Options{CacheDir: warm}).Kernel(schedule)
	for _, bc := range []struct {
		name  string
		cache func() string
	}{
		{"no cache", func() string { return "" }},
		{"first run of a boot", b.TempDir},
		{"later run", func() string { return warm }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				dir := bc.cache()
				b.StartTimer()
				if fr := New(Options{CacheDir: dir}).Kernel(schedule + 1); fr[0].Func != "schedule" {
					b.Fatalf("Kernel = %+v", fr)
				}
			}
		})
	}
	if fi, err := os.Stat(filepath.Join(warm, "kallsyms")); err == nil && fi.IsDir() {
		ents, _ := os.ReadDir(filepath.Join(warm, "kallsyms"))
		for _, e := range ents {
			if info, err := e.Info(); err == nil {
				b.Logf("cache file %s: %d bytes", e.Name(), info.Size())
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
