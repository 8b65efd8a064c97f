//go:build linux

package tracefs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Live tests run against the machine's tracefs. With OTRACE_LIVE=1 they
// must run and fail when they cannot; otherwise they skip when not root or
// when there is no tracefs.

// liveFS opens the real tracefs, or skips (fails under OTRACE_LIVE=1).
func liveFS(t *testing.T) *FS {
	t.Helper()
	if os.Geteuid() != 0 {
		skipUnlessLive(t, "live tracefs tests need root")
	}
	var notices []string
	fs, err := Open(Options{Notice: func(s string) { notices = append(notices, s) }})
	if err != nil {
		skipUnlessLive(t, err.Error())
	}
	for _, n := range notices {
		t.Log(n)
	}
	return fs
}

func TestLiveCatalogueListsRealTracepoints(t *testing.T) {
	fs := liveFS(t)
	start := time.Now()
	events, err := fs.Events()
	first := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, err := fs.Events(); err != nil {
		t.Fatal(err)
	}
	t.Logf("listed %d events from %s in %.2f ms (cached: %.3f ms)", len(events), fs.Root(),
		float64(first.Microseconds())/1000, float64(time.Since(start).Microseconds())/1000)
	if len(events) <= 1000 {
		t.Errorf("only %d events, want more than 1000", len(events))
	}
	if first > 100*time.Millisecond {
		t.Errorf("listing took %v: more than otrace's whole start-up budget of 100 ms", first)
	}
	if !slices.IsSorted(events) {
		t.Error("the catalogue is not sorted")
	}
	// Everything available_events lists is in the catalogue.
	avail := readFile(t, filepath.Join(fs.Root(), "available_events"))
	for _, name := range strings.Fields(avail) {
		if _, found := slices.BinarySearch(events, name); !found {
			t.Errorf("available_events lists %s, the catalogue does not", name)
		}
	}

	f, err := fs.Format("sched", "sched_switch")
	if err != nil {
		t.Fatal(err)
	}
	id, err := strconv.Atoi(strings.TrimSpace(readFile(t, filepath.Join(fs.Root(), "events/sched/sched_switch/id"))))
	if err != nil {
		t.Fatal(err)
	}
	if int(f.ID) != id || f.Field("prev_pid") == nil || f.Field("next_comm") == nil {
		t.Errorf("sched:sched_switch: ID %d (id file: %d), fields %v", f.ID, id, f.FieldNames())
	}
	if got := fs.Match("sched:sched_switch"); !slices.Equal(got, []string{"sched:sched_switch"}) {
		t.Errorf("Match(sched:sched_switch) = %q", got)
	}
	if _, err := fs.Format("sched", "sched_swich"); err == nil || !strings.Contains(err.Error(), "did you mean sched:sched_switch") {
		t.Errorf("a typo's error = %v, want a suggestion", err)
	}
}

// openCounter counts the tracepoint id in this thread and the children it
// starts from now on (inherit: an exited child's count is added to ours).
// It locks the goroutine to its thread so the children are forked by the
// counted thread; closeCounter unlocks.
func openCounter(t *testing.T, id uint32) int {
	t.Helper()
	runtime.LockOSThread()
	attr := unix.PerfEventAttr{
		Type:   unix.PERF_TYPE_TRACEPOINT,
		Config: uint64(id),
		Size:   uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Bits:   unix.PerfBitInherit,
	}
	fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("perf_event_open(tracepoint %d): %v", id, err)
	}
	return fd
}

func closeCounter(fd int) {
	unix.Close(fd)
	runtime.UnlockOSThread()
}

func readCounter(t *testing.T, fd int) uint64 {
	t.Helper()
	var buf [8]byte
	if n, err := unix.Read(fd, buf[:]); err != nil || n != 8 {
		t.Fatalf("read counter: %d bytes, %v", n, err)
	}
	return binary.NativeEndian.Uint64(buf[:])
}

