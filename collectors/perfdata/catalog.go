package perfdata

import (
	"fmt"
	"strconv"
	"strings"

	"otrace/runtime/event"
)

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
	s := r.cat.Define(&event.Event{ID: -1, Name: name, Format: f, Stack: stack, Config: a})
	a.Event, a.slot = s.Event(), s
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
