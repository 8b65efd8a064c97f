package unwind

import (
	"debug/elf"
	"os"
	"runtime"
	"strings"
	"testing"
)

// systemLibs are shared libraries of this machine whose CFI every
// process uses; the tests that read them skip where they are missing
// (they check real-world tables, not otrace's environment).
var systemLibs = []string{
	"/lib/x86_64-linux-gnu/libc.so.6",
	"/lib/x86_64-linux-gnu/libm.so.6",
	"/lib64/ld-linux-x86-64.so.2",
	"/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
}

func openSystemLib(t testing.TB, path string) *elf.File {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("the system libraries checked are x86-64 ones")
	}
	ef, err := elf.Open(path)
	if err != nil {
		t.Skipf("%s: %v", path, err)
	}
	t.Cleanup(func() { ef.Close() })
	return ef
}

// Every FDE of the system's libraries compiles, through the header's
// table, and each covers its own range.
func TestEveryFDEOfTheSystemLibrariesCompiles(t *testing.T) {
	for _, path := range systemLibs {
		t.Run(path, func(t *testing.T) {
			ef := openSystemLib(t, path)
			tab := TableFromELF(AMD64, ef, nil)
			if len(tab.sources) == 0 {
				t.Fatal("no CFI")
			}
			s := tab.sources[0]
			for i, pc := range s.pcs {
				r, row := tab.lookup(pc)
				if r == nil || row == nil {
					t.Errorf("FDE %d at %#x (offset %#x): no rules", i, pc, s.offs[i])
				}
			}
			if tab.Err != nil {
				t.Errorf("%d FDEs, first problem: %v", len(s.pcs), tab.Err)
			}
			t.Logf("%d FDEs", len(s.pcs))
		})
	}
}

// glibc's __restore_rt is the signal trampoline of every handler: its
// FDE is a signal frame whose CFA and registers come from the ucontext.
func TestGlibcSignalTrampolineRules(t *testing.T) {
	ef := openSystemLib(t, systemLibs[0])
	tab := TableFromELF(AMD64, ef, nil)
	var found *Rules
	for _, s := range tab.sources {
		for i := range s.pcs {
			if r, _ := tab.lookup(s.pcs[i]); r != nil && r.Signal {
				found = r
			}
		}
	}
	if found == nil {
		t.Skip("no signal frame FDE in libc (not glibc?)")
	}
	dump := found.String()
	for _, want := range []string{"cfa=exp(breg(rsp)+160; deref)", "rip=exp(breg(rsp)+168)", "rsp=exp(breg(rsp)+160)"} {
		if !strings.Contains(dump, want) {
			t.Errorf("__restore_rt's rules lack %q:\n%s", want, dump)
		}
	}
}

// BenchmarkTableFromLibc is the cold cost of a binary: reading libc's
// .eh_frame and indexing it through .eh_frame_hdr.
func BenchmarkTableFromLibc(b *testing.B) {
	ef := openSystemLib(b, systemLibs[0])
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		TableFromELF(AMD64, ef, nil)
	}
}

// BenchmarkCompileAllOfLibc compiles every FDE of libc once: the worst
// case of cold rules, amortized per FDE.
func BenchmarkCompileAllOfLibc(b *testing.B) {
	ef := openSystemLib(b, systemLibs[0])
	n := 0
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tab := TableFromELF(AMD64, ef, nil)
		for _, pc := range tab.sources[0].pcs {
			tab.lookup(pc)
		}
		n = len(tab.sources[0].pcs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/FDE")
}

func init() {
	if _, err := os.Stat("/lib/x86_64-linux-gnu"); err != nil {
		systemLibs = nil
	}
}
