package perf

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// Live tests open real perf events. With OTRACE_LIVE=1 they must run and
// fail when they cannot; otherwise they run as root and skip when this
// machine cannot trace.

func liveOrSkip(t *testing.T) (require bool) {
	t.Helper()
	if os.Getenv("OTRACE_LIVE") == "1" {
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("live perf test: needs root (set OTRACE_LIVE=1 to require it)")
	}
	return false
}

// cannot fails the test when live tests are required, else skips it.
func cannot(t *testing.T, require bool, format string, args ...any) {
	t.Helper()
	if require {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// getppidLoop is the workload: exactly N getppid system calls, with no
// Pdeathsig (whose check in the child would add one).
const getppidLoop = `package main

import (
	"os"
	"strconv"
	"syscall"
)

func main() {
	n, err := strconv.Atoi(os.Args[1])
	if err != nil {
		os.Exit(2)
	}
	for range n {
		syscall.Getppid()
	}
}
`

// sysGetppid is getppid's number (110 on x86-64).
const sysGetppid = unix.SYS_GETPPID

func buildGetppidLoop(t *testing.T, require bool) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		cannot(t, require, "building the workload: %v", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte(getppidLoop), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "getppid-loop")
	cmd := exec.Command(goTool, "build", "-o", bin, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		cannot(t, require, "building the workload: %v\n%s", err, out)
	}
	return bin
}

// childSink counts what the live test asserts on.
type childSink struct {
	ev          *event.Event
	id          *event.Field
	child, self int32

	records  int
	getppid  int            // sys_enter samples of the child with id 110
	syscalls map[int64]int  // the child's other sys_enter samples, by id
	selfSeen int            // samples of this process (must be none)
	comms    []process.Comm // of the child
	exits    int            // EXITs of the child's main thread
	forked   bool           // the FORK that made the child
	lost     uint64
	badID    int // samples whose id field does not decode
}

func (s *childSink) Sample(r *event.Record) {
	s.records++
	if r.PID == s.self {
		s.selfSeen++
	}
	if r.PID != s.child || r.Event != s.ev {
		return
	}
	id, ok := s.id.Int(r.Raw)
	switch {
	case !ok:
		s.badID++
	case id == sysGetppid:
		s.getppid++
	default:
		s.syscalls[id]++
	}
}

func (s *childSink) Comm(c process.Comm) {
	s.records++
	if c.PID == s.child {
		s.comms = append(s.comms, c)
	}
}

func (s *childSink) Fork(f process.Fork) {
	s.records++
	if f.PID == s.child && f.TID == s.child && f.PPID == s.self {
		s.forked = true
	}
}

func (s *childSink) Exit(e process.Exit) {
	s.records++
	if e.PID == s.child && e.TID == s.child {
		s.exits++
	}
}

func (s *childSink) Mmap(process.Mmap)   { s.records++ }
func (s *childSink) Lost(l session.Lost) { s.records++; s.lost += l.Count }
func (s *childSink) Tick(uint64)         {}

// perfFDs lists this process's perf, epoll and eventfd descriptors, by
// number, with what they point at.
func perfFDs(t *testing.T) map[string]string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	fds := map[string]string{}
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil && strings.HasPrefix(target, "anon_inode:") {
			fds[e.Name()] = target
		}
	}
	return fds
}

func perfMappings(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "perf_event")
}

// threadCPU is the CPU time of the calling thread, which Enable locked
// the test goroutine to: the collector's CPU.
func threadCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

