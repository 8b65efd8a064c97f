package session

import (
	"fmt"
	"sync"
	"time"

	"otrace/runtime/event"
)

// tickEvery is how often the idle source reports the time: the jitter of
// timers in a run without events.
const tickEvery = 10 * time.Millisecond

// idleSource delivers no events, only the passing of time, so a script
// with timers and no probes (or one waiting for a command) runs on the
// wall clock.
type idleSource struct {
	start time.Time
	once  sync.Once
	stop  chan struct{}
}

// NewIdleSource returns a source with no events that ticks every 10 ms.
// Its clock starts at 1 ns when the first Read happens.
func NewIdleSource() Source {
	return &idleSource{stop: make(chan struct{})}
}

func (s *idleSource) Catalog() Catalog { return emptyCatalog{} }

func (s *idleSource) Enable(events []*event.Event) error {
	if len(events) > 0 {
		return fmt.Errorf("the idle source cannot deliver %s", events[0].Name)
	}
	return nil
}

func (s *idleSource) Read(sink Sink) error {
	if s.start.IsZero() {
		s.start = time.Now()
		sink.Tick(1)
	}
	select {
	case <-s.stop:
		return ErrInterrupted
	case <-time.After(tickEvery - time.Since(s.start)%tickEvery):
	}
	sink.Tick(uint64(time.Since(s.start)) + 1)
	return nil
}

func (s *idleSource) Interrupt() { s.once.Do(func() { close(s.stop) }) }

func (s *idleSource) Close() error { return nil }

type emptyCatalog struct{}

func (emptyCatalog) Names() []string { return nil }

func (emptyCatalog) Lookup(name string) (*event.Event, error) {
	return nil, fmt.Errorf("%w %q: no event source is open (live tracing needs the perf collector; give --input FILE to read a recording)", ErrUnknownEvent, name)
}