// uprobeListed reports whether uprobe_events lists group/name.
func uprobeListed(t *testing.T, fs *FS, group, name string) bool {
	t.Helper()
	for _, p := range parseProbeList(readFile(t, filepath.Join(fs.Root(), "uprobe_events"))) {
		if p.group == group && p.event == name {
			return true
		}
	}
	return false
}

func TestLiveUprobeFiresAndIsRemoved(t *testing.T) {
	fs := liveFS(t)
	target := goTarget(t, false)
	e, err := fs.AddUprobe(Uprobe{Path: target, Symbol: "main.target"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.RemoveUprobes() })
	group := fmt.Sprintf("otrace_%d", os.Getpid())
	if e.System != group || e.Name != "main_target" || e.ID == 0 || e.Format.Field("__probe_ip") == nil {
		t.Fatalf("event %s: ID %d, fields %v", e, e.ID, e.Format.FieldNames())
	}
	if !uprobeListed(t, fs, group, "main_target") {
		t.Fatalf("uprobe_events does not list %s/main_target", group)
	}
	if events, _ := fs.Events(); !slices.Contains(events, e.String()) {
		t.Errorf("the catalogue lacks the new event %s", e)
	}

	fd := openCounter(t, e.ID)
	const runs, calls = 3, 7
	for range runs {
		if out, err := exec.Command(target, strconv.Itoa(calls)).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", target, err, out)
		}
	}
	if got := readCounter(t, fd); got != runs*calls {
		t.Errorf("the uprobe fired %d times, want %d (%d runs of %d calls)", got, runs*calls, runs, calls)
	}

	err = e.Remove()
	if err == nil || !errors.Is(err, syscall.EBUSY) || !strings.Contains(err.Error(), "close the perf events first") {
		t.Errorf("Remove with a perf event open: err = %v, want it to say the event is in use", err)
	} else {
		t.Logf("Remove while open: %v", err)
	}
	closeCounter(fd)
	if err := e.Remove(); err != nil {
		t.Fatal(err)
	}
	if uprobeListed(t, fs, group, "main_target") {
		t.Error("uprobe_events still lists the removed event")
	}
	if _, err := os.Stat(filepath.Join(fs.Root(), "events", group, "main_target")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the removed event's directory: %v", err)
	}
	if events, _ := fs.Events(); slices.Contains(events, e.String()) {
		t.Errorf("the catalogue still lists the removed event %s", e)
	}
}

func TestLiveUretprobeHasReturnFields(t *testing.T) {
	fs := liveFS(t)
	// A C target: a uretprobe rewrites the return address on the stack,
	// which a Go program must never run with.
	target := cTarget(t, true)
	e, err := fs.AddUprobe(Uprobe{Path: target, Symbol: "target", Return: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.RemoveUprobes() })
	if e.Name != "target__return" || e.Format.Field("__probe_func") == nil || e.Format.Field("__probe_ret_ip") == nil {
		t.Errorf("event %s: fields %v, want __probe_func and __probe_ret_ip", e, e.Format.FieldNames())
	}
	fd := openCounter(t, e.ID)
	if out, err := exec.Command(target, "5").CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", target, err, out)
	}
	if got := readCounter(t, fd); got != 5 {
		t.Errorf("the uretprobe fired %d times, want 5", got)
	}
	closeCounter(fd)
	if err := fs.RemoveUprobes(); err != nil {
		t.Fatal(err)
	}
	if uprobeListed(t, fs, e.System, e.Name) {
		t.Error("uprobe_events still lists the removed event")
	}
}

