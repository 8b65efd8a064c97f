//go:build linux

package live

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestTheRunEndsWhenTheCommandExits(t *testing.T) {
	needLive(t)
	r := otrace(t, "run", "-c", "sleep 0.3", "-e", `otrace.every("1s", func() {})`)
	mustSucceed(t, r)
	if s := summaryOf(t, r); s.reason != "command exited with status 0" {
		t.Errorf("summary gives %q as the reason the run ended, want \"command exited with status 0\"\n%v", s.reason, r)
	}
	// At least the command's 0.3 s, and well before a 1 s timer could
	// have kept it going.
	if r.elapsed < 300*time.Millisecond || r.elapsed >= 2*time.Second {
		t.Errorf("run took %v, want from 0.3 s to under 2 s", r.elapsed)
	}
	t.Logf("otrace run -c 'sleep 0.3' took %v", r.elapsed.Round(time.Millisecond))
}

func TestACommandThatCannotRunFailsTheRunClearly(t *testing.T) {
	needLive(t)
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"after --", []string{"--", "./no-such-program"}, "cannot run ./no-such-program"},
		{"with -c", []string{"-c", "no-such-program"}, "could not be run (status 127)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := otrace(t, append([]string{"run", "-e", `otrace.every("1s", func() {})`}, tc.args...)...)
			if r.code == 0 {
				t.Errorf("want a non-zero exit status:\n%v", r)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want %q on stderr:\n%v", tc.want, r)
			}
			if r.elapsed >= 2*time.Second {
				t.Errorf("took %v to give up, want under 2 s", r.elapsed)
			}
		})
	}
}

// countSwitches counts context switches and prints the count at the end.
const countSwitches = `
n := 0
otrace.on("sched:sched_switch", func(e) { n += 1 })
otrace.end(func() { otrace.printf("switches %d\n", n) })`

func TestASignalEndsTheRunWithTheSummaryAndTheOutputWritten(t *testing.T) {
	needLive(t)
	for _, sig := range []struct {
		name string
		sig  syscall.Signal
	}{{"SIGINT", syscall.SIGINT}, {"SIGTERM", syscall.SIGTERM}} {
		t.Run(sig.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.txt")
			inv := startOtrace(t, nil, "run", "-o", out, "-e", countSwitches)
			time.Sleep(500 * time.Millisecond)
			inv.signal(sig.sig)
			r := inv.wait()
			mustSucceed(t, r)
			s := summaryOf(t, r)
			if want := "interrupted by " + sig.name; s.reason != want {
				t.Errorf("summary gives %q as the reason, want %q\n%v", s.reason, want, r)
			}
			text, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("the -o file: %v", err)
			}
			got := lines(string(text), "switches")
			if len(got) != 1 || len(got[0]) != 2 {
				t.Fatalf("the -o file lacks the end handler's line \"switches N\":\n%s\n%v", text, r)
			}
			// The end handler saw every event the summary counts.
			if n := commaNumber(t, got[0][1]); n == 0 || n != s.events {
				t.Errorf("end handler counted %d switches, summary %d events; want the same, above 0", n, s.events)
			}
			if r.stdout != "" {
				t.Errorf("with -o, want nothing on stdout, got %q", r.stdout)
			}
		})
	}
}

// The start-up test measures, over 5 runs of a script that exits at the
// first context switch, how long otrace takes from being started to its
// first event (the event's CLOCK_MONOTONIC stamp), to the first handler
// call (the wall clock read in the handler), and to its exit.
func TestStartupToTheFirstEventTakesWellUnderASecond(t *testing.T) {
	needLive(t)
	const runs = 5
	var event, handler, whole []time.Duration
	for range runs {
		mono, wall := monotonic(), time.Now().UnixNano()
		r := otrace(t, "run", "-v", "-e", `
times := import("times")
otrace.on("sched:sched_switch", func(e) {
	otrace.printf("event %d\n", e.time)
	otrace.printf("handler %d\n", times.time_unix_nano(times.now()))
	otrace.exit()
})`)
		mustSucceed(t, r)
		if s := summaryOf(t, r); s.events != 1 || s.reason != "otrace.exit() called" {
			t.Errorf("want 1 event and the run ended by otrace.exit(), got %d events (%s)\n%v", s.events, s.reason, r)
		}
		if !regexp.MustCompile(`(?m)^otrace: +sched:sched_switch +1 events\b`).MatchString(r.stderr) {
			t.Errorf("-v does not give the event's count:\n%v", r)
		}
		ev := time.Duration(value(t, r, "event") - mono)
		h := time.Duration(value(t, r, "handler") - wall)
		if ev <= 0 || ev > h || h > r.elapsed {
			t.Fatalf("first event %v and handler call %v after the start, want 0 < event <= handler <= the run's %v: clocks disagree", ev, h, r.elapsed)
		}
		event, handler, whole = append(event, ev), append(handler, h), append(whole, r.elapsed)
		if r.elapsed >= time.Second {
			t.Errorf("run %d took %v to start, see its first event and exit, want under 1 s", len(whole), r.elapsed)
		}
	}
	t.Logf("start to first event:        median %v of %v", median(event), event)
	t.Logf("start to first handler call: median %v of %v", median(handler), handler)
	t.Logf("start to exit:               median %v of %v", median(whole), whole)
}

// monotonic is CLOCK_MONOTONIC in ns, the clock otrace stamps events with.
func monotonic() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(10 * time.Microsecond)
}
