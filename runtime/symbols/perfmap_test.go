package symbols

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeProc lays out ProcRoot/PID/status and ProcRoot/PID/root/tmp/ for a
// process, and returns the ProcRoot and the perf map's path.
func fakeProc(t *testing.T, pid, nspid, uid int, mapBody string) (procRoot, mapPath string) {
	t.Helper()
	procRoot = t.TempDir()
	pidDir := filepath.Join(procRoot, strconv.Itoa(pid))
	if err := os.MkdirAll(filepath.Join(pidDir, "root", "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	status := "Name:\tnode\nUid:\t" + strconv.Itoa(uid) + "\t" + strconv.Itoa(uid) + "\t" + strconv.Itoa(uid) + "\t" + strconv.Itoa(uid) + "\n" +
		"NSpid:\t" + strconv.Itoa(pid)
	if nspid != pid {
		status += "\t" + strconv.Itoa(nspid)
	}
	if err := os.WriteFile(filepath.Join(pidDir, "status"), []byte(status+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mapPath = filepath.Join(pidDir, "root", "tmp", "perf-"+strconv.Itoa(nspid)+".map")
	if err := os.WriteFile(mapPath, []byte(mapBody), 0o644); err != nil {
		t.Fatal(err)
	}
	return procRoot, mapPath
}

const perfMapBody = `1000 100 first
garbage line
zz 10 bad_hex
2000 10
0x3000 0x20 with_prefix
1050 20 newer_over_first
4000 0 sized_zero
4100 10 after_zero
5000 10 LazyCompile:*foo /app/x.js:1
6000 10 _ZN3geo6shapes6Widget4spinEi
`

func TestJITReadsPerfMaps(t *testing.T) {
	procRoot, _ := fakeProc(t, 4242, 4242, os.Geteuid(), perfMapBody)
	r := New(Options{ProcRoot: procRoot})
	defer r.Close()
	for _, tc := range []struct {
		name   string
		addr   uint64
		want   string
		offset uint64
	}{
		{"the first line resolves at its start", 0x1000, "first", 0},
		{"a later overlapping line wins where it overlaps", 0x1055, "newer_over_first", 5},
		{"the earlier line still owns what the later one left", 0x1080, "first", 0x80},
		{"a 0x prefix is accepted", 0x301f, "with_prefix", 0x1f},
		{"the end of a range is outside it", 0x3020, "", 0},
		{"a line without a name is ignored", 0x2005, "", 0},
		{"size 0 reaches to the next entry", 0x40ff, "sized_zero", 0xff},
		{"the entry after a size-0 one starts on time", 0x4100, "after_zero", 0},
		{"names keep their spaces", 0x5001, "LazyCompile:*foo /app/x.js:1", 1},
		{"mangled names are demangled", 0x6002, "geo::shapes::Widget::spin", 2},
		{"an address below every entry is unknown", 0x10, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr, ok := r.JIT(4242, tc.addr)
			if ok != (tc.want != "") || fr[0].Func != tc.want || fr[0].Offset != tc.offset || fr[0].Addr != tc.addr {
				t.Errorf("JIT(%#x) = %+v, %v; want %q+%#x", tc.addr, fr, ok, tc.want, tc.offset)
			}
			if ok && fr[0].Module != jitModule {
				t.Errorf("module %q", fr[0].Module)
			}
		})
	}
}

func TestJITRereadsAPerfMapThatGrew(t *testing.T) {
	procRoot, mapPath := fakeProc(t, 77, 77, os.Geteuid(), "1000 10 early\n7000 10 partial")
	r := New(Options{ProcRoot: procRoot})
	defer r.Close()
	if _, ok := r.JIT(77, 0x1001); !ok {
		t.Fatal("the first entry did not resolve")
	}
	if fr, ok := r.JIT(77, 0x7001); ok {
		t.Fatalf("a line still being written resolved: %+v", fr)
	}
	f, err := os.OpenFile(mapPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("_done\n8000 10 late\n")
	f.Close()
	for addr, want := range map[uint64]string{0x8002: "late", 0x7003: "partial_done", 0x1001: "early"} {
		if fr, ok := r.JIT(77, addr); !ok || fr[0].Func != want {
			t.Errorf("after growth, JIT(%#x) = %+v, want %s", addr, fr, want)
		}
	}
}

func TestJITFindsAContainersMapUnderItsNamespacePID(t *testing.T) {
	procRoot, _ := fakeProc(t, 9001, 12, os.Geteuid(), "1000 10 in_container\n")
	r := New(Options{ProcRoot: procRoot})
	defer r.Close()
	if fr, ok := r.JIT(9001, 0x1000); !ok || fr[0].Func != "in_container" {
		t.Errorf("JIT = %+v, %v", fr, ok)
	}
}

func TestJITRefusesAMapNotOwnedByRootOrTheProcess(t *testing.T) {
	needLinux(t)
	if os.Geteuid() != 0 {
		skipOrFail(t, "changing a file's owner needs root")
	}
	procRoot, mapPath := fakeProc(t, 555, 555, 0, "1000 10 planted\n")
	if err := os.Chown(mapPath, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	var notices []string
	r := New(Options{ProcRoot: procRoot, Notice: func(s string) { notices = append(notices, s) }})
	defer r.Close()
	for range 3 {
		if fr, ok := r.JIT(555, 0x1000); ok || fr[0].Func != "" {
			t.Fatalf("a map owned by uid 65534 resolved %+v for a root process", fr)
		}
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "owned by uid 65534") {
		t.Errorf("notices %q, want one about the owner", notices)
	}

	// The process's own user may write it.
	procRoot, mapPath = fakeProc(t, 556, 556, 65534, "1000 10 own\n")
	if err := os.Chown(mapPath, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	r2 := New(Options{ProcRoot: procRoot})
	defer r2.Close()
	if fr, ok := r2.JIT(556, 0x1000); !ok || fr[0].Func != "own" {
		t.Errorf("a map owned by the process's user: %+v, %v", fr, ok)
	}
}

func TestJITWithoutAMapIsUnknown(t *testing.T) {
	r := New(Options{ProcRoot: t.TempDir()})
	fr, ok := r.JIT(1, 0x1234)
	if ok || fr[0].Func != "" || fr[0].Module != "[unknown]" || fr[0].Addr != 0x1234 {
		t.Errorf("JIT = %+v, %v", fr, ok)
	}
}