func TestLiveKernelRefusalQuotesErrorLog(t *testing.T) {
	fs := liveFS(t)
	target := goTarget(t, false)
	e, err := fs.AddUprobe(Uprobe{Path: target, Symbol: "main.target"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Remove()
	// The same name as the other kind of probe: the kernel refuses.
	cmd := fmt.Sprintf("r:%s/%s %s:%#x", e.System, e.Name, target, e.FileOffset)
	err = fs.command(cmd)
	if err == nil || !strings.Contains(err.Error(), "error_log: ") || !errors.Is(err, os.ErrExist) {
		t.Errorf("a refused command: err = %v, want the errno and the error_log reason", err)
	}
	t.Logf("refused: %v", err)
}

// deadPID returns a pid no process has.
func deadPID(t *testing.T) int {
	t.Helper()
	for pid := 999999; pid < 1<<22; pid++ {
		if !processAlive(pid) {
			return pid
		}
	}
	t.Fatal("no free pid")
	return 0
}

func TestLiveStaleGroupsAreCleaned(t *testing.T) {
	fs := liveFS(t)
	target := goTarget(t, false)
	off, err := SymbolOffset(target, "main.target")
	if err != nil {
		t.Fatal(err)
	}
	group := fmt.Sprintf("otrace_%d", deadPID(t))
	f, err := os.OpenFile(filepath.Join(fs.Root(), "uprobe_events"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{
		fmt.Sprintf("p:%s/x %s:%#x", group, target, off),
		fmt.Sprintf("p:%s/y %s:%#x", group, target, off),
	} {
		if _, err := f.WriteString(cmd + "\n"); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
	}
	f.Close()
	t.Cleanup(func() {
		for _, name := range []string{"x", "y"} {
			fs.removeEvent(group, name)
		}
	})
	if !uprobeListed(t, fs, group, "x") {
		t.Fatalf("the planted %s/x is not listed", group)
	}
	n, err := fs.CleanStaleUprobes()
	if err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Errorf("removed %d stale events, want at least the 2 planted", n)
	}
	if uprobeListed(t, fs, group, "x") || uprobeListed(t, fs, group, "y") {
		t.Errorf("%s is still listed:\n%s", group, readFile(t, filepath.Join(fs.Root(), "uprobe_events")))
	}
	if _, err := os.Stat(filepath.Join(fs.Root(), "events", group)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stale group's directory: %v", err)
	}
}

// mountChildEnv marks the re-executed test binary that checks Open mounts a
// missing tracefs, inside a private mount namespace.
const mountChildEnv = "OTRACE_TRACEFS_MOUNT_CHILD"

func TestLiveOpenMountsAMissingTracefs(t *testing.T) {
	liveFS(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), mountChildEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS} // Go makes / private
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s", err, out.String())
	}
	t.Logf("child:\n%s", out.String())
	if !strings.Contains(out.String(), "notice: otrace: mounted tracefs at /sys/kernel/tracing\n") {
		t.Errorf("the child did not report mounting tracefs")
	}
	var n int
	for _, line := range strings.Split(out.String(), "\n") {
		if s, ok := strings.CutPrefix(line, "events: "); ok {
			n, _ = strconv.Atoi(s)
		}
	}
	if n <= 1000 {
		t.Errorf("the freshly mounted tracefs listed %d events", n)
	}
}

// liveChild runs the mount check when this process is the child of
// TestLiveOpenMountsAMissingTracefs: it hides every tracefs under tmpfs in
// its own mount namespace, then expects Open to mount one. The mount shares
// the system's one tracefs superblock; Open passes no mount options, so it
// changes nothing outside the namespace.
func liveChild() (int, bool) {
	if os.Getenv(mountChildEnv) != "1" {
		return 0, false
	}
	for _, dir := range []string{tracingDir, "/sys/kernel/debug"} {
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
			fmt.Printf("hide %s: %v\n", dir, err)
			return 1, true
		}
	}
	if err := hasEvents(tracingDir); err == nil {
		fmt.Println("tracefs still visible after hiding it")
		return 1, true
	}
	fs, err := Open(Options{Notice: func(s string) { fmt.Println("notice: " + s) }})
	if err != nil {
		fmt.Println(err)
		return 1, true
	}
	events, err := fs.Events()
	if err != nil {
		fmt.Println(err)
		return 1, true
	}
	fmt.Printf("events: %d\n", len(events))
	return 0, true
}
