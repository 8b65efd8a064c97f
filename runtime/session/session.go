package session

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"
	"time"

	"otrace/runtime/event"
	"otrace/runtime/process"
)

// Config says how a session runs.
type Config struct {
	// Source delivers the records. Nil means an idle source that delivers
	// only clock ticks (for scripts with timers and no probes).
	Source Source
	// Duration stops the run once this much time has passed on the
	// source's clock since its first record; 0 means no limit.
	Duration time.Duration
	// MaxErrors stops the run after this many handler errors; 0 means
	// collection goes on whatever the handlers do.
	MaxErrors uint64
	// PIDs, when set, keeps only records of these processes.
	PIDs []int32
	// FollowChildren adds to PIDs the processes they fork, as they fork.
	FollowChildren bool
	// Wait keeps an idle session running until it is stopped (by duration,
	// signal or command exit) even when nothing is attached.
	Wait bool
	// Stderr receives the first occurrence of each handler error.
	Stderr io.Writer
	// Started, when set, is called once events are enabled and the begin
	// handlers have run: the moment to release a traced command.
	Started func()
	// Flush writes out the script's buffered output. It is called after
	// begin handlers and timers, before error messages, on source ticks and
	// at the end, so output and diagnostics stay in order.
	Flush func()
}

// Session is one tracing run. Every method except StopAsync must be called
// from the goroutine that calls Run (or before Run).
type Session struct {
	cfg   Config
	src   Source
	procs *process.Table
	pids  map[int32]bool

	events      []*event.Event // by ID
	attachments []*event.Attachment
	begin, end  []*event.Attachment
	timers      []*timer
	counters    int
	variants    map[string]*event.Event // filtered events, by name and filter
	onMmap      []func(process.Mmap)
	onJIT       []func(JITCode)
	onFinish    []func()

	// Clock, in the source's nanoseconds.
	started  bool   // first time seen
	base     uint64 // first time seen
	now      uint64 // latest time seen
	nextDue  uint64 // earliest timer or deadline; MaxUint64 when none
	deadline uint64 // 0: none

	running bool
	stopped bool
	stopReq atomic.Pointer[string]
	reason  string
	failure error

	samples   uint64 // records dispatched
	filtered  uint64 // records dropped by the pid filter
	lost      uint64
	lostByCPU map[uint32]uint64
	errors    uint64
	lastFlush time.Time

	live liveState // tasks and changes while running (live.go)
}

type timer struct {
	every uint64
	next  uint64
	a     *event.Attachment
}

// New makes a session; attach handlers, then call Run.
func New(cfg Config) *Session {
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if cfg.Flush == nil {
		cfg.Flush = func() {}
	}
	if cfg.Source == nil {
		cfg.Source = NewIdleSource()
	}
	s := &Session{cfg: cfg, src: cfg.Source, procs: process.NewTable()}
	if len(cfg.PIDs) > 0 {
		s.pids = make(map[int32]bool, len(cfg.PIDs))
		for _, p := range cfg.PIDs {
			s.pids[p] = true
		}
	}
	return s
}

// Count returns a counter of ev: counted in the kernel when the source
// can (Counting), else by a handler that counts ev's records.
func (s *Session) Count(ev *event.Event) (Counter, error) {
	s.counters++
	if c, ok := s.src.(Counting); ok {
		return c.Count(ev)
	}
	n := &handlerCounter{}
	s.Attach([]*event.Event{ev}, &event.Attachment{Probe: ev.Name, Where: "counter", Handler: n})
	return n, nil
}

// handlerCounter counts the records of the events it is attached to.
type handlerCounter struct{ n uint64 }

func (c *handlerCounter) HandleEvent(*event.Record) error { c.n++; return nil }
func (c *handlerCounter) Value() uint64                   { return c.n }

// StartTime is the source-clock time of the first record or tick, or 0.
func (s *Session) StartTime() uint64 { return s.base }

