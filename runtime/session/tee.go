package session

import (
	"otrace/runtime/event"
	"otrace/runtime/process"
)

// Tee is the part of a recording Source (replay.Tee, perfdata.Tee) that
// does not depend on the file format: it passes another Source through,
// writing each process and loss record it reads with a TeeWriter before
// the session gets it, and it keeps the first write error, which ends the
// run. A recording embeds a Tee and adds an Enable that declares the
// events in its file before it calls Tee.Enable, and a handler that writes
// samples, keeping their errors with Keep: samples are written by a
// handler so that the session's filters (-p, -c) apply to what is
// recorded.
type Tee struct {
	src  Source
	sink teeSink
}

var (
	_ Source   = (*Tee)(nil)
	_ Drainer  = (*Tee)(nil)
	_ Finisher = (*Tee)(nil)
)

// TeeWriter writes the records a Tee passes, but for samples.
type TeeWriter interface {
	Comm(c process.Comm) error
	Fork(f process.Fork) error
	Exit(e process.Exit) error
	Mmap(m process.Mmap) error
	Lost(l Lost) error
}

// SampleWatcher is a TeeWriter told of every sample the source delivers,
// written or not, before the session dispatches it.
type SampleWatcher interface {
	TeeWriter
	SamplePassed()
}

// NewTee passes src through, writing what it reads with w.
func NewTee(src Source, w TeeWriter) *Tee {
	t := &Tee{src: src, sink: teeSink{w: w}}
	t.sink.watch, _ = w.(SampleWatcher)
	return t
}

// Catalog implements Source.
func (t *Tee) Catalog() Catalog { return t.src.Catalog() }

// Enable enables events in the source. A recording's Enable declares
// them in its file, then calls it.
func (t *Tee) Enable(events []*event.Event) error { return t.src.Enable(events) }

// Read reads a batch from the source, writing each record as it passes.
// A write error (a full disk) ends the run.
func (t *Tee) Read(sink Sink) error {
	t.sink.next = sink
	if err := t.src.Read(&t.sink); err != nil {
		return err
	}
	return t.sink.err
}

// Drain implements Drainer when the source does.
func (t *Tee) Drain(sink Sink) {
	if d, ok := t.src.(Drainer); ok {
		t.sink.next = sink
		d.Drain(&t.sink)
	}
}

// Finish implements Finisher when the source does.
func (t *Tee) Finish() {
	if f, ok := t.src.(Finisher); ok {
		f.Finish()
	}
}

// Interrupt implements Source.
func (t *Tee) Interrupt() { t.src.Interrupt() }

// Close closes the source (not the writer).
func (t *Tee) Close() error { return t.src.Close() }

// Err is the first write error.
func (t *Tee) Err() error { return t.sink.err }

// Keep notes the error of a write the recording made itself (a sample, a
// record it starts the file with): the first one ends the run like the
// Tee's own.
func (t *Tee) Keep(err error) { t.sink.keep(err) }

type teeSink struct {
	w     TeeWriter
	watch SampleWatcher // w, when it is one
	next  Sink
	err   error
}

func (s *teeSink) keep(err error) {
	if err != nil && s.err == nil {
		s.err = err
	}
}

func (s *teeSink) Sample(r *event.Record) {
	if s.watch != nil {
		s.watch.SamplePassed()
	}
	s.next.Sample(r)
}

func (s *teeSink) Comm(c process.Comm) { s.keep(s.w.Comm(c)); s.next.Comm(c) }
func (s *teeSink) Fork(f process.Fork) { s.keep(s.w.Fork(f)); s.next.Fork(f) }
func (s *teeSink) Exit(e process.Exit) { s.keep(s.w.Exit(e)); s.next.Exit(e) }
func (s *teeSink) Mmap(m process.Mmap) { s.keep(s.w.Mmap(m)); s.next.Mmap(m) }
func (s *teeSink) Lost(l Lost)         { s.keep(s.w.Lost(l)); s.next.Lost(l) }
func (s *teeSink) Tick(now uint64)     { s.next.Tick(now) }
func (s *teeSink) NextDue() uint64     { return NextDue(s.next) }
