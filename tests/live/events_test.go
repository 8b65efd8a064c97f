//go:build linux

package live

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// getppidNumbers are the getppid system call numbers raw_syscalls reports.
var getppidNumbers = map[string]int{"amd64": 110, "arm64": 173}

// getppidNumber is this architecture's getppid number, after needLive.
func getppidNumber(t *testing.T) int {
	t.Helper()
	nr, ok := getppidNumbers[runtime.GOARCH]
	if !ok {
		unavailable(t, "the getppid syscall number of %s is not known to this test", runtime.GOARCH)
	}
	return nr
}

// countGetppid is a script counting getppid entries: all of them, and
// those of the getppid program by comm.
func countGetppid(nr int) string {
	return fmt.Sprintf(`
all := 0
mine := 0
otrace.on("raw_syscalls:sys_enter", func(e) {
	if e.id == %d {
		all += 1
		if e.comm == "getppid" { mine += 1 }
	}
})
otrace.end(func() {
	otrace.printf("all %%d\n", all)
	otrace.printf("mine %%d\n", mine)
})`, nr)
}

const getppidCalls = 20000

// roomyBuffer is the ring size of the tests that count exactly: enough
// that a machine busy with other tests does not overflow it while otrace
// waits for a CPU, which would make an exact count fall short.
const roomyBuffer = "16M"

func TestEveryGetppidOfTheCommandIsCountedExactlyOnce(t *testing.T) {
	prog := workload(t, "getppid")
	nr := getppidNumber(t)
	r := otrace(t, "run", "--buffer-size", roomyBuffer, "-e", countGetppid(nr), "--", prog, strconv.Itoa(getppidCalls))
	mustSucceed(t, r)
	s := summaryOf(t, r)
	if s.lost != 0 {
		t.Errorf("%d events lost; the count below cannot be exact", s.lost)
	}
	if s.reason != "command exited with status 0" {
		t.Errorf("run ended with %q, want the command's exit", s.reason)
	}
	// all == N also shows no other process's getppid leaked past the
	// command filter.
	if got := value(t, r, "all"); got != getppidCalls {
		t.Errorf("raw_syscalls:sys_enter with id %d: counted %d, want %d\n%v", nr, got, getppidCalls, r)
	}
	if got := value(t, r, "mine"); got != getppidCalls {
		t.Errorf("of them with comm getppid: counted %d, want %d\n%v", got, getppidCalls, r)
	}
}

func TestASleepingChildSwitchesOutInterruptibleUnderItsName(t *testing.T) {
	prog := workload(t, "sleeper") // 10 nanosleeps of 50ms
	r := otrace(t, "run", "--buffer-size", roomyBuffer, "-e", `
sleeps := 0
wrong := 0
otrace.on("sched:sched_switch", func(e) {
	if e.prev_comm == "sleeper" && e.prev_state == 1 {
		sleeps += 1
		// The task switching out is the one the event belongs to.
		if e.prev_pid != e.tid { wrong += 1 }
	}
})
otrace.end(func() {
	otrace.printf("sleeps %d\n", sleeps)
	otrace.printf("wrong %d\n", wrong)
})`, "--", prog)
	mustSucceed(t, r)
	if s := summaryOf(t, r); s.lost != 0 {
		t.Errorf("%d events lost", s.lost)
	}
	// Each nanosleep switches out once; twice as many would mean events
	// are delivered more than once.
	if got := value(t, r, "sleeps"); got < 10 || got > 20 {
		t.Errorf("switches out of sleeper with prev_state 1: %d, want 10 (one a nanosleep), at most 20\n%v", got, r)
	}
	if got := value(t, r, "wrong"); got != 0 {
		t.Errorf("%d switches out of sleeper had prev_pid different from the event's tid\n%v", got, r)
	}
}

func TestProfilingABusyLoopSamplesItAtTheAskedRate(t *testing.T) {
	prog := workload(t, "spin") // 1 s of its own CPU time
	const hz = 999
	r := otrace(t, "run", "-e", fmt.Sprintf(`
samples := {}
otrace.on("profile:hz:%d", func(e) {
	if e.comm == "spin" {
		k := string(e.pid)
		samples[k] = (samples[k] || 0) + 1
	}
})
otrace.end(func() {
	for pid, n in samples { otrace.printf("samples %%s %%d\n", pid, n) }
})`, hz), "--", prog, "1")
	mustSucceed(t, r)
	if s := summaryOf(t, r); s.lost != 0 {
		t.Errorf("%d events lost", s.lost)
	}
	spin := lines(r.stdout, "spin") // "spin pid PID cpu_ns NS"
	if len(spin) != 1 || len(spin[0]) != 5 {
		t.Fatalf("the spin program did not report its pid:\n%v", r)
	}
	pid, cpuNS := spin[0][2], atoi(t, spin[0][4])
	got := lines(r.stdout, "samples")
	if len(got) != 1 || got[0][1] != pid {
		t.Fatalf("want samples of spin's pid %s only, got %q\n%v", pid, got, r)
	}
	n := atoi(t, got[0][2])
	want := float64(hz) * float64(cpuNS) / 1e9
	t.Logf("%d samples at %d Hz over %.3f s of CPU (%.1f%% of the expected %.0f)", n, hz, float64(cpuNS)/1e9, 100*float64(n)/want, want)
	if float64(n) < 0.8*want || float64(n) > 1.2*want {
		t.Errorf("profile:hz:%d sampled the busy loop %d times in %.3f s of CPU, want %.0f ± 20%%", hz, n, float64(cpuNS)/1e9, want)
	}
}