// Now is the session's clock: the time of the latest record or tick, in
// the source's nanoseconds (0 before the first).
func (s *Session) Now() uint64 { return s.now }

// SetStarted sets Config.Started.
func (s *Session) SetStarted(fn func()) { s.cfg.Started = fn }

// FilterPID adds pid to the processes whose records are kept; before it
// is first called (and without Config.PIDs) every process is kept.
func (s *Session) FilterPID(pid int32) {
	if s.pids == nil {
		s.pids = map[int32]bool{}
	}
	s.pids[pid] = true
}

// Processes is the process model the source's records feed.
func (s *Session) Processes() *process.Table { return s.procs }

// Source is the session's source.
func (s *Session) Source() Source { return s.src }

// Attach attaches a to each of events, in order after their existing
// handlers. Events get their IDs here.
func (s *Session) Attach(events []*event.Event, a *event.Attachment) {
	a.ID = len(s.attachments)
	s.attachments = append(s.attachments, a)
	for _, ev := range events {
		if ev.ID < 0 || ev.ID >= len(s.events) || s.events[ev.ID] != ev {
			ev.ID = len(s.events)
			s.events = append(s.events, ev)
		}
		ev.Attach(a)
	}
}

// OnBegin adds a handler called once, with a nil record, before the first
// event.
func (s *Session) OnBegin(a *event.Attachment) { s.begin = append(s.begin, s.register(a)) }

// OnEnd adds a handler called once, with a nil record, after the last
// event, however the run ended.
func (s *Session) OnEnd(a *event.Attachment) { s.end = append(s.end, s.register(a)) }

// Every adds a handler called with a nil record each time the source's
// clock passes another interval.
func (s *Session) Every(interval time.Duration, a *event.Attachment) error {
	if interval <= 0 {
		return fmt.Errorf("interval %v must be positive", interval)
	}
	s.timers = append(s.timers, &timer{every: uint64(interval), a: s.register(a)})
	s.nextDue = 0 // re-arm on the next time seen
	return nil
}

func (s *Session) register(a *event.Attachment) *event.Attachment {
	a.ID = len(s.attachments)
	s.attachments = append(s.attachments, a)
	return a
}

// Events lists the events with handlers, by ID.
func (s *Session) Events() []*event.Event { return s.events }

// Attachments lists every handler in attach order.
func (s *Session) Attachments() []*event.Attachment { return s.attachments }

// Stop ends the run after the current handler returns. Records the source
// still delivers are dropped; end handlers run. The first reason given is
// the one reported.
func (s *Session) Stop(reason string) {
	if !s.stopped {
		s.stopped = true
		s.reason = reason
	}
}

// StopAsync asks the run to stop, from any goroutine (a signal handler, a
// command that exited).
func (s *Session) StopAsync(reason string) {
	s.stopReq.CompareAndSwap(nil, &reason)
	s.src.Interrupt()
}

// Running reports whether Run has been called: events are enabled and
// handlers can no longer be added.
func (s *Session) Running() bool { return s.running }

// Stopped reports whether the run is ending.
func (s *Session) Stopped() bool { return s.stopped }

// Run runs the lifecycle: enable the source's events, call begin handlers,
// dispatch records until the run stops, call end handlers. It returns the
// error that ended the run (a failing source, too many handler errors), or
// nil.
func (s *Session) Run() error {
	s.running = true
	if err := s.src.Enable(s.enabledEvents()); err != nil {
		s.Stop("tracing could not start")
		return err
	}
	s.lastFlush = time.Now()
	for _, a := range s.begin {
		s.call(a, nil)
	}
	s.cfg.Flush()
	if s.cfg.Started != nil && !s.stopped {
		s.cfg.Started()
	}
	if len(s.events) == 0 && len(s.timers) == 0 && s.counters == 0 && !s.cfg.Wait {
		s.Stop("nothing attached")
	}
	for !s.stopped {
		if s.between() {
			break
		}
		if r := s.stopReq.Load(); r != nil {
			s.stopFromOutside(*r)
			break
		}
		err := s.src.Read(s)
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			s.Stop("end of input")
		case errors.Is(err, ErrInterrupted):
			if r := s.stopReq.Load(); r != nil {
				s.stopFromOutside(*r)
			}
		default:
			s.failure = errors.Join(s.failure, err)
			s.Stop("source failed")
		}
	}
	if f, ok := s.src.(Finisher); ok {
		f.Finish()
	}
	for _, a := range s.end {
		s.call(a, nil)
	}
	for _, fn := range s.onFinish {
		fn()
	}
	s.cfg.Flush()
	return s.failure
}

