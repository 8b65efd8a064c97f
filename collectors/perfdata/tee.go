package perfdata

import (
	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// Tee is a session.Source that writes what another source delivers into a
// perf.data file: the events it enables become the file's attributes, and
// the process and loss records it reads are written as it reads them.
// Samples are written by Tee.Handler, attached to the events like any
// handler, so that the session's pid filter (-p, -c) applies to them.
// `otrace record --format perf` is a session whose source is a Tee over
// the live collector; replay.Tee is the same for otrace's own format.
type Tee struct {
	src  session.Source
	w    *Writer
	sink teeSink
	last sampleKey // the sample written last
}

// sampleKey tells a sample from the one before it: the session calls
// every handler of an event with the same record, and probes that
// overlap (-e 'sched:*' -e sched:sched_switch) attach Handler twice.
type sampleKey struct {
	rec  *event.Record
	ev   *event.Event
	time uint64
	cpu  uint32
	tid  int32
}

// NewTee writes src, a live source on this machine, into w. It starts
// the file with the mapping of this machine's kernel, as perf record
// does, so that perf report can name kernel functions. The caller closes
// w after the session ends.
//
// The process records src delivers first, before any sample or loss, all
// stamped with one time, are the processes it found in /proc when it
// started. They are written with time 0, as perf record writes the ones it
// synthesizes: perf delivers records in time order, and some of the
// kernel's that follow happened before the scan (the traced command's
// fork), so with the scan's time the command would have no parent to take
// its name from.
func NewTee(src session.Source, w *Writer) *Tee {
	t := &Tee{src: src, w: w}
	t.sink.w = w
	if m, ok := hostKernel(); ok {
		t.sink.keep(w.Mmap(m))
	}
	return t
}

// Catalog implements session.Source.
func (t *Tee) Catalog() session.Catalog { return t.src.Catalog() }

// Enable declares every enabled event in the file (the first of several
// events of one name), then enables them.
func (t *Tee) Enable(events []*event.Event) error {
	for _, ev := range events {
		if _, ok := t.w.byName[ev.Name]; ok {
			continue
		}
		if err := t.w.DefineEvent(ev); err != nil {
			return err
		}
	}
	return t.src.Enable(events)
}

// Read reads a batch from the source, writing each record as it passes.
// A write error (a full disk) ends the run.
func (t *Tee) Read(sink session.Sink) error {
	t.sink.next = sink
	if err := t.src.Read(&t.sink); err != nil {
		return err
	}
	return t.sink.err
}

// Drain implements session.Drainer when the source does.
func (t *Tee) Drain(sink session.Sink) {
	if d, ok := t.src.(session.Drainer); ok {
		t.sink.next = sink
		d.Drain(&t.sink)
	}
}

// Finish implements session.Finisher when the source does.
func (t *Tee) Finish() {
	if f, ok := t.src.(session.Finisher); ok {
		f.Finish()
	}
}

// Interrupt implements session.Source.
func (t *Tee) Interrupt() { t.src.Interrupt() }

// Close closes the source (not the writer).
func (t *Tee) Close() error { return t.src.Close() }

// Err is the first write error.
func (t *Tee) Err() error { return t.sink.err }

// Handler writes the samples it is called with, of the events Enable
// declared, once each however many times it is attached to an event.
func (t *Tee) Handler() event.Handler {
	return event.HandlerFunc(func(r *event.Record) error {
		k := sampleKey{r, r.Event, r.Time, r.CPU, r.TID}
		if _, ok := t.w.byEv[r.Event]; ok && k != t.last {
			t.last = k
			t.sink.keep(t.w.Sample(r))
		}
		return nil
	})
}

type teeSink struct {
	w    *Writer
	next session.Sink
	err  error
	// scanDone is set at the first record that is not part of the
	// source's initial scan; scanTime is the scan's time.
	scanDone bool
	scanTime uint64
}

// scanned returns the time to write a process record of the given time
// with: 0 while it belongs to the initial scan.
func (s *teeSink) scanned(time uint64) uint64 {
	if s.scanDone {
		return time
	}
	if s.scanTime == 0 {
		s.scanTime = time
	}
	if time != s.scanTime {
		s.scanDone = true
		return time
	}
	return 0
}

func (s *teeSink) keep(err error) {
	if err != nil && s.err == nil {
		s.err = err
	}
}

func (s *teeSink) Sample(r *event.Record) { s.scanDone = true; s.next.Sample(r) }
func (s *teeSink) Lost(l session.Lost)    { s.scanDone = true; s.keep(s.w.Lost(l)); s.next.Lost(l) }
func (s *teeSink) Tick(now uint64)        { s.next.Tick(now) }

func (s *teeSink) Comm(c process.Comm) {
	w := c
	w.Time = s.scanned(c.Time)
	s.keep(s.w.Comm(w))
	s.next.Comm(c)
}

func (s *teeSink) Fork(f process.Fork) {
	w := f
	w.Time = s.scanned(f.Time)
	s.keep(s.w.Fork(w))
	s.next.Fork(f)
}

func (s *teeSink) Exit(e process.Exit) {
	w := e
	w.Time = s.scanned(e.Time)
	s.keep(s.w.Exit(w))
	s.next.Exit(e)
}

func (s *teeSink) Mmap(m process.Mmap) {
	w := m
	w.Time = s.scanned(m.Time)
	s.keep(s.w.Mmap(w))
	s.next.Mmap(m)
}
