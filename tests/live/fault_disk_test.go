//go:build linux

package live

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fullDisk mounts a 64 KiB tmpfs and fills it with a file leaving free
// bytes, so that a write of more than free fails with ENOSPC part way.
// It returns the mount point; the tmpfs is unmounted when the test ends.
func fullDisk(t *testing.T, free int) string {
	t.Helper()
	needLive(t)
	dir := filepath.Join(t.TempDir(), "full")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		unavailable(t, "mounting a 64 KiB tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	if err := os.WriteFile(filepath.Join(dir, "filler"), make([]byte, 64<<10-free), 0o644); err != nil {
		t.Fatalf("filling the tmpfs: %v", err)
	}
	return dir
}

// readOnlyDir bind-mounts an empty directory read-only (root ignores
// file modes, not a read-only mount) and returns it.
func readOnlyDir(t *testing.T) string {
	t.Helper()
	needLive(t)
	src, dir := filepath.Join(t.TempDir(), "src"), filepath.Join(t.TempDir(), "ro")
	for _, d := range []string{src, dir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mount(src, dir, "", syscall.MS_BIND, ""); err != nil {
		unavailable(t, "bind-mounting %s: %v", dir, err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	if err := syscall.Mount("", dir, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		unavailable(t, "remounting %s read-only: %v", dir, err)
	}
	return dir
}

// onlyFiller fails the test if dir holds anything but the filler file: a
// failed export must not leave its temporary file behind.
func onlyFiller(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != "filler" {
			fi, _ := e.Info()
			t.Errorf("%s was left in the full directory (%d bytes)", e.Name(), fi.Size())
		}
	}
}

// readSamples parses a JSON-lines profile and returns how many samples
// its lines add up to; a line that is not a whole sample fails the test.
func readSamples(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the other output: %v", err)
	}
	defer f.Close()
	var total int64
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var s struct {
			Stack  []string         `json:"stack"`
			KStack []string         `json:"kstack"`
			Values map[string]int64 `json:"values"`
			Labels map[string]any   `json:"labels"`
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("%s:%d is not a JSON sample: %v\n%s", path, n, err, sc.Text())
		}
		if s.Values["samples"] != 1 || s.Labels["time"] == nil || len(s.Stack)+len(s.KStack) == 0 {
			t.Fatalf("%s:%d: want one sample with a stack and a time label:\n%s", path, n, sc.Text())
		}
		total += s.Values["samples"]
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return total
}

// An export to a full disk fails with the file's name and ENOSPC, fails
// the run, leaves no partial or temporary file, and the script's other
// export is written whole.
func TestAnExportToAFullDiskFailsTheRunAndTheOtherOutputIsWhole(t *testing.T) {
	const free = 16 << 10
	full := fullDisk(t, free)
	bad := filepath.Join(full, "profile.jsonl")
	good := filepath.Join(t.TempDir(), "profile.jsonl")
	// A time label makes every sample a line of its own: about 2,000
	// lines of 150 bytes or more, far past the 16 KiB left.
	script := fmt.Sprintf(`n := 0
p := otrace.profile()
otrace.on("profile:hz:999", {stack: "both"}, func(e) {
	n++
	p.add(e.stack, 1, {comm: e.comm, time: e.time})
})
otrace.end(func() {
	err := otrace.save(p, %q)
	otrace.printf("full_is_error %%v\n", is_error(err))
	otrace.save(p, %q)
	otrace.printf("samples %%d\n", n)
})`, bad, good)
	r := otrace(t, "run", "-d", "1s", "-e", script)
	if r.code != 1 {
		t.Errorf("want exit status 1 after a failed export:\n%v", r)
	}
	want := "export: writing " + bad + ": " + syscall.ENOSPC.Error()
	if !strings.Contains(r.stderr, want) {
		t.Errorf("want %q on stderr:\n%v", want, r)
	}
	if l := lines(r.stdout, "full_is_error"); len(l) != 1 || l[0][1] != "true" {
		t.Errorf("otrace.save must return an error value to the script:\n%v", r)
	}
	n := value(t, r, "samples")
	if n < 100 {
		t.Fatalf("only %d samples in a second at 999 Hz; the export may have fit:\n%v", n, r)
	}
	if got := readSamples(t, good); got != n {
		t.Errorf("the other output holds %d samples, the script added %d", got, n)
	}
	if fi, err := os.Stat(good); err == nil && fi.Size() <= free {
		t.Errorf("the other output is %d bytes: it would have fit in the %d bytes left, so the full disk was not tested", fi.Size(), free)
	}
	onlyFiller(t, full)
}

// The script's printed output (-o FILE) on a full disk: the write error
// names the file and fails the run, also when everything printed fits in
// otrace's buffer and only the last flush fails.
func TestPrintedOutputToAFullDiskFailsTheRun(t *testing.T) {
	full := fullDisk(t, 0)
	for _, c := range []struct{ name, code string }{
		{"a line", `otrace.printf("hello\n")`},
		{"more than the buffer", `for i := 0; i < 5000; i++ { otrace.printf("line %d of output that does not fit\n", i) }`},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(full, "out.txt")
			r := otrace(t, "run", "-o", out, "-e", "otrace.begin(func() { "+c.code+"; otrace.exit() })")
			want := out + ": " + syscall.ENOSPC.Error()
			if r.code != 1 || !strings.Contains(r.stderr, want) {
				t.Errorf("want exit status 1 and %q on stderr:\n%v", want, r)
			}
			os.Remove(out)
		})
	}
}

