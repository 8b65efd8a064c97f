package perfdata

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"otrace/runtime/event"
	"otrace/runtime/filter"
	"otrace/runtime/session"
)

// slot is what the reader knows of one catalog event. Several attrs may
// share one (the same tracepoint recorded twice).
type slot struct {
	ev      *event.Event
	enabled bool
	// variants are filtered versions of ev (or ones asking another stack
	// mode) that have handlers: a sample goes to each whose filter matches
	// its payload, as the kernel would have delivered it live.
	variants []variant
}

type variant struct {
	ev    *event.Event
	match *filter.Filter
}

// catalog holds the file's events by canonical name.
type catalog struct {
	file   string // for messages: the path, or "" when unknown
	byName map[string]*slot
	names  []string // sorted
}

func newCatalog(file string) *catalog {
	return &catalog{file: file, byName: map[string]*slot{}}
}

// Names lists the recorded event names, sorted.
func (c *catalog) Names() []string { return slices.Clone(c.names) }

// Lookup returns the recorded event called name; the same name always
// gives the same *event.Event.
func (c *catalog) Lookup(name string) (*event.Event, error) {
	if s, ok := c.byName[name]; ok {
		return s.ev, nil
	}
	which := "the perf.data"
	if c.file != "" {
		which = "perf.data " + c.file
	}
	return nil, fmt.Errorf("%w %q: %s has no such event (%s)", session.ErrUnknownEvent, name, which, c.summary())
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

// add returns the slot of the named event, creating it.
func (c *catalog) add(name string, f *event.Format, stack event.StackMode, a *Attr) *slot {
	if s, ok := c.byName[name]; ok {
		return s
	}
	s := &slot{ev: &event.Event{ID: -1, Name: name, Format: f, Stack: stack, Config: a}}
	c.byName[name] = s
	i, _ := slices.BinarySearch(c.names, name)
	c.names = slices.Insert(c.names, i, name)
	return s
}

// enable marks the events that have handlers. Every event must come from
// this catalog.
func (c *catalog) enable(events []*event.Event) error {
	for _, s := range c.byName {
		s.enabled, s.variants = false, nil
	}
	for _, ev := range events {
		s, ok := c.byName[ev.Name]
		switch {
		case ok && s.ev == ev:
			s.enabled = true
		case ok && (ev.Filter != "" || ev.Stack != s.ev.Stack) && ev.Format == s.ev.Format:
			// A variant: a filter to apply, or another stack mode (the
			// file's callchains are what perf recorded).
			v := variant{ev: ev}
			if ev.Filter != "" {
				f, err := filter.Compile(ev.Filter, s.ev.Format)
				if err != nil {
					return fmt.Errorf("perfdata: %s: %w", ev.Name, err)
				}
				v.match = f
			}
			s.variants = append(s.variants, v)
		default:
			return fmt.Errorf("perfdata: Enable: event %s is not one of this perf.data's events", ev.Name)
		}
	}
	return nil
}

// define gives attr a its catalog event, naming it as otrace probes are
// named: tracepoints "sys:name", clocks sampled at a frequency
// "profile:hz:N", other software and hardware events "software:NAME" and
// "hardware:NAME", anything else "perf:NAME" after perf's name for it.
// Perf's dummy event, which only carries side-band records, gets none.
func (r *Reader) define(a *Attr) {
	if a.Event != nil {
		return
	}
	name, f := r.eventName(a)
	if name == "" {
		return
	}
	stack := event.NoStack
	if a.SampleType&sampleCallchain != 0 || (a.Type != typeTracepoint && a.SampleType&sampleIP != 0) {
		stack = event.BothStacks
	}
	s := r.cat.add(name, f, stack, a)
	a.Event, a.slot = s.ev, s
}

func (r *Reader) eventName(a *Attr) (string, *event.Format) {
	switch a.Type {
	case typeTracepoint:
		if r.tracing != nil {
			if f := r.tracing.formats[uint32(a.Config)]; a.Config <= 1<<32-1 && f != nil {
				return f.System + ":" + f.Name, f
			}
			if err := r.tracing.bad[uint32(a.Config)]; err != nil {
				r.notice("format-"+strconv.FormatUint(a.Config, 10), "the format of tracepoint %s (id %d) does not parse, so its fields cannot be decoded: %v",
					a.Name, a.Config, err)
			}
		} else {
			r.notice("no-tracing-data", "it records tracepoints but has no tracing data, so their fields cannot be decoded")
		}
		if sys, ev, ok := strings.Cut(a.Name, ":"); ok && sys != "" && ev != "" && !strings.Contains(ev, ":") {
			return a.Name, &event.Format{ID: uint32(a.Config), System: sys, Name: ev}
		}
		name := "tracepoint_" + strconv.FormatUint(a.Config, 10)
		return "perf:" + name, &event.Format{ID: uint32(a.Config), System: "perf", Name: name}
	case typeSoftware:
		if a.Config == swDummy {
			return "", nil
		}
		if a.Config < uint64(len(softwareNames)) {
			n := softwareNames[a.Config]
			name := "software:" + n
			if a.Freq && (n == "cpu-clock" || n == "task-clock") {
				name = "profile:hz:" + strconv.FormatUint(a.Period, 10)
			}
			return name, &event.Format{Name: name}
		}
	case typeHardware:
		// The high half names the PMU of a hybrid CPU.
		if c := a.Config & 0xffffffff; c < uint64(len(hardwareNames)) {
			name := "hardware:" + hardwareNames[c]
			return name, &event.Format{Name: name}
		}
	}
	n := a.Name
	if n == "" {
		n = fmt.Sprintf("type%d_config%#x", a.Type, a.Config)
	}
	name := "perf:" + strings.Map(func(r rune) rune {
		if r == ':' || r == ' ' || r == '/' || r == ',' || r == '=' {
			return '_'
		}
		return r
	}, n)
	return name, &event.Format{Name: name}
}

// defineAll builds the catalog from the attrs.
func (r *Reader) defineAll() {
	for _, a := range r.attrs {
		r.nameAttr(a)
		r.define(a)
	}
	r.defined = true
}

// nameAttr sets perf's name for a, from EVENT_DESC or EVENT_UPDATE.
func (r *Reader) nameAttr(a *Attr) {
	if a.Name != "" {
		return
	}
	for _, id := range a.IDs {
		if n, ok := r.names[id]; ok {
			a.Name = n
			return
		}
	}
}
