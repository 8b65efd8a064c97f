//go:build linux

package tracefs

import (
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"otrace/runtime/event"

	"golang.org/x/sys/unix"
)

// argsSource calls a three-argument C function with known values once its
// parent, the test, says go on stdin: by then the test watches the process.
const argsSource = `#include <unistd.h>
__attribute__((noipa)) long target(long a, long b, long c) { return a * b + c; }
int main(void) {
	char go;
	if (read(0, &go, 1) != 1) return 2;
	long sum = 0;
	for (long i = 0; i < 3; i++) sum += target(10 + i, -2, 0x123456789);
	return sum == 0;
}
`

// sampleRing reads the raw payloads of one perf event's samples from its
// ring, once the workload is done: just enough of a perf reader to see
// what a uprobe fetched, laid out as its format says.
type sampleRing struct {
	fd  int
	mem []byte // the metadata page, then the data pages
}

// openSampleRing samples every hit of tracepoint id in process pid.
// (Inherited per-task events cannot be mapped, so the ring watches one
// process, not a test's children.)
func openSampleRing(t *testing.T, id uint32, pid int) *sampleRing {
	t.Helper()
	attr := unix.PerfEventAttr{
		Type:        unix.PERF_TYPE_TRACEPOINT,
		Config:      uint64(id),
		Size:        uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Sample:      1,
		Sample_type: unix.PERF_SAMPLE_RAW,
		Wakeup:      1,
	}
	fd, err := unix.PerfEventOpen(&attr, pid, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		t.Fatalf("perf_event_open(tracepoint %d, pid %d): %v", id, pid, err)
	}
	const dataPages = 8
	mem, err := unix.Mmap(fd, 0, (1+dataPages)*os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		t.Fatalf("mmap the ring of tracepoint %d: %v", id, err)
	}
	r := &sampleRing{fd: fd, mem: mem}
	t.Cleanup(r.close)
	return r
}

func (r *sampleRing) close() {
	if r.mem != nil {
		unix.Munmap(r.mem)
		unix.Close(r.fd)
		r.mem = nil
	}
}

// samples returns the raw payload of every sample in the ring, oldest
// first, and fails the test for any the ring lost.
func (r *sampleRing) samples(t *testing.T) [][]byte {
	t.Helper()
	meta := (*unix.PerfEventMmapPage)(unsafe.Pointer(&r.mem[0]))
	head := atomic.LoadUint64(&meta.Data_head)
	data := r.mem[meta.Data_offset : meta.Data_offset+meta.Data_size]
	at := func(pos, n uint64) []byte { // n bytes from pos, unwrapped
		b := make([]byte, n)
		for i := range b {
			b[i] = data[(pos+uint64(i))%uint64(len(data))]
		}
		return b
	}
	var out [][]byte
	for pos := uint64(0); pos < head; {
		hdr := at(pos, 8) // u32 type, u16 misc, u16 size
		typ, size := binary.NativeEndian.Uint32(hdr), uint64(binary.NativeEndian.Uint16(hdr[6:]))
		if size < 8 {
			t.Fatalf("a ring record at %d claims %d bytes", pos, size)
		}
		body := at(pos+8, size-8)
		switch typ {
		case unix.PERF_RECORD_SAMPLE: // u32 size, then the raw payload
			n := uint64(binary.NativeEndian.Uint32(body))
			if 4+n > uint64(len(body)) {
				t.Fatalf("a sample's raw size %d overruns its %d-byte record", n, size)
			}
			out = append(out, body[4:4+n])
		case unix.PERF_RECORD_LOST: // u64 id, u64 lost
			t.Errorf("the ring lost %d samples", binary.NativeEndian.Uint64(body[8:]))
		}
		pos += size
	}
	return out
}

// field reads the named unsigned field of raw as format f lays it out.
func field(t *testing.T, f *event.Format, raw []byte, name string) uint64 {
	t.Helper()
	fld := f.Field(name)
	if fld == nil {
		t.Fatalf("%s:%s has no field %s (fields %v)", f.System, f.Name, name, f.FieldNames())
	}
	v, ok := fld.Uint(raw)
	if !ok {
		t.Fatalf("field %s (offset %d, size %d) lies outside a %d-byte payload", name, fld.Offset, fld.Size, len(raw))
	}
	return v
}

