package session

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"otrace/runtime/event"
	"otrace/runtime/process"
)

// fakeSource delivers a fixed list of items, two per Read.
type fakeSource struct {
	events      map[string]*event.Event
	items       []func(Sink)
	enabled     []*event.Event
	interrupted atomic.Bool
	failAt      int // Read returns errFake once this many items were delivered; -1 never
}

var errFake = errors.New("fake source broke")

func newFake(names ...string) *fakeSource {
	f := &fakeSource{events: map[string]*event.Event{}, failAt: -1}
	for _, n := range names {
		f.events[n] = &event.Event{ID: -1, Name: n, Format: &event.Format{Name: n}}
	}
	return f
}

func (f *fakeSource) sample(name string, t uint64, pid int32) {
	f.items = append(f.items, func(s Sink) {
		s.Sample(&event.Record{Event: f.events[name], Time: t, PID: pid, TID: pid})
	})
}

func (f *fakeSource) Catalog() Catalog { return f }
func (f *fakeSource) Names() []string {
	var out []string
	for n := range f.events {
		out = append(out, n)
	}
	return out
}
func (f *fakeSource) Lookup(name string) (*event.Event, error) {
	if ev, ok := f.events[name]; ok {
		return ev, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownEvent, name)
}
func (f *fakeSource) Enable(evs []*event.Event) error { f.enabled = evs; return nil }
func (f *fakeSource) Interrupt()                      { f.interrupted.Store(true) }
func (f *fakeSource) Close() error                    { return nil }
func (f *fakeSource) Read(s Sink) error {
	if f.interrupted.Load() {
		return ErrInterrupted
	}
	for i := 0; i < 2; i++ {
		if f.failAt == 0 {
			return errFake
		}
		if len(f.items) == 0 {
			return io.EOF
		}
		f.items[0](s)
		f.items = f.items[1:]
		f.failAt--
	}
	return nil
}

// logger is a handler that appends what it sees to a shared log.
func logger(log *[]string, tag string) event.Handler {
	return event.HandlerFunc(func(rec *event.Record) error {
		if rec == nil {
			*log = append(*log, tag)
		} else {
			*log = append(*log, fmt.Sprintf("%s %s@%d", tag, rec.Event.Name, rec.Time))
		}
		return nil
	})
}

func attach(t *testing.T, s *Session, probe string, h event.Handler) *event.Attachment {
	t.Helper()
	evs, err := s.Resolve(probe)
	if err != nil {
		t.Fatal(err)
	}
	a := &event.Attachment{Probe: probe, Handler: h}
	s.Attach(evs, a)
	return a
}

func TestLifecycleRunsBeginEventsEndInOrder(t *testing.T) {
	src := newFake("a:x", "a:y")
	src.sample("a:x", 10, 1)
	src.sample("a:y", 20, 1)
	src.sample("a:x", 30, 1)
	s := New(Config{Source: src})
	var log []string
	attach(t, s, "a:x", logger(&log, "h1"))
	attach(t, s, "a:*", logger(&log, "h2"))
	s.OnBegin(&event.Attachment{Probe: "begin", Handler: logger(&log, "begin")})
	s.OnEnd(&event.Attachment{Probe: "end", Handler: logger(&log, "end")})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	want := "begin|h1 a:x@10|h2 a:x@10|h2 a:y@20|h1 a:x@30|h2 a:x@30|end"
	if got := strings.Join(log, "|"); got != want {
		t.Errorf("order:\n got %s\nwant %s", got, want)
	}
	st := s.Stats()
	if st.Events != 3 || st.Reason != "end of input" || st.Span != 20 {
		t.Errorf("stats = %+v", st)
	}
	if len(src.enabled) != 2 {
		t.Errorf("enabled %d events, want 2", len(src.enabled))
	}
}