func TestLiveSysEnterOfAChildIsCountedExactly(t *testing.T) {
	require := liveOrSkip(t)
	const n = 20_000
	bin := buildGetppidLoop(t, require)

	fdsBefore := perfFDs(t)
	mapsBefore := perfMappings(t)
	src := New(Options{Notice: func(s string) { t.Log(s) }})
	closed := false
	defer func() {
		if !closed {
			src.Close()
		}
	}()
	ev, err := src.Catalog().Lookup("raw_syscalls:sys_enter")
	if err != nil {
		cannot(t, require, "looking up raw_syscalls:sys_enter: %v", err)
	}
	idField := ev.Format.Field("id")
	if idField == nil {
		t.Fatalf("raw_syscalls:sys_enter has no id field: %v", ev.Format.FieldNames())
	}
	if err := src.Enable([]*event.Event{ev}); err != nil {
		cannot(t, require, "enabling raw_syscalls:sys_enter: %v", err)
	}
	opened := map[string]string{}
	for fd, target := range perfFDs(t) {
		if fdsBefore[fd] != target {
			opened[fd] = target
		}
	}
	if want := 2*len(src.cpus) + 2; len(opened) != want { // a ring and sys_enter per CPU, epoll, eventfd
		t.Errorf("Enable opened %d descriptors %v, want %d", len(opened), opened, want)
	}

	cmd := exec.Command(bin, strconv.Itoa(n))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sink := &childSink{ev: ev, id: idField, child: int32(cmd.Process.Pid), self: int32(os.Getpid()), syscalls: map[int64]int{}}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	cpu0, start := threadCPU(), time.Now()
	deadline := time.After(60 * time.Second)
	for exited := false; !exited; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("the workload failed: %v", err)
			}
			exited = true
		case <-deadline:
			t.Fatalf("the workload has not exited after 60 s")
		default:
		}
		if err := src.Read(sink); err != nil {
			t.Fatalf("Read: %v", err)
		}
	}
	src.Drain(sink)
	cpu, wall := threadCPU()-cpu0, time.Since(start)
	src.Finish()

	if sink.lost != 0 || ev.Lost != 0 {
		t.Errorf("lost %d records and %d sys_enter samples", sink.lost, ev.Lost)
	}
	if sink.getppid != n {
		t.Errorf("%d sys_enter samples of getppid from the child, want %d", sink.getppid, n)
	}
	if sink.badID != 0 {
		t.Errorf("%d sys_enter samples whose id field does not decode", sink.badID)
	}
	if sink.selfSeen != 0 {
		t.Errorf("%d samples of otrace's own process were delivered", sink.selfSeen)
	}
	if !sink.forked {
		t.Errorf("no FORK of the child from this process")
	}
	var exec *process.Comm
	for i, c := range sink.comms {
		if c.Exec {
			exec = &sink.comms[i]
		}
	}
	if exec == nil || exec.Comm != "getppid-loop" || exec.TID != sink.child {
		t.Errorf("no exec COMM of getppid-loop for the child; its COMMs: %+v", sink.comms)
	}
	if sink.exits != 1 {
		t.Errorf("%d EXITs of the child's main thread, want 1", sink.exits)
	}
	st := src.Stats()
	if st.Malformed != 0 {
		t.Errorf("parser stats %+v", st)
	}
	t.Logf("%d records in %v (%d getppid, other syscalls of the child %v); stats %+v; out of order %d",
		sink.records, wall.Round(time.Millisecond), sink.getppid, sink.syscalls, st, src.OutOfOrder)
	if sink.records > 0 {
		t.Logf("collector CPU %v: %.0f ns per record", cpu.Round(time.Microsecond), float64(cpu.Nanoseconds())/float64(sink.records))
	}

	closed = true
	if err := src.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	after := perfFDs(t)
	for fd, target := range opened {
		if after[fd] == target {
			t.Errorf("descriptor %s (%s) is still open after Close", fd, target)
		}
	}
	if n := perfMappings(t); n != mapsBefore {
		t.Errorf("%d perf mappings after Close, %d before", n, mapsBefore)
	}
}

func TestLiveCloseAfterAFailedEnableClosesEverything(t *testing.T) {
	require := liveOrSkip(t)
	fdsBefore := perfFDs(t)
	mapsBefore := perfMappings(t)
	src := New(Options{})
	ev, err := src.Catalog().Lookup("raw_syscalls:sys_enter")
	if err != nil {
		cannot(t, require, "looking up raw_syscalls:sys_enter: %v", err)
	}
	bad := *ev
	bad.Filter = "no_such_field == 1"
	err = src.Enable([]*event.Event{&bad})
	if err == nil {
		src.Close()
		t.Fatalf("Enable accepted a filter on a field sys_enter does not have")
	}
	if !strings.Contains(err.Error(), "no_such_field") {
		t.Errorf("the error does not name the filter: %v", err)
	}
	if err := src.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	after := perfFDs(t)
	var left []string
	for fd, target := range after {
		if fdsBefore[fd] != target {
			left = append(left, fmt.Sprintf("%s -> %s", fd, target))
		}
	}
	if len(left) != 0 {
		t.Errorf("after a failed Enable and Close, still open: %v", left)
	}
	if n := perfMappings(t); n != mapsBefore {
		t.Errorf("%d perf mappings after Close, %d before", n, mapsBefore)
	}
}
