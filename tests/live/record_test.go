//go:build linux

package live

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestARecordingReplaysTheSameCountAsLive(t *testing.T) {
	prog := workload(t, "getppid")
	nr := getppidNumber(t)
	file := filepath.Join(t.TempDir(), "getppid.rec")
	rec := otrace(t, "record", "-o", file, "--buffer-size", roomyBuffer, "-e", "raw_syscalls:sys_enter", "--", prog, strconv.Itoa(getppidCalls))
	mustSucceed(t, rec)
	recorded := summaryOf(t, rec)
	if recorded.lost != 0 {
		t.Errorf("%d events lost while recording", recorded.lost)
	}

	r := otrace(t, "run", "--input", file, "-e", countGetppid(nr))
	mustSucceed(t, r)
	if got := value(t, r, "all"); got != getppidCalls {
		t.Errorf("replayed raw_syscalls:sys_enter with id %d: %d, want %d\n%v", nr, got, getppidCalls, r)
	}
	if got := value(t, r, "mine"); got != getppidCalls {
		t.Errorf("of them with comm getppid: %d, want %d (comm must survive the recording)\n%v", got, getppidCalls, r)
	}
	if replayed := summaryOf(t, r); replayed.events != recorded.events || replayed.reason != "end of input" {
		t.Errorf("replay dispatched %d events (%s), want the %d recorded, to the end of input", replayed.events, replayed.reason, recorded.events)
	}
}

func TestAnInterruptedRecordingIsCompleteAndReadable(t *testing.T) {
	needLive(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "sched.rec")
	inv := startOtrace(t, nil, "record", "-o", file, "-e", "sched:sched_switch")
	time.Sleep(500 * time.Millisecond)
	inv.signal(syscall.SIGINT)
	rec := inv.wait()
	mustSucceed(t, rec)
	recorded := summaryOf(t, rec)
	if recorded.reason != "interrupted by SIGINT" {
		t.Errorf("summary gives %q as the reason, want \"interrupted by SIGINT\"", recorded.reason)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "sched.rec" {
			t.Errorf("%s left beside the recording", e.Name())
		}
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("no recording after SIGINT: %v\n%v", err, rec)
	}

	r := otrace(t, "run", "--input", file, "-e", countSwitches)
	mustSucceed(t, r)
	n := value(t, r, "switches")
	if n <= 0 || uint64(n) != recorded.events {
		t.Errorf("replay counted %d switches, want the %d the recording summary reported (above 0)\n%v", n, recorded.events, r)
	}
	if !strings.Contains(r.stderr, "(end of input)") {
		t.Errorf("replay did not read to the end of input:\n%v", r)
	}
}

// Probes that overlap record each sample once.
func TestOverlappingProbesRecordEachSampleOnce(t *testing.T) {
	needLive(t)
	file := filepath.Join(t.TempDir(), "overlap.rec")
	rec := otrace(t, "record", "-o", file, "-e", "sched:*", "-e", "sched:sched_switch", "-d", "300ms")
	mustSucceed(t, rec)
	r := otrace(t, "run", "--input", file, "-e", `n := 0
otrace.on("sched:*", func(e) { n += 1 })
otrace.end(func() { otrace.printf("count %d\n", n) })`)
	mustSucceed(t, r)
	if got, want := uint64(value(t, r, "count")), summaryOf(t, rec).events; got != want {
		t.Errorf("the recording holds %d samples of the %d events recorded\n%v\n%v", got, want, rec, r)
	}
}
