package perf

import (
	"fmt"
	"os"
	"sort"
	"sync"

	"otrace/collectors/tracefs"
	"otrace/runtime/event"
	"otrace/runtime/probe"
	"otrace/runtime/session"
)

// catalog resolves probe names to perf events: tracepoints and uprobes
// through tracefs, opened only when first needed (so a script with no
// tracepoints runs without tracefs), and the software, hardware and
// profile events perf itself knows.
type catalog struct {
	opts   tracefs.Options
	once   sync.Once
	fs     *tracefs.FS
	fsErr  error
	events map[string]*event.Event
}

func newCatalog(opts tracefs.Options) *catalog {
	return &catalog{opts: opts, events: map[string]*event.Event{}}
}

func (c *catalog) tracefs() (*tracefs.FS, error) {
	c.once.Do(func() {
		c.fs, c.fsErr = tracefs.Open(c.opts)
		if c.fsErr == nil {
			if n, err := c.fs.CleanStaleUprobes(); err == nil && n > 0 && c.opts.Notice != nil {
				c.opts.Notice(fmt.Sprintf("otrace: removed %d uprobes left behind by otrace processes that no longer run", n))
			}
		}
	})
	return c.fs, c.fsErr
}

// Names lists tracepoints (when tracefs is readable) and software events.
func (c *catalog) Names() []string {
	var names []string
	if fs, err := c.tracefs(); err == nil {
		if evs, err := fs.Events(); err == nil {
			names = append(names, evs...)
		}
	}
	for _, n := range probe.SoftwareEvents {
		names = append(names, "software:"+n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the event for a canonical probe name, creating uprobes
// as needed.
func (c *catalog) Lookup(name string) (*event.Event, error) {
	if ev, ok := c.events[name]; ok {
		return ev, nil
	}
	p, err := probe.Parse(name)
	if err != nil {
		return nil, err
	}
	ev, err := c.create(p)
	if err != nil {
		return nil, err
	}
	ev.ID = -1
	c.events[name] = ev
	return ev, nil
}

func (c *catalog) create(p probe.Probe) (*event.Event, error) {
	name := p.Canonical()
	switch p.Kind {
	case probe.Tracepoint:
		fs, err := c.tracefs()
		if err != nil {
			return nil, err
		}
		f, err := fs.Format(p.System, p.Event)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %v", session.ErrUnknownEvent, name, err)
		}
		return &event.Event{Name: name, Format: f, Config: &Spec{Type: typeTracepoint, Config: uint64(f.ID),
			Period: 1, SampleType: sampleRaw, Tracepoint: true}}, nil
	case probe.Profile:
		return &event.Event{Name: name, Format: &event.Format{Name: name}, Stack: event.BothStacks, Config: &Spec{Type: typeSoftware,
			Config: softwareConfigs["cpu-clock"], Freq: true, Period: uint64(p.Hz),
			SampleType: sampleIP | samplePeriod}}, nil
	case probe.Software:
		period := p.Period
		if period == 0 {
			period = defaultPeriod(p.Event)
		}
		return &event.Event{Name: name, Format: &event.Format{Name: name}, Config: &Spec{Type: typeSoftware,
			Config: softwareConfigs[p.Event], Period: period, SampleType: sampleIP | samplePeriod}}, nil
	case probe.Hardware:
		if _, err := os.Stat("/sys/bus/event_source/devices/cpu"); err != nil {
			return nil, fmt.Errorf("%s: hardware events need a CPU performance-monitoring unit, and this machine has none (common in VMs); sample with profile:hz:N or software:cpu-clock instead", name)
		}
		period := p.Period
		if period == 0 {
			period = 1_000_000
		}
		return &event.Event{Name: name, Format: &event.Format{Name: name}, Config: &Spec{Type: typeHardware,
			Config: hardwareConfigs[p.Event], Period: period, SampleType: sampleIP | samplePeriod}}, nil
	case probe.Uprobe, probe.Uretprobe:
		fs, err := c.tracefs()
		if err != nil {
			return nil, err
		}
		u, err := fs.AddUprobe(tracefs.Uprobe{Path: p.Path, Symbol: p.Symbol, Return: p.Kind == probe.Uretprobe})
		if err != nil {
			return nil, err
		}
		f := u.Format
		return &event.Event{Name: name, Format: f, Config: &Spec{Type: typeTracepoint, Config: uint64(f.ID),
			Period: 1, SampleType: sampleRaw, Tracepoint: true}}, nil
	case probe.ETW:
		return nil, fmt.Errorf("%s: ETW probes need Windows", name)
	}
	return nil, fmt.Errorf("%w %q", session.ErrUnknownEvent, name)
}

// close removes the uprobes this catalog created. The perf events on them
// must be closed first.
func (c *catalog) close() error {
	if c.fs == nil {
		return nil
	}
	return c.fs.RemoveUprobes()
}
