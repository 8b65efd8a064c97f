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
	*session.Tee
	w    *Writer
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
	t := &Tee{Tee: session.NewTee(src, &scanWriter{w: w}), w: w}
	if m, ok := hostKernel(); ok {
		t.Keep(w.Mmap(m))
	}
	return t
}

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
	return t.Tee.Enable(events)
}

// Handler writes the samples it is called with, of the events Enable
// declared, once each however many times it is attached to an event.
func (t *Tee) Handler() event.Handler {
	return event.HandlerFunc(func(r *event.Record) error {
		k := sampleKey{r, r.Event, r.Time, r.CPU, r.TID}
		if _, ok := t.w.byEv[r.Event]; ok && k != t.last {
			t.last = k
			t.Keep(t.w.Sample(r))
		}
		return nil
	})
}

// scanWriter writes the process and loss records the Tee passes, those of
// the source's initial scan with time 0. A sample, which passes it
// unwritten (Handler writes it), ends the scan too.
type scanWriter struct {
	w *Writer
	// scanDone is set at the first record that is not part of the
	// source's initial scan; scanTime is the scan's time.
	scanDone bool
	scanTime uint64
}

// scanned returns the time to write a process record of the given time
// with: 0 while it belongs to the initial scan.
func (s *scanWriter) scanned(time uint64) uint64 {
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

var _ session.SampleWatcher = (*scanWriter)(nil)

func (s *scanWriter) SamplePassed()             { s.scanDone = true }
func (s *scanWriter) Lost(l session.Lost) error { s.scanDone = true; return s.w.Lost(l) }

func (s *scanWriter) Comm(c process.Comm) error { c.Time = s.scanned(c.Time); return s.w.Comm(c) }
func (s *scanWriter) Fork(f process.Fork) error { f.Time = s.scanned(f.Time); return s.w.Fork(f) }
func (s *scanWriter) Exit(e process.Exit) error { e.Time = s.scanned(e.Time); return s.w.Exit(e) }
func (s *scanWriter) Mmap(m process.Mmap) error { m.Time = s.scanned(m.Time); return s.w.Mmap(m) }
