package session

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"otrace/runtime/event"
)

// liveFake is an endless source: each Read delivers one record of every
// delivered event, then sleeps a millisecond (or until woken).
type liveFake struct {
	events      map[string]*event.Event
	on          []*event.Event
	now         uint64
	enables     int
	paused      bool
	wake        chan struct{}
	interrupted atomic.Bool
	log         []string
}

func newLiveFake(names ...string) *liveFake {
	f := &liveFake{events: map[string]*event.Event{}, wake: make(chan struct{}, 1)}
	for _, n := range names {
		f.events[n] = &event.Event{ID: -1, Name: n, Format: &event.Format{Name: n}}
	}
	return f
}

func (f *liveFake) Catalog() Catalog { return &fakeSource{events: f.events} }
func (f *liveFake) Enable(evs []*event.Event) error {
	f.enables++
	f.on = slices.Clone(evs)
	return nil
}
func (f *liveFake) Interrupt()   { f.interrupted.Store(true); f.Wake() }
func (f *liveFake) Close() error { return nil }
func (f *liveFake) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}
func (f *liveFake) Read(s Sink) error {
	if f.interrupted.Load() {
		return ErrInterrupted
	}
	f.now += 1000
	if !f.paused {
		for _, ev := range f.on {
			s.Sample(&event.Record{Event: ev, Time: f.now, PID: 1, TID: 1})
		}
	}
	s.Tick(f.now)
	select {
	case <-f.wake:
	case <-time.After(time.Millisecond):
	}
	return nil
}
func (f *liveFake) Add(evs []*event.Event) error {
	for _, ev := range evs {
		f.log = append(f.log, "add "+ev.Name)
	}
	f.on = append(f.on, evs...)
	return nil
}
func (f *liveFake) Remove(ev *event.Event) error {
	f.log = append(f.log, "remove "+ev.Name)
	f.on = slices.DeleteFunc(f.on, func(e *event.Event) bool { return e == ev })
	return nil
}
func (f *liveFake) Pause() error  { f.paused = true; return nil }
func (f *liveFake) Resume() error { f.paused = false; return nil }

// counting is a handler counting its calls; only the dispatch goroutine
// touches n, so the race detector checks that tasks run there.
type counting struct{ n int }

func (c *counting) HandleEvent(*event.Record) error { c.n++; return nil }

// runLive runs s in the background and returns a function that runs fn
// on the dispatch goroutine and waits for it.
func runLive(t *testing.T, s *Session) (do func(fn func()), wait func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Run() }()
	do = func(fn func()) {
		t.Helper()
		ran := make(chan struct{})
		s.Post(func() { fn(); close(ran) })
		select {
		case <-ran:
		case <-time.After(5 * time.Second):
			t.Fatal("a posted task did not run within 5s")
		}
	}
	wait = func() error {
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("the run did not end within 5s")
			return nil
		}
	}
	return do, wait
}

