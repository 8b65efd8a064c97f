package replay

import (
	"fmt"

	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// Tee is a session.Source that records what another source delivers: the
// events it enables and the process and loss records it reads, in the
// order it reads them. Samples are recorded by Tee.Handler, attached to
// the events like any handler, so that the session's filters (-p, -c)
// apply to what is recorded. `otrace record` is a session whose source is
// a Tee over the live collector.
type Tee struct {
	src  session.Source
	w    *Writer
	ids  map[*event.Event]uint32
	sink teeSink
}

// NewTee records src into w. The caller closes w after the session ends.
func NewTee(src session.Source, w *Writer) *Tee {
	t := &Tee{src: src, w: w, ids: map[*event.Event]uint32{}}
	t.sink.t = t
	return t
}

// Catalog implements session.Source.
func (t *Tee) Catalog() session.Catalog { return t.src.Catalog() }

// Enable declares every enabled event in the recording, then enables it.
func (t *Tee) Enable(events []*event.Event) error {
	names := map[string]bool{}
	for _, ev := range events {
		if ev.Filter != "" {
			return fmt.Errorf("%s: recording a probe with a filter is not supported; record it whole and filter when you run the script", ev.Name)
		}
		if names[ev.Name] {
			continue
		}
		names[ev.Name] = true
		id := uint32(len(t.ids) + 1)
		var text []byte
		if ev.Format != nil {
			text = ev.Format.Text
		}
		system := ""
		if ev.Format != nil {
			system = ev.Format.System
		}
		if err := t.w.DefineEvent(id, ev.Name, system, text); err != nil {
			return err
		}
		t.ids[ev] = id
	}
	return t.src.Enable(events)
}

// Read reads a batch from the source, recording each record as it passes.
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

type teeSink struct {
	t    *Tee
	next session.Sink
	err  error
}

func (s *teeSink) keep(err error) {
	if err != nil && s.err == nil {
		s.err = err
	}
}

func (s *teeSink) Sample(r *event.Record) { s.next.Sample(r) }

// Handler records the samples it is called with.
func (t *Tee) Handler() event.Handler {
	return event.HandlerFunc(func(r *event.Record) error {
		if id, ok := t.ids[r.Event]; ok {
			t.sink.keep(t.w.Sample(id, r.Time, r.CPU, r.PID, r.TID, r.Lost, r.Callchain, r.Raw))
		}
		return nil
	})
}

func (s *teeSink) Comm(c process.Comm) { s.keep(s.t.w.Comm(c)); s.next.Comm(c) }
func (s *teeSink) Fork(f process.Fork) { s.keep(s.t.w.Fork(f)); s.next.Fork(f) }
func (s *teeSink) Exit(e process.Exit) { s.keep(s.t.w.Exit(e)); s.next.Exit(e) }
func (s *teeSink) Mmap(m process.Mmap) { s.keep(s.t.w.Mmap(m)); s.next.Mmap(m) }
func (s *teeSink) Lost(l session.Lost) { s.keep(s.t.w.Lost(l)); s.next.Lost(l) }
func (s *teeSink) Tick(now uint64)     { s.next.Tick(now) }
