package procfs

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"otrace/runtime/process"
)

// liveProc skips the test when /proc is not a usable procfs, unless
// OTRACE_LIVE=1 demands live tests, in which case it fails.
func liveProc(t testing.TB) {
	t.Helper()
	_, err := os.ReadFile("/proc/self/stat")
	if err == nil {
		_, err = os.ReadFile("/proc/self/maps")
	}
	if err != nil {
		if os.Getenv("OTRACE_LIVE") == "1" {
			t.Fatalf("OTRACE_LIVE=1 but /proc is unusable: %v", err)
		}
		t.Skipf("/proc is unusable: %v", err)
	}
}

// startSleep starts `sleep 10`, killed when the test ends.
func startSleep(t testing.TB) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		if os.Getenv("OTRACE_LIVE") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// byPID indexes a recorder's records.
type liveProcess struct {
	fork    process.Fork
	forkAt  int // index of the Fork among all records
	comm    string
	threads []process.Fork
	maps    []process.Mmap
}

func byPID(t *testing.T, r *recorder) map[int32]*liveProcess {
	t.Helper()
	procs := map[int32]*liveProcess{}
	get := func(pid int32) *liveProcess {
		if procs[pid] == nil {
			procs[pid] = &liveProcess{forkAt: -1}
		}
		return procs[pid]
	}
	lastFork := -1
	for i, rec := range r.recs {
		switch rec := rec.(type) {
		case process.Fork:
			lastFork = i
			p := get(rec.PID)
			if rec.PID == rec.TID {
				p.fork, p.forkAt = rec, i
			} else {
				p.threads = append(p.threads, rec)
			}
		case process.Comm:
			if rec.PID == rec.TID {
				get(rec.PID).comm = rec.Comm
			}
		case process.Mmap:
			if i < lastFork {
				t.Errorf("an Mmap of %d comes before a Fork", rec.PID)
			}
			p := get(rec.PID)
			p.maps = append(p.maps, rec)
		}
	}
	return procs
}

// mappingOf finds the executable mapping of a file's text in p.
func (p *liveProcess) mappingOf(path string) *process.Mmap {
	for i, m := range p.maps {
		if m.Path == path && m.Prot&protExec != 0 {
			return &p.maps[i]
		}
	}
	return nil
}

