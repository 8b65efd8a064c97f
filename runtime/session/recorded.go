package session

import (
	"fmt"
	"slices"
	"strings"

	"otrace/runtime/event"
	"otrace/runtime/filter"
)

// RecordedCatalog is the catalog of a recorded file's events (an otrace
// recording, a perf.data file): it looks them up by name, keeps which of
// them have handlers and their variants (the same event with a filter, or
// asking another stack mode), and delivers a recorded sample to its event
// and to every variant whose filter matches it, as the kernel would have
// delivered it live. How a file's records name their event (ids, attrs)
// stays with the reader, which keeps a RecordedEvent for each.
type RecordedCatalog struct {
	pkg  string // the reader's package, which begins its error messages
	kind string // what the file is called in messages: "recording", "perf.data"
	file string // for messages: the path, or "" when unknown

	byName map[string]*RecordedEvent
	names  []string // sorted
}

// RecordedEvent is one event of a RecordedCatalog.
type RecordedEvent struct {
	ev      *event.Event
	enabled bool
	// variants are the versions of ev that have handlers: a sample goes
	// to each whose filter matches its payload.
	variants []variant
}

type variant struct {
	ev    *event.Event
	match *filter.Filter // nil: every sample
}

// NewRecordedCatalog returns an empty catalog for a file that messages
// call kind ("recording", "perf.data") and that a reader in package pkg
// reads from path file ("" when unknown).
func NewRecordedCatalog(pkg, kind, file string) *RecordedCatalog {
	return &RecordedCatalog{pkg: pkg, kind: kind, file: file, byName: map[string]*RecordedEvent{}}
}

// Names lists the recorded event names, sorted.
func (c *RecordedCatalog) Names() []string { return slices.Clone(c.names) }

// Lookup returns the recorded event called name; the same name always
// gives the same *event.Event.
func (c *RecordedCatalog) Lookup(name string) (*event.Event, error) {
	if e, ok := c.byName[name]; ok {
		return e.ev, nil
	}
	which := "the " + c.kind
	if c.file != "" {
		which = c.kind + " " + c.file
	}
	return nil, fmt.Errorf("%w %q: %s has no such event (%s)", ErrUnknownEvent, name, which, c.summary())
}

// summary lists a few of the recorded names for an error message.
func (c *RecordedCatalog) summary() string {
	const show = 8
	switch n := len(c.names); {
	case n == 0:
		return "it has no events"
	case n <= show:
		return "it has " + strings.Join(c.names, ", ")
	default:
		return fmt.Sprintf("it has %s and %d more", strings.Join(c.names[:show], ", "), n-show)
	}
}

// Find returns the event called name, or nil.
func (c *RecordedCatalog) Find(name string) *RecordedEvent { return c.byName[name] }

// Define adds ev under its name, unless an event of that name is there
// already, and returns the event of that name.
func (c *RecordedCatalog) Define(ev *event.Event) *RecordedEvent {
	if e, ok := c.byName[ev.Name]; ok {
		return e
	}
	e := &RecordedEvent{ev: ev}
	c.byName[ev.Name] = e
	i, _ := slices.BinarySearch(c.names, ev.Name)
	c.names = slices.Insert(c.names, i, ev.Name)
	return e
}

// Enable sets which events have handlers, for Source.Enable. Every event
// must come from this catalog, or be a variant of one of its events.
func (c *RecordedCatalog) Enable(events []*event.Event) error {
	for _, e := range c.byName {
		e.enabled, e.variants = false, nil
	}
	return c.Add(events)
}

// Add marks more events as having handlers, for LiveSource.Add.
func (c *RecordedCatalog) Add(events []*event.Event) error {
	for _, ev := range events {
		if err := c.add(ev); err != nil {
			return err
		}
	}
	return nil
}

func (c *RecordedCatalog) add(ev *event.Event) error {
	e, ok := c.byName[ev.Name]
	switch {
	case ok && e.ev == ev:
		e.enabled = true
	case ok && (ev.Filter != "" || ev.Stack != e.ev.Stack) && ev.Format == e.ev.Format:
		// A variant: a filter to apply, or another stack mode (the
		// file's callchains are what they are).
		if slices.ContainsFunc(e.variants, func(v variant) bool { return v.ev == ev }) {
			return nil
		}
		v := variant{ev: ev}
		if ev.Filter != "" {
			f, err := filter.Compile(ev.Filter, e.ev.Format)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", c.pkg, ev.Name, err)
			}
			v.match = f
		}
		e.variants = append(e.variants, v)
	default:
		return fmt.Errorf("%s: Enable: event %s is not one of this %s's events", c.pkg, ev.Name, c.kind)
	}
	return nil
}

// Remove stops delivering ev, for LiveSource.Remove; its samples are
// skipped like those of events without handlers.
func (c *RecordedCatalog) Remove(ev *event.Event) error {
	e, ok := c.byName[ev.Name]
	if !ok {
		return fmt.Errorf("%s: Remove: event %s is not one of this %s's events", c.pkg, ev.Name, c.kind)
	}
	if e.ev == ev {
		e.enabled = false
	}
	e.variants = slices.DeleteFunc(e.variants, func(v variant) bool { return v.ev == ev })
	return nil
}

// Event returns the catalog's event.
func (e *RecordedEvent) Event() *event.Event { return e.ev }

// Wanted reports whether the event or a variant of it has handlers: a
// reader skips decoding the samples of an event that is not.
func (e *RecordedEvent) Wanted() bool { return e.enabled || len(e.variants) > 0 }

// Deliver hands a decoded sample to sink as the event, if it has
// handlers, and as each variant whose filter matches rec.Raw. It sets
// rec.Event for each.
func (e *RecordedEvent) Deliver(rec *event.Record, sink Sink) {
	if e.enabled {
		rec.Event = e.ev
		sink.Sample(rec)
	}
	for i := range e.variants {
		v := &e.variants[i]
		if v.match == nil || v.match.Match(rec.Raw) {
			rec.Event = v.ev
			sink.Sample(rec)
		}
	}
}
