package symbols

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const libcPath = "/lib/x86_64-linux-gnu/libc.so.6"

// goToolPath is the go command of the toolchain running the tests: a
// large static Go binary with .symtab.
func goToolPath(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		skipOrFail(tb, "go env GOROOT: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "bin", "go")
}

// textAddrs spreads n distinct addresses over the .text section of path.
// It returns a mapping of the file at an arbitrary base, the addresses as
// ELF virtual addresses (for addr2line) and as process addresses in that
// mapping (for User).
func textAddrs(tb testing.TB, path string, n int) (Object, []uint64, []uint64) {
	tb.Helper()
	ef, err := elf.Open(path)
	if err != nil {
		skipOrFail(tb, "%s: %v", path, err)
	}
	defer ef.Close()
	text := ef.Section(".text")
	if text == nil || text.Size < uint64(n) {
		tb.Fatalf("%s: .text too small for %d addresses", path, n)
	}
	obj, _ := fileObject(tb, path, text.Addr, 0x7f0000000000)
	var seg *elf.Prog
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD && p.Vaddr <= text.Addr && text.Addr < p.Vaddr+p.Filesz {
			seg = p
		}
	}
	stride := text.Size / uint64(n)
	vaddrs := make([]uint64, n)
	procs := make([]uint64, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range vaddrs {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		v := text.Addr + uint64(i)*stride + x%stride
		vaddrs[i] = v
		procs[i] = obj.Start + (v - seg.Vaddr) + (seg.Off - obj.Pgoff)
	}
	return obj, vaddrs, procs
}

func benchFiles(b *testing.B) map[string]string {
	return map[string]string{"libc": libcPath, "go": goToolPath(b)}
}

func BenchmarkUserCached(b *testing.B) {
	for name, path := range benchFiles(b) {
		b.Run(name, func(b *testing.B) {
			obj, _, addrs := textAddrs(b, path, 1000)
			r := New(Options{})
			defer r.Close()
			addr := addrs[500]
			if fr := r.User(obj, addr); fr[0].Func == "" {
				b.Fatalf("%#x did not resolve", addr)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				r.User(obj, addr)
			}
		})
	}
}

// BenchmarkResolve100kUnique measures a fresh Resolver opening and
// parsing the binary and resolving 100,000 distinct addresses in it, with
// DWARF lines and inlined frames (where the binary or its debug file has
// DWARF) and without.
func BenchmarkResolve100kUnique(b *testing.B) {
	for name, path := range benchFiles(b) {
		for _, noLines := range []bool{false, true} {
			sub := name
			if noLines {
				sub += "-nolines"
			}
			b.Run(sub, func(b *testing.B) {
				if _, err := os.Stat(path); err != nil {
					skipOrFail(b, "%v", err)
				}
				obj, _, addrs := textAddrs(b, path, 100_000)
				b.ReportAllocs()
				for b.Loop() {
					r := New(Options{NoLines: noLines})
					for _, a := range addrs {
						r.User(obj, a)
					}
					r.Close()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(addrs)), "ns/addr")
			})
		}
	}
}

func BenchmarkKernelCached(b *testing.B) {
	r := New(Options{Kallsyms: filepath.Join("testdata", "kallsyms.txt")})
	r.Kernel(0xffffffff81001101)
	b.ReportAllocs()
	for b.Loop() {
		r.Kernel(0xffffffff81001101)
	}
}
