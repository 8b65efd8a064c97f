package session

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"otrace/runtime/event"
	"otrace/runtime/filter"
	"otrace/runtime/probe"
)

// Resolve turns a probe name as the user wrote it into the events it
// names: one for a plain name, any number for a glob. A name that matches
// nothing is an error that suggests the closest names the source has.
func (s *Session) Resolve(spec string) ([]*event.Event, error) {
	p, err := probe.Parse(spec)
	if err != nil {
		return nil, err
	}
	cat := s.src.Catalog()
	if p.IsGlob() {
		var evs []*event.Event
		for _, name := range cat.Names() {
			if !p.Match(name) {
				continue
			}
			ev, err := cat.Lookup(name)
			if err != nil {
				return nil, err
			}
			evs = append(evs, ev)
		}
		if len(evs) == 0 {
			return nil, fmt.Errorf("probe %q matches no event%s", spec, suggestion(p, cat))
		}
		return evs, nil
	}
	ev, err := cat.Lookup(p.Canonical())
	if errors.Is(err, ErrUnknownEvent) && !strings.Contains(err.Error(), "did you mean") {
		return nil, fmt.Errorf("%v%s", err, suggestion(p, cat))
	}
	if err != nil {
		return nil, err
	}
	return []*event.Event{ev}, nil
}

func suggestion(p probe.Probe, cat Catalog) string {
	names := cat.Names()
	want := p.Canonical()
	close := probe.Suggest(want, names, 3)
	if len(close) == 0 && p.Kind == probe.Tracepoint {
		// A right event in a wrong system ("sched:sys_enter") is far by
		// edit distance; look for the event name alone.
		for _, n := range names {
			if _, ev, _ := strings.Cut(n, ":"); ev == p.Event {
				close = append(close, n)
			}
		}
	}
	if len(close) == 0 {
		return ""
	}
	return "; did you mean " + strings.Join(close, ", ") + "?"
}

// ProbeOptions are what a script may ask of a probe beyond its name.
type ProbeOptions struct {
	// Filter is a tracepoint filter in the kernel's syntax.
	Filter string
	// Stack is which callchain to collect; NoStack keeps the event's own
	// default (profile:hz:N collects both).
	Stack event.StackMode
	// StackSize is the bytes of user stack a DwarfStack copies (0: the
	// default).
	StackSize uint32
}

// ResolveWith is Resolve for a probe with options: each event it names
// gets a variant carrying them (one per distinct set of options, shared by
// the handlers that ask the same). A filter is checked against each
// event's format first, so that a mistake names the field instead of
// failing in the kernel.
func (s *Session) ResolveWith(spec string, o ProbeOptions) ([]*event.Event, error) {
	evs, err := s.Resolve(spec)
	if err != nil || (o.Filter == "" && o.Stack == event.NoStack) {
		return evs, err
	}
	out := make([]*event.Event, len(evs))
	for i, ev := range evs {
		expr := ""
		if o.Filter != "" {
			if len(ev.Format.Fields) == 0 {
				return nil, fmt.Errorf("%s has no payload fields to filter on; filters apply to tracepoints and uprobes", ev.Name)
			}
			f, err := filter.Compile(o.Filter, ev.Format)
			if err != nil {
				return nil, err
			}
			expr = f.String()
		}
		stack := o.Stack
		if stack == event.NoStack {
			stack = ev.Stack
		}
		size := uint32(0)
		if stack == event.DwarfStack {
			size = o.StackSize
		}
		if expr == "" && stack == ev.Stack && size == ev.StackSize {
			out[i] = ev
			continue
		}
		key := ev.Name + "\x00" + expr + "\x00" + stack.String()
		if size != 0 {
			key += "\x00" + strconv.FormatUint(uint64(size), 10)
		}
		v := s.variants[key]
		if v == nil {
			v = &event.Event{ID: -1, Name: ev.Name, Format: ev.Format, Config: ev.Config, Filter: expr, Stack: stack, StackSize: size}
			if s.variants == nil {
				s.variants = map[string]*event.Event{}
			}
			s.variants[key] = v
		}
		out[i] = v
	}
	return out, nil
}