func TestForkExecAndExitOfAChildAreSeenWithItsName(t *testing.T) {
	workload(t, "child_prog")
	r := otrace(t, "run", "-e", `
otrace.on("sched:sched_process_fork", func(e) {
	otrace.printf("fork %d %d %s %d %s\n", e.time, e.parent_pid, e.parent_comm, e.child_pid, e.child_comm)
})
otrace.on("sched:sched_process_exec", func(e) {
	otrace.printf("exec %d %d %s %s\n", e.time, e.pid, e.comm, e.filename)
})
otrace.on("sched:sched_process_exit", func(e) {
	otrace.printf("exit %d %d %d %s\n", e.time, e.pid, e.tid, e.field("comm"))
})`, "--", "sh", "-c", "./child_prog; true")
	mustSucceed(t, r)
	if s := summaryOf(t, r); s.lost != 0 {
		t.Errorf("%d events lost", s.lost)
	}

	// exec of ./child_prog: TIME PID COMM FILENAME
	var child, execAt int64
	for _, l := range lines(r.stdout, "exec") {
		if len(l) == 5 && l[4] == "./child_prog" {
			if child != 0 {
				t.Errorf("./child_prog exec'd twice:\n%v", r)
			}
			if l[3] != "child_prog" {
				t.Errorf("exec of ./child_prog has comm %q, want child_prog", l[3])
			}
			execAt, child = atoi(t, l[1]), atoi(t, l[2])
		}
	}
	if child == 0 {
		t.Fatalf("no sched_process_exec with filename ./child_prog:\n%v", r)
	}
	if shExecs := countWhere(lines(r.stdout, "exec"), func(l []string) bool { return len(l) == 5 && l[3] == "sh" }); shExecs != 1 {
		t.Errorf("want 1 exec of sh (the command itself), got %d:\n%v", shExecs, r)
	}

	// fork of that pid by sh: TIME PARENT_PID PARENT_COMM CHILD_PID CHILD_COMM
	var forkAt int64
	for _, l := range lines(r.stdout, "fork") {
		if len(l) == 6 && atoi(t, l[4]) == child {
			forkAt = atoi(t, l[1])
			if l[3] != "sh" || l[5] != "sh" {
				t.Errorf("fork of %d: parent_comm %q child_comm %q, want sh and sh (the shell forks itself, then execs)", child, l[3], l[5])
			}
		}
	}
	if forkAt == 0 {
		t.Fatalf("no sched_process_fork from sh with child_pid %d:\n%v", child, r)
	}

	// exit of that pid: TIME PID TID COMM
	var exitAt int64
	for _, l := range lines(r.stdout, "exit") {
		if len(l) == 5 && atoi(t, l[3]) == child {
			exitAt = atoi(t, l[1])
			if l[4] != "child_prog" {
				t.Errorf("exit of %d has comm %q, want child_prog", child, l[4])
			}
		}
	}
	if exitAt == 0 {
		t.Fatalf("no sched_process_exit of %d:\n%v", child, r)
	}
	if !(forkAt < execAt && execAt < exitAt) {
		t.Errorf("want fork (%d) < exec (%d) < exit (%d) in time", forkAt, execAt, exitAt)
	}
}

func countWhere(ls [][]string, ok func([]string) bool) int {
	n := 0
	for _, l := range ls {
		if ok(l) {
			n++
		}
	}
	return n
}

// A kernel counter with a filter counts exactly, without a ring: the
// script says it only counts, and no event reaches a handler.
func TestAKernelCounterCountsTheCommandsCallsExactly(t *testing.T) {
	prog := workload(t, "getppid")
	nr := getppidNumber(t)
	script := fmt.Sprintf(`
c := otrace.counter("raw_syscalls:sys_enter", {filter: "id == %d"})
otrace.end(func() { otrace.printf("count %%d\n", c.value()) })`, nr)
	r := otrace(t, "run", "-e", script, "--", prog, strconv.Itoa(getppidCalls))
	mustSucceed(t, r)
	if got := value(t, r, "count"); got != getppidCalls {
		t.Errorf("the counter says %d getppid calls, want %d\n%s", got, getppidCalls, r)
	}
	if s := summaryOf(t, r); s.events != 0 {
		t.Errorf("%d events reached otrace; a counting-only script should copy none\n%s", s.events, r)
	}
	if !strings.Contains(r.stderr, "counting in the kernel only") {
		t.Errorf("a counting-only run does not say so:\n%s", r)
	}
}

// A filter in the kernel keeps the rings to the events that pass it.
func TestAKernelFilterDeliversOnlyMatchingEvents(t *testing.T) {
	prog := workload(t, "getppid")
	nr := getppidNumber(t)
	script := fmt.Sprintf(`
n := 0
bad := 0
otrace.on("raw_syscalls:sys_enter", {filter: "id == %d"}, func(e) { n += 1; if e.id != %d { bad += 1 } })
otrace.end(func() { otrace.printf("count %%d\n", n); otrace.printf("bad %%d\n", bad) })`, nr, nr)
	r := otrace(t, "run", "-e", script, "--", prog, strconv.Itoa(getppidCalls))
	mustSucceed(t, r)
	if got := value(t, r, "count"); got != getppidCalls {
		t.Errorf("the filtered handler saw %d calls, want %d\n%s", got, getppidCalls, r)
	}
	if got := value(t, r, "bad"); got != 0 {
		t.Errorf("%d events that fail the filter reached the handler\n%s", got, r)
	}
	if s := summaryOf(t, r); s.events != getppidCalls {
		t.Errorf("%d events reached otrace, want exactly the %d that pass the filter\n%s", s.events, getppidCalls, r)
	}
}