// until runs check on the dispatch goroutine until it is true.
func until(t *testing.T, do func(func()), what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		ok := false
		do(func() { ok = check() })
		if ok {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestPostedTasksRunOnTheDispatchGoroutineWhileItRuns(t *testing.T) {
	src := newLiveFake("a:x")
	s := New(Config{Source: src, Wait: true})
	s.AllowLiveChanges()
	c := &counting{}
	attach(t, s, "a:x", c)
	do, wait := runLive(t, s)
	var seen []int
	for range 3 {
		until(t, do, "more events", func() bool { return len(seen) == 0 || c.n > seen[len(seen)-1] })
		do(func() { seen = append(seen, c.n) })
	}
	if !slices.IsSorted(seen) || seen[0] == seen[2] {
		t.Errorf("counts seen by tasks %v do not grow", seen)
	}
	do(func() { s.Stop("test over") })
	if err := wait(); err != nil || s.Stats().Reason != "test over" {
		t.Errorf("err %v reason %q", err, s.Stats().Reason)
	}
}

func TestTasksPostedBeforeRunWaitForTheOwner(t *testing.T) {
	s := New(Config{Source: newLiveFake()})
	ran := 0
	s.Post(func() { ran++ })
	s.Post(func() { ran++ })
	select {
	case <-s.TasksReady():
	default:
		t.Fatal("TasksReady was not signalled")
	}
	if n := s.RunTasks(); n != 2 || ran != 2 {
		t.Errorf("RunTasks ran %d (%d), want 2", n, ran)
	}
}

func TestAHandlerAttachedWhileRunningGetsEventsAndDetachStopsThem(t *testing.T) {
	src := newLiveFake("a:x", "b:y")
	s := New(Config{Source: src, Wait: true})
	s.AllowLiveChanges()
	first := &counting{}
	attach(t, s, "a:x", first)
	do, wait := runLive(t, s)
	late := &counting{}
	var a *event.Attachment
	do(func() {
		evs, err := s.Resolve("b:y")
		if err != nil {
			t.Error(err)
			return
		}
		a = &event.Attachment{Probe: "b:y", Handler: late}
		if err := s.AttachLive(evs, a); err != nil {
			t.Error(err)
		}
	})
	until(t, do, "the late handler to be called", func() bool { return late.n >= 5 })
	do(func() {
		if got := s.EventsOf(a); len(got) != 1 || got[0].Name != "b:y" {
			t.Errorf("EventsOf = %v", got)
		}
		if err := s.Detach(a); err != nil {
			t.Error(err)
		}
		if err := s.Detach(a); err == nil {
			t.Error("detaching twice succeeded")
		}
	})
	var after int
	do(func() { after = late.n })
	until(t, do, "the first handler to go on", func() bool { return first.n > after+5 })
	do(func() {
		if late.n != after {
			t.Errorf("the detached handler was called %d more times", late.n-after)
		}
		if !s.Detached(a) {
			t.Error("Detached is false")
		}
		s.Stop("done")
	})
	wait()
	if got := strings.Join(src.log, ","); got != "add b:y,remove b:y" {
		t.Errorf("source calls %q", got)
	}
}

func TestAttachLiveNeedsPermissionWhileRunning(t *testing.T) {
	src := newLiveFake("a:x", "b:y")
	s := New(Config{Source: src, Wait: true})
	attach(t, s, "a:x", &counting{})
	do, wait := runLive(t, s)
	do(func() {
		evs, _ := s.Resolve("b:y")
		if err := s.AttachLive(evs, &event.Attachment{Probe: "b:y", Handler: &counting{}}); err == nil {
			t.Error("attached while running without AllowLiveChanges")
		}
		s.Stop("done")
	})
	wait()
	if err := s.Rearm(); err == nil {
		t.Error("a session without live changes was rearmed")
	}
}

func TestPauseStopsDeliveryUntilResume(t *testing.T) {
	src := newLiveFake("a:x")
	s := New(Config{Source: src, Wait: true})
	s.AllowLiveChanges()
	c := &counting{}
	attach(t, s, "a:x", c)
	do, wait := runLive(t, s)
	until(t, do, "events", func() bool { return c.n > 3 })
	var paused int
	do(func() {
		if err := s.Pause(); err != nil {
			t.Error(err)
		}
		if err := s.Pause(); err == nil {
			t.Error("paused twice")
		}
		paused = c.n
	})
	time.Sleep(30 * time.Millisecond)
	do(func() {
		if c.n != paused || !s.Paused() {
			t.Errorf("%d events delivered while paused", c.n-paused)
		}
		if err := s.Resume(); err != nil {
			t.Error(err)
		}
	})
	until(t, do, "events after resume", func() bool { return c.n > paused+3 })
	do(func() { s.Stop("done") })
	wait()
}

func TestARearmedSessionRunsAgainWithFreshCounts(t *testing.T) {
	src := newLiveFake("a:x", "b:y")
	s := New(Config{Source: src, Wait: true})
	s.AllowLiveChanges()
	c := &counting{}
	attach(t, s, "a:x", c)
	for run := 1; run <= 2; run++ {
		do, wait := runLive(t, s)
		until(t, do, "events", func() bool { return c.n > 3 })
		do(func() { s.Stop("stopped") })
		wait()
		if s.Stats().Events == 0 || s.InRun() {
			t.Fatalf("run %d: stats %+v, in run %v", run, s.Stats(), s.InRun())
		}
		if err := s.Rearm(); err != nil {
			t.Fatal(err)
		}
		s.ResetStats()
		if st := s.Stats(); st.Events != 0 || st.Reason != "" || s.Attachments()[0].Stats.Calls != 0 {
			t.Errorf("after ResetStats: %+v", st)
		}
		if s.Running() {
			t.Error("Running after Rearm")
		}
	}
	if src.enables != 2 {
		t.Errorf("Enable was called %d times, want once per run", src.enables)
	}
	// Between runs, a handler is attached the ordinary way and detached
	// events are not enabled again.
	b := &event.Attachment{Probe: "b:y", Handler: &counting{}}
	evs, _ := s.Resolve("b:y")
	if err := s.AttachLive(evs, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Detach(s.Attachments()[0]); err != nil {
		t.Fatal(err)
	}
	if got := s.enabledEvents(); len(got) != 1 || got[0].Name != "b:y" {
		t.Errorf("enabledEvents = %v, want b:y alone", got)
	}
}

func TestTimersAndEndHandlersCanBeDetached(t *testing.T) {
	s := New(Config{Source: newLiveFake("a:x"), Wait: true})
	s.AllowLiveChanges()
	var log []string
	end := &event.Attachment{Probe: "end", Handler: logger(&log, "end")}
	s.OnEnd(end)
	tick := &event.Attachment{Probe: "every", Handler: logger(&log, "tick")}
	s.Every(time.Microsecond, tick)
	do, wait := runLive(t, s)
	until(t, do, "a tick", func() bool { return len(log) > 0 })
	do(func() {
		if err := s.Detach(tick); err != nil {
			t.Error(err)
		}
		if err := s.Detach(end); err != nil {
			t.Error(err)
		}
		log = log[:0]
	})
	time.Sleep(20 * time.Millisecond)
	do(func() { s.Stop("done") })
	wait()
	if len(log) != 0 {
		t.Errorf("detached handlers ran: %v", log)
	}
}
