package perf

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"otrace/runtime/event"
)

// countChild runs the getppid workload for n calls while reading src, and
// returns how many of its getppid entries src delivered.
func countChild(t *testing.T, src *Source, bin string, ev *event.Event, n int) int {
	t.Helper()
	cmd := exec.Command(bin, strconv.Itoa(n))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sink := &childSink{ev: ev, id: ev.Format.Field("id"), child: int32(cmd.Process.Pid), self: int32(os.Getpid()), syscalls: map[int64]int{}}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	for exited := false; !exited; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("the workload failed: %v", err)
			}
			exited = true
		case <-deadline:
			t.Fatal("the workload has not exited after 60 s")
		default:
		}
		if err := src.Read(sink); err != nil {
			t.Fatalf("Read: %v", err)
		}
	}
	src.Drain(sink)
	if sink.lost != 0 {
		t.Errorf("%d records lost", sink.lost)
	}
	return sink.getppid
}

func TestLiveEventsAddedWhileRunningAreDeliveredAndRemovedOnesStop(t *testing.T) {
	require := liveOrSkip(t)
	const n = 2000
	bin := buildGetppidLoop(t, require)
	fdsBefore := perfFDs(t)
	src := New(Options{})
	defer src.Close()
	ev, err := src.Catalog().Lookup("raw_syscalls:sys_enter")
	if err != nil {
		cannot(t, require, "looking up raw_syscalls:sys_enter: %v", err)
	}
	// Nothing to trace at first: no ring is made until an event comes.
	if err := src.Enable(nil); err != nil {
		cannot(t, require, "Enable: %v", err)
	}
	if len(src.rings) != 0 {
		t.Fatalf("Enable without events made %d rings", len(src.rings))
	}
	steps := []struct {
		name   string
		change func() error
		want   int
	}{
		{"added while running", func() error { return src.Add([]*event.Event{ev}) }, n},
		{"removed", func() error { return src.Remove(ev) }, 0},
		{"added again", func() error { return src.Add([]*event.Event{ev}) }, n},
		{"paused", src.Pause, 0},
		{"resumed", src.Resume, n},
		{"after Finish and a second Enable", func() error { src.Finish(); return src.Enable([]*event.Event{ev}) }, n},
		{"after a second Enable without it", func() error { src.Finish(); return src.Enable(nil) }, 0},
	}
	for _, st := range steps {
		if err := st.change(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := countChild(t, src, bin, ev, n); got != st.want {
			t.Errorf("%s: %d getppid entries delivered, want %d", st.name, got, st.want)
		}
	}
	// One ring and one sys_enter per CPU, epoll and the eventfd: a second
	// Add or Enable reuses what is open.
	opened := 0
	for fd, target := range perfFDs(t) {
		if fdsBefore[fd] != target {
			opened++
		}
	}
	if want := 2*len(src.cpus) + 2; opened != want {
		t.Errorf("%d descriptors open, want %d", opened, want)
	}
	src.Close()
	for fd, target := range perfFDs(t) {
		if fdsBefore[fd] != target {
			t.Errorf("descriptor %s (%s) is still open after Close", fd, target)
		}
	}
}

func TestLiveWakeCutsAReadShortAndTheRunGoesOn(t *testing.T) {
	require := liveOrSkip(t)
	src := New(Options{})
	defer src.Close()
	if err := src.Enable(nil); err != nil {
		cannot(t, require, "Enable: %v", err)
	}
	sink := &childSink{syscalls: map[int64]int{}}
	if err := src.Read(sink); err != nil { // publishes the eventfd for Wake
		t.Fatal(err)
	}
	for range 3 {
		src.Wake()
		start := time.Now()
		if err := src.Read(sink); err != nil {
			t.Fatalf("Read after Wake: %v", err)
		}
		if took := time.Since(start); took > 5*time.Millisecond {
			t.Errorf("a woken Read took %v", took)
		}
	}
	// The wake-up was consumed: the next Read waits for its poll.
	start := time.Now()
	src.Read(sink)
	if took := time.Since(start); took < 5*time.Millisecond {
		t.Errorf("a Read without Wake returned after %v: the eventfd was not cleared", took)
	}
}

func TestLiveEnableAfterAFailedEnableStartsOver(t *testing.T) {
	require := liveOrSkip(t)
	bin := buildGetppidLoop(t, require)
	src := New(Options{})
	defer src.Close()
	ev, err := src.Catalog().Lookup("raw_syscalls:sys_enter")
	if err != nil {
		cannot(t, require, "looking up raw_syscalls:sys_enter: %v", err)
	}
	bad := *ev
	bad.Filter = "no_such_field == 1"
	if err := src.Enable([]*event.Event{ev, &bad}); err == nil {
		t.Fatal("Enable accepted a filter on a field sys_enter does not have")
	}
	if err := src.Enable([]*event.Event{ev}); err != nil {
		t.Fatalf("Enable after a failed Enable: %v", err)
	}
	if got := countChild(t, src, bin, ev, 500); got != 500 {
		t.Errorf("%d getppid entries delivered, want 500", got)
	}
}
