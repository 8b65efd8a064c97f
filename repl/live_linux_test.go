package repl

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"otrace/collectors/perf"
)

// needLive skips a test that traces the live kernel when this machine
// cannot, or fails it under OTRACE_LIVE=1.
func needLive(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		unavailable(t, "live tracing needs root")
	}
	for _, d := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if _, err := os.Stat(filepath.Join(d, "events/sched/sched_switch/format")); err == nil {
			return
		}
	}
	unavailable(t, "no tracefs with sched:sched_switch")
}

// uprobeEvents is tracefs's uprobe_events.
func uprobeEvents(t *testing.T) string {
	t.Helper()
	for _, d := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if b, err := os.ReadFile(filepath.Join(d, "uprobe_events")); err == nil {
			return string(b)
		}
	}
	t.Fatal("cannot read uprobe_events")
	return ""
}

// number reads the one integer a line printed.
func number(t *testing.T, out string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		t.Fatalf("want a number, got %q", out)
	}
	return n
}

// busy makes system calls and context switches in another process for d.
func busy(t *testing.T, d time.Duration) {
	t.Helper()
	cmd := exec.Command("sh", "-c", "end=$(($(date +%s%N) + "+strconv.FormatInt(d.Nanoseconds(), 10)+")); while [ $(date +%s%N) -lt $end ]; do sleep 0.01; done")
	if err := cmd.Run(); err != nil {
		t.Fatalf("the workload: %v", err)
	}
}

func TestLiveAHandlerTypedWhileTracingAttachesAtOnce(t *testing.T) {
	needLive(t)
	s := startREPL(t, Config{Source: perf.New(perf.Options{})})
	s.send(`n := 0`, `switches := 0`, `otrace.on("sched:sched_switch", func(e) { switches += 1 })`)
	expect(t, ":start", s.send(`:start`), "tracing started (1 probe)")
	// Attached while running: raw_syscalls:sys_enter is opened on every
	// CPU into the running rings.
	out := s.send(`otrace.on("raw_syscalls:sys_enter", func(e) { n += 1 })`)
	if strings.Contains(out, "error") {
		t.Fatalf("attaching while running: %s", out)
	}
	var seen []int64
	for range 3 {
		busy(t, 100*time.Millisecond)
		seen = append(seen, number(t, s.send(`n`)))
	}
	if !(seen[0] > 0 && seen[1] > seen[0] && seen[2] > seen[1]) {
		t.Errorf("sys_enter counts %v do not grow", seen)
	}
	out = s.send(`:handlers`)
	expect(t, ":handlers while running", out, "tracing running", "raw_syscalls:sys_enter", "sched:sched_switch")
	if !regexp.MustCompile(`(?m)^\s+1\s+raw_syscalls:sys_enter\s+[1-9][\d,]*\s`).MatchString(out) {
		t.Errorf(":handlers shows no events for the handler attached while running:\n%s", out)
	}
	expect(t, ":detach", s.send(`:detach 1`), "detached #1 raw_syscalls:sys_enter")
	before := number(t, s.send(`n`))
	busy(t, 100*time.Millisecond)
	if after := number(t, s.send(`n`)); after != before {
		t.Errorf("the detached handler ran %d more times", after-before)
	}
	sw := number(t, s.send(`switches`))
	busy(t, 50*time.Millisecond)
	if number(t, s.send(`switches`)) <= sw {
		t.Error("the first handler stopped counting")
	}
	// Paused, nothing arrives; resumed, it does again.
	s.send(`:pause`)
	time.Sleep(50 * time.Millisecond) // what was in the rings arrives
	paused := number(t, s.send(`switches`))
	busy(t, 100*time.Millisecond)
	if got := number(t, s.send(`switches`)); got != paused {
		t.Errorf("%d switches counted while paused", got-paused)
	}
	s.send(`:resume`)
	busy(t, 100*time.Millisecond)
	if got := number(t, s.send(`switches`)); got <= paused {
		t.Error("no switch counted after :resume")
	}
	// Ctrl-C stops an endless input; tracing goes on.
	go func() {
		time.Sleep(200 * time.Millisecond)
		syscall.Kill(os.Getpid(), syscall.SIGINT)
	}()
	expect(t, "SIGINT during for {}", s.send(`for {}`), "interrupted")
	expect(t, "after it", s.send(`:stats`), "tracing running")
	expect(t, ":stop", s.send(`:stop`), "handler errors", "(:stop)")
	// And again, with the counts started over.
	expect(t, "a second :start", s.send(`:start`), "tracing started")
	busy(t, 50*time.Millisecond)
	expect(t, "a second :stop", s.send(`:stop`), "(:stop)")
}

