package session

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"otrace/runtime/event"
	"otrace/runtime/process"
)

// A session normally has its handlers fixed before Run. An interactive
// owner (the REPL) changes it while it runs instead: it posts tasks that
// the dispatch loop runs between batches, on the dispatch goroutine, so
// that attaching, detaching and evaluating code never race with handlers.
// The optional interfaces below are what a source offers for that.

// Waker is a Source whose blocked Read can be cut short without ending
// the run, so that a posted task runs at once instead of at the next
// poll. Wake is called from any goroutine, only after the first Read.
type Waker interface {
	Wake()
}

// LiveSource is a Source whose events can change while it runs.
type LiveSource interface {
	// Add starts delivering events Enable did not get (or that Remove
	// stopped); their IDs are set.
	Add(events []*event.Event) error
	// Remove stops delivering an event that has no handler left.
	Remove(ev *event.Event) error
}

// Pauser is a Source that can stop its events and start them again.
type Pauser interface {
	Pause() error
	Resume() error
}

// Rewinder is a Source that can deliver its records again from the
// start, such as a recording.
type Rewinder interface {
	Rewind() error
}

// LossReader is a Source that can update Event.Lost while it runs.
type LossReader interface {
	ReadLoss()
}

// liveState is what a session changed while it runs keeps.
type liveState struct {
	mu      sync.Mutex
	tasks   []func()
	pending atomic.Int32
	ready   chan struct{}
	// reading is set once the loop has read: a Waker may be woken.
	reading atomic.Bool

	allowed  bool
	paused   bool
	detached map[*event.Attachment]bool
}

// AllowLiveChanges lets handlers be attached (AttachLive) and detached
// while the session runs, and lets it run again after it stopped.
func (s *Session) AllowLiveChanges() { s.live.allowed = true }

// LiveChanges reports whether AllowLiveChanges was called.
func (s *Session) LiveChanges() bool { return s.live.allowed }

// InRun reports whether Run is dispatching (it has started and not
// stopped).
func (s *Session) InRun() bool { return s.running && !s.stopped }

// Post queues fn to run on the dispatch goroutine: between two batches of
// records while Run runs (a blocked source is woken), or at the owner's
// next RunTasks when it does not. It is safe to call from any goroutine.
func (s *Session) Post(fn func()) {
	l := &s.live
	l.mu.Lock()
	l.tasks = append(l.tasks, fn)
	l.pending.Add(1)
	ch := l.readyChan()
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
	}
	if w, ok := s.src.(Waker); ok && l.reading.Load() {
		w.Wake()
	}
}

// TasksReady is signalled when a task is posted: an owner that is not
// inside Run waits on it and calls RunTasks.
func (s *Session) TasksReady() <-chan struct{} {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	return s.live.readyChan()
}

func (l *liveState) readyChan() chan struct{} {
	if l.ready == nil {
		l.ready = make(chan struct{}, 1)
	}
	return l.ready
}

// RunTasks runs the posted tasks, in order, and returns how many ran. It
// must be called on the dispatch goroutine.
func (s *Session) RunTasks() int {
	l := &s.live
	n := 0
	for l.pending.Load() > 0 {
		l.mu.Lock()
		tasks := l.tasks
		l.tasks = nil
		l.pending.Add(-int32(len(tasks)))
		l.mu.Unlock()
		for _, t := range tasks {
			t()
			n++
		}
	}
	return n
}

// between runs in Run's loop before each Read: it runs the posted tasks
// and, while the session is paused, waits for more. It reports whether
// the run is stopping.
func (s *Session) between() bool {
	s.live.reading.Store(true)
	s.RunTasks()
	for s.live.paused && !s.stopped && s.stopReq.Load() == nil {
		select {
		case <-s.TasksReady():
		case <-time.After(50 * time.Millisecond):
		}
		s.RunTasks()
	}
	return s.stopped
}

// enabledEvents are the events with handlers, for Source.Enable.
func (s *Session) enabledEvents() []*event.Event {
	out := make([]*event.Event, 0, len(s.events))
	for _, ev := range s.events {
		if len(ev.Handlers) > 0 {
			out = append(out, ev)
		}
	}
	return out
}

// AttachLive is Attach that also works while the session runs, when live
// changes are allowed: events that had no handler are added to the
// source at once. If the source cannot add them, nothing is attached.
func (s *Session) AttachLive(events []*event.Event, a *event.Attachment) error {
	if !s.InRun() {
		s.Attach(events, a)
		return nil
	}
	if !s.live.allowed {
		return errors.New("handlers cannot be attached while tracing runs")
	}
	var added []*event.Event
	for _, ev := range events {
		if len(ev.Handlers) == 0 && !slices.Contains(added, ev) {
			added = append(added, ev)
		}
	}
	ls, ok := s.src.(LiveSource)
	if len(added) > 0 && !ok {
		return errors.New("this source cannot add events while it runs; stop it first")
	}
	s.Attach(events, a)
	if len(added) == 0 {
		return nil
	}
	if err := ls.Add(added); err != nil {
		for _, ev := range events {
			ev.Detach(a)
		}
		s.markDetached(a)
		return err
	}
	return nil
}