// realPath resolves symlinks, as the kernel's maps show paths.
func realPath(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScanLiveFindsItselfAndItsChild(t *testing.T) {
	liveProc(t)
	child := startSleep(t)
	var r recorder
	stats, err := Scan(Options{Maps: true, BuildIDs: true, Time: 1}, &r)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", stats)
	procs := byPID(t, &r)
	if len(procs) != stats.Processes || stats.Processes < 2 || stats.Mappings == 0 {
		t.Errorf("%d processes in the records, stats %+v", len(procs), stats)
	}

	for pid, p := range procs {
		if parent := procs[p.fork.PPID]; parent != nil && parent.forkAt > p.forkAt {
			t.Errorf("process %d comes before its parent %d", pid, p.fork.PPID)
		}
	}

	self := procs[int32(os.Getpid())]
	if self == nil {
		t.Fatalf("no records of this process %d", os.Getpid())
	}
	comm := filepath.Base(os.Args[0])
	if len(comm) > 15 {
		comm = comm[:15] // TASK_COMM_LEN - 1
	}
	if self.comm != comm || self.fork.PPID != int32(os.Getppid()) {
		t.Errorf("this process is %q with parent %d, want %q with parent %d", self.comm, self.fork.PPID, comm, os.Getppid())
	}
	if len(self.threads) == 0 {
		t.Error("no threads of this Go process")
	}
	for _, th := range self.threads {
		if th.PTID != th.PID || th.PPID != th.PID {
			t.Errorf("thread %+v does not come from its main thread", th)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	checkMapping(t, self, realPath(t, exe))

	kid := procs[int32(child.Process.Pid)]
	if kid == nil {
		t.Fatalf("no records of the child %d", child.Process.Pid)
	}
	if kid.comm != "sleep" || kid.fork.PPID != int32(os.Getpid()) || kid.forkAt < self.forkAt {
		t.Errorf("child is %q with parent %d at record %d, want \"sleep\" with parent %d after record %d",
			kid.comm, kid.fork.PPID, kid.forkAt, os.Getpid(), self.forkAt)
	}
	checkMapping(t, kid, realPath(t, child.Path))
	if !slices.ContainsFunc(kid.maps, func(m process.Mmap) bool { return m.Path == "[vdso]" }) {
		t.Error("no [vdso] in the child")
	}
}

// checkMapping checks that p maps the text of the executable path, with the
// build-id debug/elf finds in it.
func checkMapping(t *testing.T, p *liveProcess, path string) {
	t.Helper()
	m := p.mappingOf(path)
	if m == nil {
		t.Errorf("%d (%s) has no executable mapping of %s", p.fork.PID, p.comm, path)
		return
	}
	want, _ := sectionBuildID(path)
	if !bytes.Equal(m.BuildID, want) {
		t.Errorf("%s: build-id %x, want %x", path, m.BuildID, want)
	}
	t.Logf("%d (%s): %#x+%#x %s build-id %x", p.fork.PID, p.comm, m.Start, m.Len, m.Path, m.BuildID)
}

func TestScanLivePIDsTakeThreadsForTheirProcess(t *testing.T) {
	liveProc(t)
	child := startSleep(t)
	self := int32(os.Getpid())
	tids, err := readDirNames("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var thread int32
	for _, name := range tids {
		if tid, _ := strconv.Atoi(name); int32(tid) != self {
			thread = int32(tid)
		}
	}
	if thread == 0 {
		t.Fatal("this Go process has one thread")
	}
	var r recorder
	stats, err := Scan(Options{PIDs: []int32{int32(child.Process.Pid), thread}}, &r)
	if err != nil {
		t.Fatal(err)
	}
	procs := byPID(t, &r)
	if len(procs) != 2 || procs[self] == nil || procs[int32(child.Process.Pid)] == nil {
		t.Errorf("got processes %v, want %d and %d", slices.Collect(mapsKeys(procs)), self, child.Process.Pid)
	}
	// The child is this process's: with both present, it comes second.
	if procs[self] != nil && procs[self].forkAt != 0 {
		t.Errorf("this process's Fork is record %d, want 0", procs[self].forkAt)
	}
	if stats.Errors != 0 || stats.Vanished != 0 {
		t.Errorf("stats %+v", stats)
	}
}

func mapsKeys(m map[int32]*liveProcess) func(func(int32) bool) {
	return func(yield func(int32) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestScanLiveSkipsProcessesThatExit scans short-lived children while they
// come and go: each must show up whole or be counted as vanished, never as
// an error.
func TestScanLiveSkipsProcessesThatExit(t *testing.T) {
	liveProc(t)
	if _, err := exec.LookPath("true"); err != nil {
		t.Skip(err)
	}
	var (
		mu   sync.Mutex
		pids []int32
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			cmd := exec.Command("true")
			if cmd.Start() != nil {
				continue
			}
			mu.Lock()
			pids = append(pids, int32(cmd.Process.Pid))
			mu.Unlock()
			cmd.Wait()
		}
	}()
	var total Stats
	deadline := time.Now().Add(500 * time.Millisecond)
	for scans := 0; scans < 20 || time.Now().Before(deadline); scans++ {
		mu.Lock()
		recent := slices.Clone(pids[max(0, len(pids)-8):])
		mu.Unlock()
		var r recorder
		stats, err := Scan(Options{PIDs: append(recent, int32(os.Getpid())), Maps: true, BuildIDs: true}, &r)
		if err != nil {
			t.Fatal(err)
		}
		if stats.Errors != 0 {
			t.Fatalf("scan %d: %d errors, first %v", scans, stats.Errors, stats.FirstError)
		}
		total.Processes += stats.Processes
		total.Vanished += stats.Vanished
		total.Mappings += stats.Mappings
	}
	close(stop)
	<-done
	t.Logf("%d children started; over the scans %d processes found, %d vanished, %d mappings",
		len(pids), total.Processes, total.Vanished, total.Mappings)
	if total.Vanished == 0 {
		t.Error("no process vanished, though children exit as they are scanned")
	}
}

// scanModes are the costs worth measuring.
var scanModes = []struct {
	name string
	opts Options
}{
	{"forks and comms", Options{}},
	{"with maps", Options{Maps: true}},
	{"with maps and build-ids", Options{Maps: true, BuildIDs: true}},
}

// TestScanLiveTiming logs how long a scan of this machine takes.
func TestScanLiveTiming(t *testing.T) {
	liveProc(t)
	for _, mode := range scanModes {
		var times []time.Duration
		var stats Stats
		for range 9 {
			start := time.Now()
			var err error
			stats, err = Scan(mode.opts, nopVisitor{})
			times = append(times, time.Since(start))
			if err != nil {
				t.Fatal(err)
			}
		}
		slices.Sort(times)
		t.Logf("%-24s median %v (min %v): %d processes, %d threads, %d mappings, %d build-ids, %d errors",
			mode.name, times[len(times)/2], times[0], stats.Processes, stats.Threads, stats.Mappings, stats.BuildIDs, stats.Errors)
		if stats.Processes == 0 {
			t.Error("no processes")
		}
	}
}

type nopVisitor struct{}

func (nopVisitor) Comm(process.Comm) {}
func (nopVisitor) Fork(process.Fork) {}
func (nopVisitor) Mmap(process.Mmap) {}
