//go:build linux

package live

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A ring too small for a storm overflows: the loss is counted per CPU, the
// per-CPU counts add up to the summary's total, and the script sees the
// same numbers through otrace.stats().
func TestARingThatOverflowsReportsTheLossPerCPU(t *testing.T) {
	prog := workload(t, "getppid")
	script := `
otrace.on("raw_syscalls:sys_enter", func(e) {})
otrace.end(func() {
	s := otrace.stats()
	total := 0
	for cpu, n in s.lost_by_cpu { total += n }
	otrace.printf("lost %d\n", s.lost)
	otrace.printf("bycpu %d\n", total)
})`
	r := otrace(t, "run", "-v", "--buffer-size", "8K", "-e", script, "--", prog, "300000")
	mustSucceed(t, r)
	s := summaryOf(t, r)
	if s.lost == 0 {
		t.Fatalf("an 8 KiB ring under 300,000 events lost nothing; the test cannot check loss accounting\n%v", r)
	}
	if got := value(t, r, "lost"); uint64(got) != s.lost {
		t.Errorf("otrace.stats().lost = %d, summary %d", got, s.lost)
	}
	if got := value(t, r, "bycpu"); uint64(got) != s.lost {
		t.Errorf("lost_by_cpu adds up to %d, summary %d", got, s.lost)
	}
	perCPU := regexp.MustCompile(`(?m)^otrace:\s+cpu (\d+)\s+([\d,]+) lost$`)
	var sum uint64
	for _, m := range perCPU.FindAllStringSubmatch(r.stderr, -1) {
		sum += commaNumber(t, m[2])
	}
	if sum != s.lost {
		t.Errorf("the -v per-CPU lines add up to %d, the summary says %d:\n%s", sum, s.lost, r.stderr)
	}
}

// A traced command that crashes ends the run like one that exits, and the
// summary gives its status.
func TestACrashingCommandEndsTheRunWithItsStatus(t *testing.T) {
	needLive(t)
	r := otrace(t, "run", "-e", `otrace.on("sched:sched_switch", func(e) {})
otrace.end(func() { otrace.printf("end ran\n") })`, "--", "sh", "-c", "kill -SEGV $$")
	mustSucceed(t, r)
	if !strings.Contains(r.stdout, "end ran") || !strings.Contains(r.stderr, "command exited with status") {
		t.Errorf("a crashed command must end the run cleanly:\n%v", r)
	}
}

// With -p, the run ends when the traced process exits.
func TestTheRunEndsWhenTheTracedProcessExits(t *testing.T) {
	needLive(t)
	sleeper := exec.Command("sleep", "0.5")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	go sleeper.Wait()
	start := time.Now()
	r := otrace(t, "run", "-p", strconv.Itoa(sleeper.Process.Pid), "-e", `otrace.on("sched:sched_switch", func(e) {})`)
	mustSucceed(t, r)
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("the run lasted %v after its process exited", el)
	}
	if s := summaryOf(t, r); s.reason != "the traced processes exited" {
		t.Errorf("reason %q\n%v", s.reason, r)
	}
	if r := otrace(t, "run", "-p", "999999", "-e", `otrace.on("sched:sched_switch", func(e) {})`); r.code == 0 || !strings.Contains(r.stderr, "no such process") {
		t.Errorf("-p of a process that does not exist:\n%v", r)
	}

	// Of several processes, the last to exit ends the run.
	short, long := exec.Command("sleep", "0.2"), exec.Command("sleep", "1")
	for _, c := range []*exec.Cmd{short, long} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		go c.Wait()
	}
	start = time.Now()
	r = otrace(t, "run", "-p", fmt.Sprintf("%d,%d", short.Process.Pid, long.Process.Pid), "-e", `otrace.on("sched:sched_switch", func(e) {})`)
	mustSucceed(t, r)
	if el := time.Since(start); el < 800*time.Millisecond || el > 4*time.Second {
		t.Errorf("with -p of a 0.2 s and a 1 s process the run lasted %v", el)
	}
	if s := summaryOf(t, r); s.reason != "the traced processes exited" {
		t.Errorf("reason %q\n%v", s.reason, r)
	}
}

// A profile that cannot be written is a clear error; the other outputs
// are still written.
func TestAnUnwritableOutputIsAClearErrorAndTheOthersAreWritten(t *testing.T) {
	needLive(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.folded")
	bad := filepath.Join(dir, "nodir", "sub", "bad.pb.gz")
	script := fmt.Sprintf(`p := otrace.profile()
otrace.on("profile:hz:99", func(e) { p.add(e.stack, 1) })
otrace.end(func() {
	otrace.save(p, %q)
	otrace.save(p, %q)
})`, bad, good)
	r := otrace(t, "run", "-d", "300ms", "-e", script)
	if r.code != 1 || !strings.Contains(r.stderr, "bad.pb.gz") || !strings.Contains(r.stderr, "still in memory") {
		t.Errorf("the failed write must be named, and fail the run with status 1:\n%v", r)
	}
	if fi, err := os.Stat(good); err != nil || fi.Size() == 0 {
		t.Errorf("the other output was not written: %v", err)
	}
}

// A handler that raises on every event: the run completes and the error
// count is exact.
func TestAHandlerThatFailsOnEveryEventIsCountedExactly(t *testing.T) {
	prog := workload(t, "getppid")
	nr := getppidNumber(t)
	script := fmt.Sprintf(`otrace.on("raw_syscalls:sys_enter", {filter: "id == %d"}, func(e) { x := e.nope })`, nr)
	r := otrace(t, "run", "--buffer-size", roomyBuffer, "-e", script, "--", prog, "5000")
	mustSucceed(t, r)
	s := summaryOf(t, r)
	if s.errors != 5000 || s.events != 5000 {
		t.Errorf("%d errors over %d events, want exactly 5000 each\n%v", s.errors, s.events, r)
	}
}