// stopFromOutside stops the run after delivering what the source already
// holds: those records happened before the signal or the exit.
func (s *Session) stopFromOutside(reason string) {
	if d, ok := s.src.(Drainer); ok && !s.stopped {
		d.Drain(s)
	}
	s.Stop(reason)
}

// Sample dispatches one record to its event's handlers (Sink).
func (s *Session) Sample(rec *event.Record) {
	if rec.Time >= s.nextDue {
		s.advance(rec.Time)
	}
	if s.stopped {
		return
	}
	if s.pids != nil && !s.pids[rec.PID] {
		s.filtered++
		return
	}
	if rec.Time > s.now {
		s.now = rec.Time
	}
	ev := rec.Event
	ev.Count++
	s.samples++
	for _, a := range ev.Handlers {
		if err, first := a.Call(rec); err != nil {
			s.handlerError(a, err, first)
		}
	}
}

// Comm updates the process model (Sink).
func (s *Session) Comm(c process.Comm) { s.tick(c.Time); s.procs.AddComm(c) }

// Fork updates the process model (Sink), and the pid filter when it
// follows children.
func (s *Session) Fork(f process.Fork) {
	s.tick(f.Time)
	s.procs.AddFork(f)
	if s.cfg.FollowChildren && s.pids != nil && f.PID != f.PPID && s.pids[f.PPID] {
		s.pids[f.PID] = true
	}
}

// Exit updates the process model (Sink).
func (s *Session) Exit(e process.Exit) { s.tick(e.Time); s.procs.AddExit(e) }

// Mmap updates the process model (Sink) and tells the OnMmap hooks.
func (s *Session) Mmap(m process.Mmap) {
	s.tick(m.Time)
	s.procs.AddMmap(m)
	for _, fn := range s.onMmap {
		fn(m)
	}
}

// JITCode says process PID has code compiled at run time, named Name,
// at [Start, Start+Len): a method the .NET runtime announced on Windows.
// It names code rather than maps memory, so it stays out of the process
// model, where thousands of methods per process would slow every lookup.
type JITCode struct {
	Time       uint64
	PID        int32
	Start, Len uint64
	Name       string
}

// JIT tells the OnJIT hooks of compiled code. Sources that learn of such
// code call it when their Sink has it (the Session does; a Sink without
// it drops the names).
func (s *Session) JIT(j JITCode) {
	s.tick(j.Time)
	for _, fn := range s.onJIT {
		fn(j)
	}
}

// OnJIT adds a hook called for every JIT-compiled function a source
// reports, e.g. to name it in stacks.
func (s *Session) OnJIT(fn func(JITCode)) { s.onJIT = append(s.onJIT, fn) }

// Fail records an error that makes the run fail (exit status 1) without
// stopping it, such as an output that could not be written.
func (s *Session) Fail(err error) {
	s.failure = errors.Join(s.failure, err)
}

// OnFinish adds a hook called once after the end handlers, before the
// output is flushed: aggregations print there.
func (s *Session) OnFinish(fn func()) { s.onFinish = append(s.onFinish, fn) }

// Warn prints a one-line warning in order with the script's output.
func (s *Session) Warn(msg string) {
	s.cfg.Flush()
	fmt.Fprintln(s.cfg.Stderr, msg)
}

