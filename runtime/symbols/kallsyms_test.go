package symbols

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestKernelResolvesThroughKallsyms(t *testing.T) {
	r := New(Options{Kallsyms: testdata(t, "kallsyms.txt")})
	for _, tc := range []struct {
		name   string
		addr   uint64
		want   string
		offset uint64
		module string
	}{
		{"of two global aliases the one with fewer underscores wins", 0xffffffff81000010, "startup_64", 0x10, kernelModule},
		{"a local text symbol resolves", 0xffffffff81001010, "local_helper", 0x10, kernelModule},
		{"a global symbol wins over a local alias", 0xffffffff81001101, "schedule", 1, kernelModule},
		{"a line out of order is sorted in", 0xffffffff81001250, "out_of_order_local", 0x50, kernelModule},
		{"a weak symbol resolves", 0xffffffff81001450, "weak_thing", 0x50, kernelModule},
		{"a text symbol ends at the next data symbol", 0xffffffff81001500, "", 0, kernelModule},
		{"a module symbol names its module", 0xffffffffc0100010, "ext4_fill_super", 0x10, "[ext4]"},
		{"a global module symbol resolves", 0xffffffffc0100500, "ext4_iget", 0x100, "[ext4]"},
		{"module data is not text", 0xffffffffc0100900, "", 0, kernelModule},
		{"another module", 0xffffffffc0200010, "xfs_iget", 0x10, "[xfs]"},
		{"the last symbol does not reach forever", 0xffffffffc0200000 + 2<<20, "", 0, kernelModule},
		{"an address below the kernel is unknown", 0x10, "", 0, kernelModule},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr := r.Kernel(tc.addr)
			if len(fr) != 1 || fr[0].Func != tc.want || fr[0].Offset != tc.offset || fr[0].Module != tc.module || fr[0].Addr != tc.addr {
				t.Errorf("Kernel(%#x) = %+v, want %s+%#x in %s", tc.addr, fr, tc.want, tc.offset, tc.module)
			}
		})
	}
	if again := r.Kernel(0xffffffff81001101); again[0].Func != "schedule" || r.Stats().CacheHits != 1 {
		t.Errorf("a repeated address: %+v, stats %+v", again, r.Stats())
	}
}

func TestKernelWithRestrictedKallsymsNoticesOnce(t *testing.T) {
	var notices []string
	r := New(Options{Kallsyms: testdata(t, "kallsyms-restricted.txt"), Notice: func(s string) { notices = append(notices, s) }})
	for _, addr := range []uint64{0, 0x10, 0xffffffff81000000} {
		if fr := r.Kernel(addr); fr[0].Func != "" || fr[0].Module != kernelModule {
			t.Errorf("Kernel(%#x) = %+v under kptr_restrict", addr, fr)
		}
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "kptr_restrict") {
		t.Errorf("notices %q, want one about kptr_restrict", notices)
	}
}

func TestKernelResolvesLiveKallsyms(t *testing.T) {
	needLinux(t)
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		skipOrFail(t, "no /proc/kallsyms: %v", err)
	}
	defer f.Close()
	// Every text name at each address: aliases (__x64_sys_getppid and
	// __ia32_sys_getppid) share one.
	names := map[uint64][]string{}
	want := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || !strings.ContainsAny(fields[1], "tTwW") {
			continue
		}
		addr, _ := strconv.ParseUint(fields[0], 16, 64)
		names[addr] = append(names[addr], fields[2])
		if len(fields) == 3 && (fields[2] == "schedule" || fields[2] == "__x64_sys_getppid") {
			want[fields[2]] = addr
		}
	}
	if want["schedule"] == 0 {
		skipOrFail(t, "/proc/kallsyms hides addresses (not root, or kptr_restrict)")
	}
	r := New(Options{})
	for name, addr := range want {
		fr := r.Kernel(addr + 1)
		if !slices.Contains(names[addr], fr[0].Func) || fr[0].Offset != 1 || fr[0].Module != kernelModule {
			t.Errorf("%s+1 at %#x resolved to %+v, want one of %v", name, addr+1, fr, names[addr])
		}
		if len(names[addr]) == 1 && fr[0].Func != name {
			t.Errorf("%s+1 resolved to %s", name, fr[0].Func)
		}
	}
}

// BenchmarkParseKallsyms parses a copy of this machine's /proc/kallsyms
// from a file, as otrace reads it: the user-space part of loading kernel
// symbols (the kernel's printing of /proc/kallsyms costs about as much
// again).
func BenchmarkParseKallsyms(b *testing.B) {
	data, err := os.ReadFile("/proc/kallsyms")
	if err != nil || len(data) == 0 {
		b.Skip("no /proc/kallsyms")
	}
	tmp := filepath.Join(b.TempDir(), "kallsyms")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f, err := os.Open(tmp)
		if err != nil {
			b.Fatal(err)
		}
		_, _, err = parseKallsyms(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
}