// checkU64Fields checks that f has each named field as the kernel lays out
// a :u64 fetch: an unsigned 8-byte scalar of type u64, one after another,
// the first right after the kernel's own field after.
func checkU64Fields(t *testing.T, f *event.Format, after string, names ...string) {
	t.Helper()
	prev := f.Field(after)
	if prev == nil {
		t.Fatalf("%s:%s lost the kernel's field %s (fields %v)", f.System, f.Name, after, f.FieldNames())
	}
	for _, name := range names {
		fld := f.Field(name)
		if fld == nil {
			t.Fatalf("%s:%s has no field %s (fields %v)", f.System, f.Name, name, f.FieldNames())
		}
		if fld.Type != "u64" || fld.Size != 8 || fld.Signed || fld.Kind != event.Scalar {
			t.Errorf("field %s: %+v, want an unsigned 8-byte u64", name, *fld)
		}
		if fld.Offset != prev.Offset+prev.Size {
			t.Errorf("field %s at offset %d, want %d, right after %s", name, fld.Offset, prev.Offset+prev.Size, prev.Name)
		}
		prev = fld
	}
}

func TestLiveUprobeFetchesArgumentsAndReturnValue(t *testing.T) {
	fs := liveFS(t)
	out := filepath.Join(buildDir, "cargs")
	target := build(t, out, map[string]string{"args.c": argsSource}, "gcc", "-O1", "-fPIE", "-pie", "-o", out, "args.c")
	entry, err := fs.AddUprobe(Uprobe{Path: target, Symbol: "target"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := fs.RemoveUprobes(); err != nil {
			t.Error(err)
		}
	})
	ret, err := fs.AddUprobe(Uprobe{Path: target, Symbol: "target", Return: true})
	if err != nil {
		t.Fatal(err)
	}
	args := make([]string, 6)
	for i := range args {
		args[i] = ArgField(i)
	}
	checkU64Fields(t, entry.Format, "__probe_ip", args...)
	checkU64Fields(t, ret.Format, "__probe_ret_ip", RetvalField)
	if ret.Format.Field("__probe_func") == nil {
		t.Errorf("the uretprobe lost the kernel's __probe_func: %v", ret.Format.FieldNames())
	}

	cmd := exec.Command(target)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	t.Cleanup(func() {
		if !waited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	entryRing := openSampleRing(t, entry.ID, cmd.Process.Pid)
	retRing := openSampleRing(t, ret.ID, cmd.Process.Pid)
	if _, err := io.WriteString(stdin, "g"); err != nil {
		t.Fatal(err)
	}
	stdin.Close()
	err = cmd.Wait()
	waited = true
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}

	calls, rets := entryRing.samples(t), retRing.samples(t)
	if len(calls) != 3 || len(rets) != 3 {
		t.Fatalf("%d entries and %d returns sampled, want 3 of each", len(calls), len(rets))
	}
	for i := range 3 {
		a, b, c := int64(10+i), int64(-2), int64(0x123456789)
		got := [3]uint64{}
		for j := range got {
			got[j] = field(t, entry.Format, calls[i], ArgField(j))
		}
		if want := [3]uint64{uint64(a), uint64(b), uint64(c)}; got != want {
			t.Errorf("call %d: arg0..arg2 = %#x, want %#x", i, got, want)
		}
		if got, want := field(t, ret.Format, rets[i], RetvalField), uint64(a*b+c); got != want {
			t.Errorf("call %d: retval = %#x, want %#x", i, got, want)
		}
	}
	t.Logf("%s: %d calls seen with arguments and return values", entry, len(calls))
}

func TestLiveLibrariesResolveByShortName(t *testing.T) {
	fs := liveFS(t)
	targets := SystemTargets()
	libc, err := targets.Find("libc")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("libc is %s", libc)
	if fi, err := os.Stat(libc); err != nil || !fi.Mode().IsRegular() || !filepath.IsAbs(libc) {
		t.Fatalf("libc resolved to %s: %v", libc, err)
	}
	if _, err := SymbolOffset(libc, "malloc"); err != nil {
		t.Errorf("libc resolved to %s, which has no malloc: %v", libc, err)
	}
	for _, name := range []string{"libc.so.6", "libc.so"} {
		if p, err := targets.Find(name); err != nil || !sameFile(t, p, libc) {
			t.Errorf("Find(%s) = %s, %v; want the file libc found, %s", name, p, err, libc)
		}
	}
	if p, err := targets.Find("sh"); err != nil || !strings.HasSuffix(p, "/sh") {
		t.Errorf("Find(sh) = %s, %v; want a shell found on $PATH", p, err)
	}

	e, err := fs.AddUprobe(Uprobe{Path: "libc", Symbol: "malloc"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Remove()
	if e.Path != "libc" || e.ResolvedPath != libc {
		t.Errorf("Path %q, ResolvedPath %q; want libc as asked and %s found", e.Path, e.ResolvedPath, libc)
	}
	listing := readFile(t, filepath.Join(fs.Root(), "uprobe_events"))
	if !strings.Contains(listing, e.System+"/"+e.Name+" "+libc+":") {
		t.Errorf("uprobe_events does not place %s in %s:\n%s", e, libc, listing)
	}
	if err := e.Remove(); err != nil {
		t.Fatal(err)
	}
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}
