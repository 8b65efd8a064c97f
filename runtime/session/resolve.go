package session

import (
	"errors"
	"fmt"
	"strings"

	"otrace/runtime/event"
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
	if errors.Is(err, ErrUnknownEvent) {
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