// otrace record on a full disk stops with ENOSPC and leaves neither the
// recording nor its temporary file.
func TestARecordingToAFullDiskFailsAndLeavesNoFile(t *testing.T) {
	prog := workload(t, "getppid")
	full := fullDisk(t, 16<<10)
	for _, name := range []string{"x.rec", "x.data"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(full, name)
			r := otrace(t, "record", "-o", out, "--buffer-size", roomyBuffer, "-e", "raw_syscalls:sys_enter", "--", prog, "100000")
			if r.code != 1 || !strings.Contains(r.stderr, out+": "+syscall.ENOSPC.Error()) {
				t.Errorf("want exit status 1 and %q on stderr:\n%v", out+": "+syscall.ENOSPC.Error(), r)
			}
			if n := strings.Count(r.stderr, syscall.ENOSPC.Error()); n != 1 {
				t.Errorf("the full disk is reported %d times, want once:\n%v", n, r)
			}
			onlyFiller(t, full)
		})
	}
}

// An output directory that cannot be written — on a read-only mount, or
// a path through a regular file — is a clear error naming the file, and
// the other outputs are still written. -o and record -o check their file
// before tracing starts.
func TestAnUnwritableOutputDirectoryIsAClearError(t *testing.T) {
	ro := readOnlyDir(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.folded")
	inRO, inFile := filepath.Join(ro, "p.pb.gz"), filepath.Join(file, "p.folded")
	script := fmt.Sprintf(`p := otrace.profile()
otrace.on("profile:hz:99", func(e) { p.add(e.stack, 1) })
otrace.end(func() {
	otrace.save(p, %q)
	otrace.save(p, %q)
	otrace.save(p, %q)
})`, inRO, inFile, good)
	r := otrace(t, "run", "-d", "300ms", "-e", script)
	if r.code != 1 {
		t.Errorf("want exit status 1:\n%v", r)
	}
	for _, want := range []string{
		"export: writing " + inRO + ": " + syscall.EROFS.Error(),
		"export: writing " + inFile + ": " + syscall.ENOTDIR.Error(),
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("want %q on stderr:\n%v", want, r)
		}
	}
	if b, err := os.ReadFile(good); err != nil || len(b) == 0 || b[len(b)-1] != '\n' {
		t.Errorf("the other output was not written whole (%d bytes): %v", len(b), err)
	}

	for _, c := range []struct {
		name, want string
		args       []string
	}{
		{"run -o in a read-only directory", syscall.EROFS.Error(), []string{"run", "-o", filepath.Join(ro, "out.txt"), "-e", `otrace.begin(func() { otrace.exit() })`}},
		{"run -o under a file", syscall.ENOTDIR.Error(), []string{"run", "-o", filepath.Join(file, "out.txt"), "-e", `otrace.begin(func() { otrace.exit() })`}},
		{"record -o in a read-only directory", syscall.EROFS.Error(), []string{"record", "-o", filepath.Join(ro, "x.rec"), "-e", "sched:sched_switch", "-d", "100ms"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := otrace(t, c.args...)
			if r.code == 0 || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, "events,") {
				t.Errorf("want a failure with %q before anything is traced:\n%v", c.want, r)
			}
		})
	}
	if ents, _ := os.ReadDir(ro); len(ents) != 0 {
		t.Errorf("%d files appeared on the read-only mount", len(ents))
	}
}