func (s *Session) markDetached(a *event.Attachment) {
	if s.live.detached == nil {
		s.live.detached = map[*event.Attachment]bool{}
	}
	s.live.detached[a] = true
}

// Detached reports whether a was detached.
func (s *Session) Detached(a *event.Attachment) bool { return s.live.detached[a] }

// Detach removes a handler of any kind (event, begin, end, timer). An
// event left without handlers is removed from a running source; its
// records, if any still arrive, are counted and dropped.
func (s *Session) Detach(a *event.Attachment) error {
	if s.live.detached[a] || a.ID < 0 || a.ID >= len(s.attachments) || s.attachments[a.ID] != a {
		return fmt.Errorf("handler %d is not attached", a.ID)
	}
	var errs []error
	for _, ev := range s.events {
		if !slices.Contains(ev.Handlers, a) {
			continue
		}
		ev.Detach(a)
		if len(ev.Handlers) > 0 || !s.InRun() {
			continue
		}
		if ls, ok := s.src.(LiveSource); ok {
			if err := ls.Remove(ev); err != nil {
				errs = append(errs, err)
			}
		}
	}
	s.begin = slices.DeleteFunc(s.begin, func(b *event.Attachment) bool { return b == a })
	s.end = slices.DeleteFunc(s.end, func(b *event.Attachment) bool { return b == a })
	s.timers = slices.DeleteFunc(s.timers, func(t *timer) bool { return t.a == a })
	s.nextDue = 0
	s.markDetached(a)
	return errors.Join(errs...)
}

// EventsOf lists the events a handler is attached to.
func (s *Session) EventsOf(a *event.Attachment) []*event.Event {
	var out []*event.Event
	for _, ev := range s.events {
		if slices.Contains(ev.Handlers, a) {
			out = append(out, ev)
		}
	}
	return out
}

// Pause stops delivery until Resume: the source's events are disabled
// where it can (a recording is simply not read), posted tasks still run,
// and timers do not fire.
func (s *Session) Pause() error {
	if !s.InRun() {
		return errors.New("tracing is not running")
	}
	if s.live.paused {
		return errors.New("tracing is paused already")
	}
	if p, ok := s.src.(Pauser); ok {
		if err := p.Pause(); err != nil {
			return err
		}
	}
	s.live.paused = true
	return nil
}

// Resume restarts delivery after Pause. Timers start their intervals
// again rather than catching up on the time paused.
func (s *Session) Resume() error {
	if !s.InRun() || !s.live.paused {
		return errors.New("tracing is not paused")
	}
	if p, ok := s.src.(Pauser); ok {
		if err := p.Resume(); err != nil {
			return err
		}
	}
	s.live.paused = false
	for _, t := range s.timers {
		t.next = 0
	}
	s.nextDue = 0
	return nil
}

// Paused reports whether the session is paused.
func (s *Session) Paused() bool { return s.live.paused }

// ReadLoss updates each event's Lost from the source, where it can tell
// while it runs.
func (s *Session) ReadLoss() {
	if lr, ok := s.src.(LossReader); ok && s.InRun() {
		lr.ReadLoss()
	}
}

// Rearm makes a session whose Run returned ready to Run again: handlers
// can be attached as before a first run, and a recording starts over.
// The statistics of the run that ended stay readable until ResetStats.
func (s *Session) Rearm() error {
	if !s.live.allowed {
		return errors.New("this session runs once")
	}
	if s.InRun() {
		return errors.New("tracing is still running")
	}
	if rw, ok := s.src.(Rewinder); ok && s.running {
		if err := rw.Rewind(); err != nil {
			return err
		}
		// The recording's processes come again from its start.
		*s.procs = *process.NewTable()
	}
	s.running, s.stopped = false, false
	s.stopReq.Store(nil)
	s.failure = nil
	s.live.paused = false
	return nil
}

// ResetStats zeroes the counts of a run (events, loss, errors, handler
// calls and times) and restarts the clock, before a new Run.
func (s *Session) ResetStats() {
	s.started, s.base, s.now, s.nextDue, s.deadline = false, 0, 0, 0, 0
	s.samples, s.filtered, s.lost, s.errors = 0, 0, 0, 0
	s.lostByCPU = nil
	s.reason = ""
	for _, ev := range s.events {
		ev.Count, ev.Lost = 0, 0
	}
	for _, v := range s.variants {
		v.Count, v.Lost = 0, 0
	}
	for _, a := range s.attachments {
		a.Stats = event.HandlerStats{}
	}
	for _, t := range s.timers {
		t.next = 0
	}
}
