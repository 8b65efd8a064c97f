package otracemod

import (
	"fmt"

	"github.com/d5/tengo/v2"
)

// stats is otrace.stats(): the run's totals so far, and per probe, for
// scripts that report their own loss or rates.
//
//	{events, lost, lost_by_cpu: {"0": n, ...}, handler_errors, filtered, elapsed_ns,
//	 probes: {"sched:sched_switch": {events, lost}, ...}}
func (m *Module) stats(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("otrace.stats() takes no arguments")
	}
	s := m.cfg.Session
	st := s.Stats()
	probes := map[string]tengo.Object{}
	for _, ev := range s.Events() {
		var events, lost int64
		if old, ok := probes[ev.Name].(*tengo.ImmutableMap); ok {
			// Filtered variants of one probe add up under its name.
			events = old.Value["events"].(*tengo.Int).Value
			lost = old.Value["lost"].(*tengo.Int).Value
		}
		probes[ev.Name] = &tengo.ImmutableMap{Value: map[string]tengo.Object{
			"events": &tengo.Int{Value: events + int64(ev.Count)},
			"lost":   &tengo.Int{Value: lost + int64(ev.Lost)},
		}}
	}
	byCPU := map[string]tengo.Object{}
	for cpu, n := range st.LostByCPU {
		byCPU[fmt.Sprint(cpu)] = &tengo.Int{Value: int64(n)}
	}
	return &tengo.ImmutableMap{Value: map[string]tengo.Object{
		"lost_by_cpu":    &tengo.ImmutableMap{Value: byCPU},
		"events":         &tengo.Int{Value: int64(st.Events)},
		"lost":           &tengo.Int{Value: int64(st.Lost)},
		"handler_errors": &tengo.Int{Value: int64(st.HandlerErrors)},
		"filtered":       &tengo.Int{Value: int64(st.Filtered)},
		"elapsed_ns":     &tengo.Int{Value: int64(st.Span)},
		"probes":         &tengo.ImmutableMap{Value: probes},
	}}, nil
}
