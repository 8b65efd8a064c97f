//go:build linux

package live

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestAMisspelledTracepointIsRefusedWithASuggestion(t *testing.T) {
	needLive(t)
	r := otrace(t, "run", "-e", `otrace.on("sched:sched_swich", func(e) {})`)
	if r.code != 2 {
		t.Errorf("want exit status 2 (nothing ran):\n%v", r)
	}
	if !strings.Contains(r.stderr, "did you mean sched:sched_switch") {
		t.Errorf("want a suggestion of sched:sched_switch on stderr:\n%v", r)
	}
	if n := strings.Count(r.stderr, "did you mean"); n != 1 {
		t.Errorf("the suggestion is given %d times, want once:\n%v", n, r)
	}
	if !strings.Contains(r.stderr, "nothing was traced") {
		t.Errorf("want \"nothing was traced\" on stderr:\n%v", r)
	}
}

// hasPMU is how otrace decides a CPU performance-monitoring unit exists.
func hasPMU() bool {
	_, err := os.Stat("/sys/bus/event_source/devices/cpu")
	return err == nil
}

func TestHardwareEventsNeedAPerformanceMonitoringUnit(t *testing.T) {
	prog := workload(t, "spin")
	r := otrace(t, "run", "-e", `
n := 0
otrace.on("hardware:cpu-cycles", func(e) { n += 1 })
otrace.end(func() { otrace.printf("cycles %d\n", n) })`, "--", prog, "0.2")
	if hasPMU() {
		// With a PMU the probe must work: a busy loop burns cycles.
		mustSucceed(t, r)
		if n := value(t, r, "cycles"); n <= 0 {
			t.Errorf("hardware:cpu-cycles on a busy loop: %d samples, want some\n%v", n, r)
		}
		return
	}
	if r.code != 2 {
		t.Errorf("without a PMU, want exit status 2:\n%v", r)
	}
	for _, want := range []string{"hardware:cpu-cycles", "performance-monitoring unit", "profile:hz:N"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("want %q in the error:\n%v", want, r)
		}
	}
}

// asNobody is the setpriv prefix that runs otrace as an unprivileged user.
var asNobody = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}

func TestWithoutPrivilegesTracingSaysWhatToDo(t *testing.T) {
	needLive(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		unavailable(t, "setpriv (util-linux) is not on PATH to drop privileges")
	}
	paranoid, err := os.ReadFile("/proc/sys/kernel/perf_event_paranoid")
	if err != nil {
		t.Fatal(err)
	}
	level := strings.TrimSpace(string(paranoid))
	if n, _ := strconv.Atoi(level); n < 1 {
		unavailable(t, "kernel.perf_event_paranoid = %s lets unprivileged users sample CPUs", level)
	}
	for _, tc := range []struct {
		name  string
		probe string
		want  []string // in stderr
	}{
		// A tracepoint fails on tracefs, which only root may read, before
		// perf_event_paranoid could matter.
		{"a tracepoint", "sched:sched_switch", []string{"root", "CAP_PERFMON"}},
		// A CPU sampler fails on perf_event_open, which the sysctl guards.
		{"a profile", "profile:hz:99", []string{"root", "CAP_PERFMON", "perf_event_paranoid = " + level}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startOtrace(t, asNobody, "run", "-d", "1s", "-e", `otrace.on("`+tc.probe+`", func(e) {})`).wait()
			if strings.Contains(r.stderr, "setpriv:") {
				t.Fatalf("setpriv could not drop privileges:\n%v", r)
			}
			if r.code == 0 {
				t.Errorf("as nobody, want a non-zero exit status:\n%v", r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("want %q in the error:\n%v", w, r)
				}
			}
			if strings.Contains(r.stderr, "traced ()") {
				t.Errorf("the summary gives no reason the run ended:\n%v", r)
			}
		})
	}
}
