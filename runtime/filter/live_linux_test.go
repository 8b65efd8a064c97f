package filter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"otrace/runtime/event"
)

// liveSchedSwitch returns the tracefs directory of sched:sched_switch and
// its format, when the test runs as root on a kernel with tracefs. Without
// them the test is skipped, unless OTRACE_LIVE=1 asks for live tests: then
// it fails, so that a job meant to run them cannot pass by skipping.
func liveSchedSwitch(t *testing.T) (string, *event.Format) {
	t.Helper()
	skip := func(msg string) {
		t.Helper()
		if os.Getenv("OTRACE_LIVE") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if os.Geteuid() != 0 {
		skip("writing a tracepoint filter needs root: run as root")
	}
	for _, root := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		dir := filepath.Join(root, "events", "sched", "sched_switch")
		text, err := os.ReadFile(filepath.Join(dir, "format"))
		if err != nil {
			continue
		}
		f, err := event.ParseFormat("sched", text)
		if err != nil {
			t.Fatalf("%s/format: %v", dir, err)
		}
		return dir, f
	}
	skip("no tracefs with sched:sched_switch: mount it with `mount -t tracefs nodev /sys/kernel/tracing`")
	return "", nil
}

// setFilter writes a filter to the event's filter file, as `echo` would,
// and reports whether the kernel took it. A filter it does not parse fails
// the write with an errno that depends on the mistake (EINVAL mostly, but
// ENOENT for a missing ")" and EPERM for a missing "("), so the caller
// checks first that it may write the file at all.
func setFilter(dir, expr string) bool {
	return os.WriteFile(filepath.Join(dir, "filter"), []byte(expr), 0) == nil
}

// TestCompileAcceptsWhatTheKernelAccepts writes each filter of kernelCases
// to sched_switch's filter file (the event stays disabled) and compares the
// kernel's verdict with Compile's. It also hands the kernel the normalized
// String of each filter Compile accepts, since that is what collectors
// send.
func TestCompileAcceptsWhatTheKernelAccepts(t *testing.T) {
	dir, f := liveSchedSwitch(t)
	cur, err := os.ReadFile(filepath.Join(dir, "filter"))
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.TrimSpace(string(cur)); s != "none" {
		t.Fatalf("sched:sched_switch already has a filter (%q); clear it with `echo 0 > %s/filter` before running this test", s, dir)
	}
	if err := os.WriteFile(filepath.Join(dir, "filter"), []byte("0"), 0); err != nil {
		t.Fatalf("clearing the filter of sched:sched_switch: %v (run as root)", err)
	}
	t.Cleanup(func() {
		if !setFilter(dir, "0") {
			t.Errorf("could not reset the filter of sched:sched_switch")
		}
	})
	agree, onPurpose := 0, 0
	for _, c := range kernelCases {
		kernel := setFilter(dir, c.expr)
		setFilter(dir, "0")
		flt, err := Compile(c.expr, f)
		ours := err == nil
		if kernel != c.kernel {
			t.Logf("this kernel %s %q, Linux 6.18 %s", verdict(kernel), c.expr, verdict(c.kernel))
		}
		switch {
		case c.why != "" && ours:
			t.Errorf("Compile accepts %q, which otrace refuses on purpose: %s", c.expr, c.why)
		case c.why != "":
			onPurpose++
			t.Logf("kernel %s %q; otrace refuses: %s", verdict(kernel), c.expr, c.why)
		case kernel != ours:
			t.Errorf("kernel %s %q but Compile %s it: %v", verdict(kernel), c.expr, verdict(ours), err)
		default:
			agree++
		}
		if ours {
			if s := flt.String(); !setFilter(dir, s) {
				t.Errorf("the kernel refuses %q, the String of %q", s, c.expr)
			}
			setFilter(dir, "0")
		}
	}
	t.Logf("%d filters: kernel and Compile agree on %d; otrace refuses %d the kernel takes, on purpose", len(kernelCases), agree, onPurpose)
}

func verdict(ok bool) string {
	if ok {
		return "accepts"
	}
	return "refuses"
}
