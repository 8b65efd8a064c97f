// Package probe owns the syntax of probe names: what a user may write in
// otrace.on(...) and on the command line, and the canonical name each one
// resolves to in a collector's catalog. It knows no collector.
package probe

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Kind is the kind of a probe.
type Kind uint8

const (
	Tracepoint Kind = iota + 1 // SYSTEM:EVENT, tracepoint:SYSTEM:EVENT
	Profile                    // profile:hz:N
	Software                   // software:NAME[:PERIOD]
	Hardware                   // hardware:NAME[:PERIOD]
	Uprobe                     // uprobe:PATH:SYMBOL
	Uretprobe                  // uretprobe:PATH:SYMBOL
	ETW                        // etw:PROVIDER[:...]
)

var kindNames = map[Kind]string{
	Tracepoint: "tracepoint", Profile: "profile", Software: "software",
	Hardware: "hardware", Uprobe: "uprobe", Uretprobe: "uretprobe", ETW: "etw",
}

func (k Kind) String() string { return kindNames[k] }

// SoftwareEvents are the names software: accepts, as perf spells them.
var SoftwareEvents = []string{
	"cpu-clock", "task-clock", "page-faults", "minor-faults", "major-faults",
	"context-switches", "cpu-migrations", "alignment-faults", "emulation-faults",
}

// HardwareEvents are the names hardware: accepts.
var HardwareEvents = []string{
	"cpu-cycles", "instructions", "cache-references", "cache-misses",
	"branch-instructions", "branch-misses", "bus-cycles", "ref-cycles",
}

// Probe is a parsed probe name.
type Probe struct {
	Kind   Kind
	System string // tracepoint subsystem ("sched"); ETW provider
	Event  string // tracepoint event ("sched_switch"); software/hardware name
	Hz     int    // profile frequency
	Period uint64 // software/hardware period (0: the collector's default)
	Path   string // uprobe binary
	Symbol string // uprobe symbol (may carry +OFFSET)
	Spec   string // the text as written
}

// MaxHz is the highest profile frequency accepted: the kernel's default
// perf_event_max_sample_rate.
const MaxHz = 100000

// Parse parses a probe name.
func Parse(spec string) (Probe, error) {
	p := Probe{Spec: spec}
	s := strings.TrimSpace(spec)
	if s == "" {
		return p, fmt.Errorf("empty probe name")
	}
	head, rest, _ := strings.Cut(s, ":")
	switch head {
	case "tracepoint", "t":
		return parseTracepoint(p, rest)
	case "profile":
		unit, n, ok := strings.Cut(rest, ":")
		if !ok || unit != "hz" {
			return p, fmt.Errorf("probe %q: want profile:hz:N, e.g. profile:hz:99", spec)
		}
		hz, err := strconv.Atoi(n)
		if err != nil || hz <= 0 || hz > MaxHz {
			return p, fmt.Errorf("probe %q: frequency must be a whole number from 1 to %d", spec, MaxHz)
		}
		p.Kind, p.Hz = Profile, hz
		return p, nil
	case "software", "hardware":
		p.Kind, p.Event = Software, rest
		names := SoftwareEvents
		if head == "hardware" {
			p.Kind, names = Hardware, HardwareEvents
		}
		name, period, hasPeriod := strings.Cut(rest, ":")
		p.Event = name
		if !contains(names, name) {
			return p, fmt.Errorf("probe %q: unknown %s event %q; known: %s", spec, head, name, strings.Join(names, ", "))
		}
		if hasPeriod {
			v, err := strconv.ParseUint(period, 10, 64)
			if err != nil || v == 0 {
				return p, fmt.Errorf("probe %q: period must be a positive whole number", spec)
			}
			p.Period = v
		}
		return p, nil
	case "uprobe", "uretprobe":
		p.Kind = Uprobe
		if head == "uretprobe" {
			p.Kind = Uretprobe
		}
		i := strings.LastIndexByte(rest, ':')
		if i <= 0 || i == len(rest)-1 {
			return p, fmt.Errorf("probe %q: want %s:PATH:SYMBOL, e.g. %s:/bin/bash:readline", spec, head, head)
		}
		p.Path, p.Symbol = rest[:i], rest[i+1:]
		return p, nil
	case "etw":
		if rest == "" {
			return p, fmt.Errorf("probe %q: want etw:PROVIDER", spec)
		}
		p.Kind = ETW
		p.System, p.Event, _ = strings.Cut(rest, ":")
		return p, nil
	}
	return parseTracepoint(p, s)
}

func parseTracepoint(p Probe, s string) (Probe, error) {
	sys, ev, ok := strings.Cut(s, ":")
	if !ok || sys == "" || ev == "" || strings.Contains(ev, ":") {
		return p, fmt.Errorf("probe %q: want SYSTEM:EVENT (a tracepoint, e.g. sched:sched_switch), profile:hz:N, software:NAME, uprobe:PATH:SYMBOL", p.Spec)
	}
	if _, err := path.Match(s, ""); err != nil {
		return p, fmt.Errorf("probe %q: bad glob: %v", p.Spec, err)
	}
	p.Kind, p.System, p.Event = Tracepoint, sys, ev
	return p, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// IsGlob reports whether the probe names a pattern of events rather than one.
func (p Probe) IsGlob() bool {
	return p.Kind == Tracepoint && strings.ContainsAny(p.System+p.Event, "*?[")
}

// Canonical is the name a catalog knows the probe by:
// "sched:sched_switch", "profile:hz:99", "software:page-faults:1",
// "uprobe:/bin/bash:readline".
func (p Probe) Canonical() string {
	switch p.Kind {
	case Tracepoint:
		return p.System + ":" + p.Event
	case Profile:
		return "profile:hz:" + strconv.Itoa(p.Hz)
	case Software, Hardware:
		if p.Period != 0 {
			return p.Kind.String() + ":" + p.Event + ":" + strconv.FormatUint(p.Period, 10)
		}
		return p.Kind.String() + ":" + p.Event
	case Uprobe, Uretprobe:
		return p.Kind.String() + ":" + p.Path + ":" + p.Symbol
	case ETW:
		if p.Event != "" {
			return "etw:" + p.System + ":" + p.Event
		}
		return "etw:" + p.System
	}
	return p.Spec
}

// Match reports whether a canonical catalog name matches the probe (its
// glob, for tracepoints).
func (p Probe) Match(name string) bool {
	if !p.IsGlob() {
		return name == p.Canonical()
	}
	ok, _ := path.Match(p.Canonical(), name)
	return ok
}