// OnMmap adds a hook called for every mapping the source reports, e.g.
// to open a mapped binary while it still exists.
func (s *Session) OnMmap(fn func(process.Mmap)) { s.onMmap = append(s.onMmap, fn) }

// Lost counts dropped records (Sink).
func (s *Session) Lost(l Lost) {
	s.tick(l.Time)
	s.lost += l.Count
	if s.lostByCPU == nil {
		s.lostByCPU = map[uint32]uint64{}
	}
	s.lostByCPU[l.CPU] += l.Count
}

// Tick advances the clock without an event (Sink).
func (s *Session) Tick(now uint64) {
	s.tick(now)
	if time.Since(s.lastFlush) >= 100*time.Millisecond {
		s.cfg.Flush()
		s.lastFlush = time.Now()
	}
}

// NextDue is when the next timer or the deadline is due, on the source's
// clock, or the largest uint64 when nothing is: how long a live source may
// block without a record.
func (s *Session) NextDue() uint64 {
	if !s.started {
		return 0 // the clock starts at the first tick
	}
	return s.nextDue
}

func (s *Session) tick(now uint64) {
	if now >= s.nextDue {
		s.advance(now)
	}
	if now > s.now {
		s.now = now
	}
}

// maxCatchUp bounds how many missed intervals a timer replays when the
// clock jumps (a gap in a recording); beyond it the timer skips ahead.
const maxCatchUp = 1000

// advance runs what is due at time now: timers, then the deadline.
func (s *Session) advance(now uint64) {
	if now == 0 || s.stopped {
		return
	}
	if !s.started {
		s.started, s.base, s.now = true, now, now
		for _, t := range s.timers {
			t.next = now + t.every
		}
		if s.cfg.Duration > 0 {
			s.deadline = now + uint64(s.cfg.Duration)
		}
	}
	for _, t := range s.timers {
		if t.next == 0 {
			t.next = now + t.every // added after the clock started
		}
	}
	for _, t := range s.timers {
		for n := 0; t.next <= now && !s.stopped; n++ {
			if s.deadline != 0 && t.next > s.deadline {
				break
			}
			if n == maxCatchUp {
				t.next += (now - t.next) / t.every * t.every
			}
			if t.next > s.now {
				s.now = t.next
			}
			s.call(t.a, nil)
			t.next += t.every
		}
	}
	if len(s.timers) > 0 {
		s.cfg.Flush()
	}
	if s.deadline != 0 && now >= s.deadline {
		s.now = s.deadline
		s.Stop("duration reached")
	}
	s.nextDue = math.MaxUint64
	for _, t := range s.timers {
		s.nextDue = min(s.nextDue, t.next)
	}
	if s.deadline != 0 {
		s.nextDue = min(s.nextDue, s.deadline)
	}
}

func (s *Session) call(a *event.Attachment, rec *event.Record) {
	if err, first := a.Call(rec); err != nil {
		s.handlerError(a, err, first)
	}
}

func (s *Session) handlerError(a *event.Attachment, err error, first bool) {
	s.errors++
	if first {
		s.cfg.Flush()
		fmt.Fprintf(s.cfg.Stderr, "otrace: %v\n        in %s (first occurrence; repeats are counted)\n", err, Label(a))
	}
	if s.cfg.MaxErrors > 0 && s.errors == s.cfg.MaxErrors {
		s.failure = errors.Join(s.failure, fmt.Errorf("stopped after %d handler errors (--max-errors %d)", s.errors, s.cfg.MaxErrors))
		s.Stop("too many handler errors")
	}
}

// Label names a handler for people: "the sched:sched_switch handler at
// trace.tengo:3:26".
func Label(a *event.Attachment) string {
	l := "the " + a.Probe + " handler"
	if a.Where != "" {
		l += " at " + a.Where
	}
	return l
}