func TestTimersRunOnTheSourceClock(t *testing.T) {
	src := newFake("a:x")
	ms := uint64(time.Millisecond)
	for _, at := range []uint64{1000 * ms, 1200 * ms, 1600 * ms, 3100 * ms} {
		src.sample("a:x", at, 1)
	}
	s := New(Config{Source: src})
	var log []string
	attach(t, s, "a:x", logger(&log, "ev"))
	if err := s.Every(500*time.Millisecond, &event.Attachment{Probe: "every", Handler: logger(&log, "tick")}); err != nil {
		t.Fatal(err)
	}
	s.Run()
	// Ticks at 1.5, 2.0, 2.5, 3.0 s: one before the 1.6 s event, three
	// (one per elapsed interval) before the 3.1 s one.
	want := "ev a:x@1000000000|ev a:x@1200000000|tick|ev a:x@1600000000|tick|tick|tick|ev a:x@3100000000"
	if got := strings.Join(log, "|"); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestDurationStopsAtTheDeadline(t *testing.T) {
	src := newFake("a:x")
	for i := uint64(0); i < 10; i++ {
		src.sample("a:x", 100+i*10, 1)
	}
	s := New(Config{Source: src, Duration: 45})
	var log []string
	attach(t, s, "a:x", logger(&log, "ev"))
	s.Run()
	if len(log) != 5 || s.Stats().Reason != "duration reached" {
		t.Errorf("got %d events (%v), reason %q; want 5 events before t=145", len(log), log, s.Stats().Reason)
	}
}

func TestStopFromAHandlerDropsTheRest(t *testing.T) {
	src := newFake("a:x")
	for i := uint64(1); i <= 5; i++ {
		src.sample("a:x", i, 1)
	}
	s := New(Config{Source: src})
	n := 0
	attach(t, s, "a:x", event.HandlerFunc(func(*event.Record) error {
		n++
		if n == 2 {
			s.Stop("enough")
		}
		return nil
	}))
	s.Run()
	if n != 2 || s.Stats().Reason != "enough" {
		t.Errorf("handled %d, reason %q", n, s.Stats().Reason)
	}
}

func TestHandlerErrorsAreCountedAndCollectionGoesOn(t *testing.T) {
	src := newFake("a:x")
	for i := uint64(1); i <= 4; i++ {
		src.sample("a:x", i, 1)
	}
	var stderr strings.Builder
	s := New(Config{Source: src, Stderr: &stderr})
	a := attach(t, s, "a:x", event.HandlerFunc(func(*event.Record) error {
		return &event.HandlerError{Msg: "boom", Pos: "x.tengo:1:2"}
	}))
	a.Where = "x.tengo:1:1"
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if s.Stats().HandlerErrors != 4 || s.Stats().Events != 4 {
		t.Errorf("stats %+v", s.Stats())
	}
	if got := strings.Count(stderr.String(), "boom"); got != 1 {
		t.Errorf("the error was printed %d times, want once:\n%s", got, stderr.String())
	}
	var sum strings.Builder
	s.WriteSummary(&sum, false)
	for _, want := range []string{"4 events", "4 handler errors", "4 errors in the a:x handler at x.tengo:1:1", "x.tengo:1:2: boom"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
}

func TestMaxErrorsStopsTheRun(t *testing.T) {
	src := newFake("a:x")
	for i := uint64(1); i <= 10; i++ {
		src.sample("a:x", i, 1)
	}
	s := New(Config{Source: src, MaxErrors: 3})
	attach(t, s, "a:x", event.HandlerFunc(func(*event.Record) error { return errors.New("no") }))
	err := s.Run()
	if err == nil || !strings.Contains(err.Error(), "--max-errors 3") || s.Stats().Events != 3 {
		t.Errorf("err %v, stats %+v", err, s.Stats())
	}
}

func TestPIDFilterKeepsOnlyThoseProcesses(t *testing.T) {
	src := newFake("a:x")
	for i, pid := range []int32{1, 2, 3, 2} {
		src.sample("a:x", uint64(i+1), pid)
	}
	s := New(Config{Source: src, PIDs: []int32{2}})
	var log []string
	attach(t, s, "a:x", logger(&log, "ev"))
	s.Run()
	if len(log) != 2 || s.Stats().Filtered != 2 {
		t.Errorf("got %v, filtered %d", log, s.Stats().Filtered)
	}
}

func TestASourceErrorEndsTheRunAndEndHandlersStillRun(t *testing.T) {
	src := newFake("a:x")
	for i := uint64(1); i <= 5; i++ {
		src.sample("a:x", i, 1)
	}
	src.failAt = 3
	s := New(Config{Source: src})
	var log []string
	attach(t, s, "a:x", logger(&log, "ev"))
	s.OnEnd(&event.Attachment{Probe: "end", Handler: logger(&log, "end")})
	err := s.Run()
	if !errors.Is(err, errFake) || len(log) != 4 || log[3] != "end" {
		t.Errorf("err %v, log %v", err, log)
	}
}

func TestProcessRecordsNameThreads(t *testing.T) {
	src := newFake("a:x")
	src.items = append(src.items, func(s Sink) { s.Comm(process.Comm{Time: 1, PID: 7, TID: 7, Comm: "bash"}) })
	src.items = append(src.items, func(s Sink) { s.Fork(process.Fork{Time: 2, PID: 7, TID: 8, PPID: 7, PTID: 7}) })
	src.items = append(src.items, func(s Sink) { s.Lost(Lost{Time: 3, Count: 5}) })
	s := New(Config{Source: src})
	var comm string
	attach(t, s, "a:x", event.HandlerFunc(func(rec *event.Record) error {
		comm = s.Processes().Comm(rec.PID, rec.TID)
		return nil
	}))
	src.items = append(src.items, func(sk Sink) { sk.Sample(&event.Record{Event: src.events["a:x"], Time: 4, PID: 7, TID: 8}) })
	s.Run()
	if comm != "bash" || s.Stats().Lost != 5 {
		t.Errorf("comm %q lost %d; a forked thread must inherit its parent's name", comm, s.Stats().Lost)
	}
}

func TestResolveExplainsUnknownProbes(t *testing.T) {
	s := New(Config{Source: newFake("sched:sched_switch", "sched:sched_wakeup", "raw_syscalls:sys_enter")})
	tests := []struct{ spec, want string }{
		{"sched:sched_swich", "did you mean sched:sched_switch"},
		{"sched:sys_enter", "did you mean raw_syscalls:sys_enter"},
		{"net:*", `probe "net:*" matches no event`},
		{"profile:hz:x", "frequency"},
	}
	for _, tt := range tests {
		_, err := s.Resolve(tt.spec)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Resolve(%q) = %v, want an error containing %q", tt.spec, err, tt.want)
		}
	}
	evs, err := s.Resolve("sched:*")
	if err != nil || len(evs) != 2 {
		t.Errorf("glob resolved to %d events, err %v", len(evs), err)
	}
}

func TestIdleSessionEndsWhenNothingIsAttached(t *testing.T) {
	s := New(Config{})
	ran := false
	s.OnBegin(&event.Attachment{Probe: "begin", Handler: event.HandlerFunc(func(*event.Record) error { ran = true; return nil })})
	if err := s.Run(); err != nil || !ran || s.Stats().Reason != "nothing attached" {
		t.Errorf("err %v ran %v reason %q", err, ran, s.Stats().Reason)
	}
}

func TestIdleSessionRunsTimersOnTheWallClockUntilStopped(t *testing.T) {
	s := New(Config{})
	ticks := 0
	s.Every(20*time.Millisecond, &event.Attachment{Probe: "every", Handler: event.HandlerFunc(func(*event.Record) error { ticks++; return nil })})
	go func() { time.Sleep(350 * time.Millisecond); s.StopAsync("test over") }()
	start := time.Now()
	s.Run()
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("StopAsync took %v to end the run", el)
	}
	if ticks < 5 || s.Stats().Reason != "test over" {
		t.Errorf("ticks %d reason %q", ticks, s.Stats().Reason)
	}
}

func TestCommas(t *testing.T) {
	for n, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := Commas(n); got != want {
			t.Errorf("Commas(%d) = %s", n, got)
		}
	}
}