// The scenario, typed at a terminal: count switches by command,
// :start, wait, :maps, :save, then run the saved script.
func TestLiveTheDoneWhenScenarioInATerminal(t *testing.T) {
	needLive(t)
	state := t.TempDir()
	tr := inTerminal(t, []string{"XDG_STATE_HOME=" + state}, "repl")
	tr.expect("otrace> ", 20*time.Second)
	tr.line(`c := otrace.count("sw")`)
	if out := tr.line(`otrace.on("sched:sched_switch", func(e) { c.inc(e.prev_comm) })`); strings.Contains(out, "error") {
		t.Fatalf("otrace.on: %s", out)
	}
	if out := tr.line(`:start`); !strings.Contains(out, "tracing started") {
		t.Fatalf(":start printed %q", out)
	}
	busy(t, 300*time.Millisecond)
	maps := tr.line(`:maps`)
	if !regexp.MustCompile(`@sw\[sleep\]: [1-9]`).MatchString(maps) {
		t.Errorf(":maps shows no switches of the workload's sleeps:\n%s", maps)
	}
	h1 := tr.line(`:handlers`)
	busy(t, 100*time.Millisecond)
	h2 := tr.line(`:handlers`)
	count := regexp.MustCompile(`(?m)^\s+0\s+sched:sched_switch\s+([\d,]+)`)
	m1, m2 := count.FindStringSubmatch(h1), count.FindStringSubmatch(h2)
	if m1 == nil || m2 == nil {
		t.Fatalf(":handlers shows no count:\n%s\n%s", h1, h2)
	}
	n1, _ := strconv.Atoi(strings.ReplaceAll(m1[1], ",", ""))
	n2, _ := strconv.Atoi(strings.ReplaceAll(m2[1], ",", ""))
	if n1 <= 0 || n2 <= n1 {
		t.Errorf("the handler's events do not grow: %d then %d", n1, n2)
	}
	// A uprobe attached while tracing runs: on the otrace binary's
	// main.main, which `otrace version` then calls.
	tr.line(`u := 0`)
	if out := tr.line(`otrace.on("uprobe:` + otraceBinary(t) + `:main.main", func(e) { u += 1 })`); strings.Contains(out, "error") {
		t.Fatalf("attaching a uprobe while running: %s", out)
	}
	if out, err := exec.Command(otraceBinary(t), "version").CombinedOutput(); err != nil {
		t.Fatalf("otrace version: %v\n%s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(tr.line(`u`), "1") {
		if time.Now().After(deadline) {
			t.Fatal("the uprobe attached while running did not fire")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out := tr.line(`:save s.tengo`); !strings.Contains(out, "saved 4 inputs to s.tengo") {
		t.Errorf(":save printed %q", out)
	}
	group := fmt.Sprintf("otrace_%d/", tr.cmd.Process.Pid)
	if !strings.Contains(uprobeEvents(t), group) {
		t.Errorf("no uprobe of group %s while the REPL runs", group)
	}
	tr.typeKeys("\x04")
	if code := tr.wait(); code != 0 {
		t.Errorf("exit status %d after Ctrl-D", code)
	}
	if ev := uprobeEvents(t); strings.Contains(ev, group) {
		t.Errorf("the REPL's uprobes are still defined after Ctrl-D:\n%s", ev)
	}
	final := tr.rest()
	if !strings.Contains(final, "@sw[") || !strings.Contains(final, "(the REPL quit)") {
		t.Errorf("quitting did not print the aggregation and the summary:\n%s", final)
	}

	saved := filepath.Join(tr.cmd.Dir, "s.tengo")
	run := exec.Command(otraceBinary(t), "run", "-d", "1s", saved)
	work := exec.Command("sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.05; done")
	if err := work.Start(); err != nil {
		t.Fatal(err)
	}
	out, err := run.CombinedOutput()
	work.Wait()
	if err != nil {
		t.Fatalf("otrace run of the saved script: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`@sw\[.+\]: [1-9]`).Match(out) || !strings.Contains(string(out), "(duration reached)") {
		t.Errorf("otrace run -d 1s s.tengo printed:\n%s", out)
	}
}
