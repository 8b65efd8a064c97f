package session

import (
	"errors"
	"math"

	"otrace/runtime/event"
	"otrace/runtime/process"
)

// ErrInterrupted is returned by Source.Read after Interrupt was called.
var ErrInterrupted = errors.New("source interrupted")

// ErrUnknownEvent is returned (wrapped) by Catalog.Lookup for a name the
// source cannot deliver.
var ErrUnknownEvent = errors.New("unknown event")

// Source delivers records in time order to the session's dispatch
// goroutine. Live collectors read on their own goroutines and hand batches
// over inside Read; recordings are read directly by Read.
type Source interface {
	// Catalog lists and resolves the events this source can deliver.
	Catalog() Catalog
	// Enable is called once before the first Read with every event that has
	// handlers; their IDs are set. A live source opens them here. A
	// session that runs again (Rearm) calls it again before its next run.
	Enable(events []*event.Event) error
	// Read delivers the next batch of records to sink, in time order, on
	// the caller's goroutine, and returns. Record payloads are valid only
	// during the sink call. Read returns io.EOF when there is nothing more
	// and ErrInterrupted after Interrupt. A live source calls sink.Tick at
	// least every 100 ms so timers run while nothing happens.
	Read(sink Sink) error
	// Interrupt makes a blocked or later Read return ErrInterrupted soon.
	// It is safe to call from any goroutine.
	Interrupt()
	// Close releases the source. Events that the source enabled are
	// disabled.
	Close() error
}

// Drainer is a Source that can deliver, without blocking, every record
// it already holds. When a run is stopped from outside (a signal, the
// traced command exiting) the session drains the source before it stops,
// because those records happened before the end.
type Drainer interface {
	Drain(sink Sink)
}

// Finisher is a Source with work to do when delivery ends and before the
// end handlers run: disabling events, reading final per-event counts
// (event.Event.Lost).
type Finisher interface {
	Finish()
}

// Counter reads how many times an event happened since tracing started.
type Counter interface {
	Value() uint64
}

// Counting is a Source that can count an event in the kernel without
// delivering its records, which costs the traced program far less. The
// counter is opened by Enable and reads zero before.
type Counting interface {
	Count(ev *event.Event) (Counter, error)
}

// Catalog resolves canonical probe names (see package probe) to events.
type Catalog interface {
	// Names lists the events that can be matched by name or glob, for
	// probe globs and "did you mean" suggestions.
	Names() []string
	// Lookup returns the event for a canonical name. Asking twice for one
	// name returns the same *event.Event. An unknown name returns an error
	// wrapping ErrUnknownEvent.
	Lookup(name string) (*event.Event, error)
}

// Lost reports records a collector dropped.
type Lost struct {
	Time  uint64
	CPU   uint32
	Count uint64
}

// Sink receives what a Source reads, in time order. A Record and its
// slices are valid only during the Sample call; the strings and byte
// slices of process records (Comm.Comm, Mmap.Path, Mmap.BuildID) are kept
// by the process model and must not alias a reused buffer.
type Sink interface {
	Sample(rec *event.Record)
	Comm(c process.Comm)
	Fork(f process.Fork)
	Exit(e process.Exit)
	Mmap(m process.Mmap)
	Lost(l Lost)
	// Tick tells the session the source's clock has reached now (ns)
	// without an event, so timers and deadlines can fire.
	Tick(now uint64)
}

// NextDue is when sink's next timer or deadline is due, on the source's
// clock: how long a live source may wait without a record. The Session
// tells, and sinks that wrap another pass it on; a sink that does not
// tell gives the largest uint64 (nothing is due).
func NextDue(sink Sink) uint64 {
	if d, ok := sink.(interface{ NextDue() uint64 }); ok {
		return d.NextDue()
	}
	return math.MaxUint64
}
