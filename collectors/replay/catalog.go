package replay

import (
	"fmt"
	"slices"
	"strings"

	"otrace/runtime/event"
	"otrace/runtime/filter"
	"otrace/runtime/session"
)

// denseIDs bounds the event ids looked up by slice index; larger ids (a
// writer may number events as it likes) fall back to a map.
const denseIDs = 1 << 12

// slot is what the reader knows of one of the recording's event ids.
type slot struct {
	ev      *event.Event
	enabled bool
	// variants are filtered versions of ev that have handlers: a sample
	// goes to each whose filter matches its payload, as the kernel would
	// have delivered it live.
	variants []variant
}

type variant struct {
	ev    *event.Event
	match *filter.Filter
}

// catalog holds the events a recording declares, by name and by the
// recording's event id.
type catalog struct {
	recording string // for messages: the path, or "" when unknown
	byName    map[string]*slot
	names     []string // sorted
	dense     []*slot  // by id, for ids < denseIDs
	sparse    map[uint32]*slot
}

func newCatalog(recording string) *catalog {
	return &catalog{recording: recording, byName: map[string]*slot{}, sparse: map[uint32]*slot{}}
}

// Names lists the recorded event names, sorted.
func (c *catalog) Names() []string { return slices.Clone(c.names) }

// Lookup returns the recorded event called name; the same name always
// gives the same *event.Event.
func (c *catalog) Lookup(name string) (*event.Event, error) {
	if s, ok := c.byName[name]; ok {
		return s.ev, nil
	}
	which := "the recording"
	if c.recording != "" {
		which = "recording " + c.recording
	}
	return nil, fmt.Errorf("%w %q: %s has no such event (%s)",
		session.ErrUnknownEvent, name, which, c.summary())
}

// summary lists a few of the recorded names for an error message.
func (c *catalog) summary() string {
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

// slot returns the event with the recording's id, or nil.
func (c *catalog) slot(id uint32) *slot {
	if id < uint32(len(c.dense)) {
		return c.dense[id]
	}
	if id < denseIDs {
		return nil
	}
	return c.sparse[id]
}

// define adds an event declared by an EVENT record.
func (c *catalog) define(id uint32, name, system string, formatText []byte) error {
	if s := c.slot(id); s != nil {
		return fmt.Errorf("event id %d is defined twice, as %s and %s", id, s.ev.Name, name)
	}
	if _, ok := c.byName[name]; ok {
		return fmt.Errorf("event %s is defined twice", name)
	}
	f := &event.Format{System: system, Name: name}
	if len(formatText) > 0 {
		var err error
		if f, err = event.ParseFormat(system, formatText); err != nil {
			return fmt.Errorf("EVENT %s has a bad format: %v", name, err)
		}
	}
	s := &slot{ev: &event.Event{ID: -1, Name: name, Format: f}}
	if id < denseIDs {
		if int(id) >= len(c.dense) {
			c.dense = append(c.dense, make([]*slot, int(id)+1-len(c.dense))...)
		}
		c.dense[id] = s
	} else {
		c.sparse[id] = s
	}
	c.byName[name] = s
	i, _ := slices.BinarySearch(c.names, name)
	c.names = slices.Insert(c.names, i, name)
	return nil
}

// enable marks the events that have handlers. Every event must come from
// this catalog.
func (c *catalog) enable(events []*event.Event) error {
	for _, s := range c.byName {
		s.enabled, s.variants = false, nil
	}
	for _, ev := range events {
		if err := c.add(ev); err != nil {
			return err
		}
	}
	return nil
}

// add marks one more event as having handlers.
func (c *catalog) add(ev *event.Event) error {
	s, ok := c.byName[ev.Name]
	switch {
	case ok && s.ev == ev:
		s.enabled = true
	case ok && (ev.Filter != "" || ev.Stack != s.ev.Stack) && ev.Format == s.ev.Format:
		// A variant: a filter to apply, or another stack mode (the
		// recording's callchains are what they are).
		if slices.ContainsFunc(s.variants, func(v variant) bool { return v.ev == ev }) {
			return nil
		}
		v := variant{ev: ev}
		if ev.Filter != "" {
			f, err := filter.Compile(ev.Filter, s.ev.Format)
			if err != nil {
				return fmt.Errorf("replay: %s: %w", ev.Name, err)
			}
			v.match = f
		}
		s.variants = append(s.variants, v)
	default:
		return fmt.Errorf("replay: Enable: event %s is not one of this recording's events", ev.Name)
	}
	return nil
}
