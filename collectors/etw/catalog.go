package etw

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"otrace/runtime/event"
	"otrace/runtime/probe"
	"otrace/runtime/session"
)

// Probe names this collector knows:
//
//	etw:kernel:NAME                 a kernel event: profile, cswitch,
//	                                readythread, process_start, ... (KernelNames)
//	profile:hz:N                    etw:kernel:profile at N samples a second
//	etw:PROVIDER                    every event of a provider, by name or {GUID}:
//	                                fields id, event (its name) and data (the payload)
//	etw:PROVIDER:EVENT              one event, by decimal id or name, decoded
//	                                into fields through TDH or TraceLogging metadata
//	...:level=N:keywords=0xMASK     options after the event (or the provider):
//	                                the provider is enabled with the highest
//	                                level and every keyword asked for, and each
//	                                probe sees only the events its own options pass
//
// Every event's payload starts with the event's descriptor as hidden
// common_* fields: e.field("common_opcode"), e.field("common_keyword").

// Spec is what an event of this collector is in ETW terms; it is the
// event.Event's Config.
type Spec struct {
	kernel *kernelEvent
	// Hz is the sampling rate of profile:hz:N; 0 for the default.
	Hz int

	Provider     GUID
	ProviderName string
	// Selector is "" for every event of the provider, else a decimal
	// event id or an event name.
	Selector string
	id       int // Selector as an id, or -1
	Level    uint8
	Keywords uint64 // 0 means every keyword

	// lazy is set when the event's fields are known only from its first
	// record (TraceLogging events, providers without a manifest).
	lazy bool
}

// Kernel reports whether the event comes from the kernel session.
func (s *Spec) Kernel() bool { return s.kernel != nil }

// DefaultLevel enables every level a provider writes.
const DefaultLevel = 255

// KernelNames lists the kernel events, as probe names.
func KernelNames() []string {
	out := make([]string, len(kernelEvents))
	for i, k := range kernelEvents {
		out[i] = "etw:kernel:" + k.name
	}
	return out
}

// KernelHelp is a one-line description of a kernel event probe name.
func KernelHelp(name string) string {
	if k := kernelEventNamed(strings.TrimPrefix(name, "etw:kernel:")); k != nil {
		return k.help
	}
	return ""
}

// KernelFormat is the format of a kernel event probe
// ("etw:kernel:cswitch"), for listing its fields.
func KernelFormat(name string) (*event.Format, error) {
	k := kernelEventNamed(strings.TrimPrefix(name, "etw:kernel:"))
	if k == nil {
		return nil, fmt.Errorf("%w %q", session.ErrUnknownEvent, name)
	}
	l, err := compile(formatSchema(k), "etw:kernel", k.name)
	if err != nil {
		return nil, err
	}
	return l.format, nil
}

type catalog struct {
	sys    platform
	notice func(string)
	events map[string]*event.Event
	// kernelFormats are the formats of kernel events, one per event.
	kernelFormats map[*kernelEvent]*event.Format

	provOnce  bool
	providers []ProviderInfo
	provErr   error
}

func newCatalog(sys platform, notice func(string)) *catalog {
	return &catalog{sys: sys, notice: notice, events: map[string]*event.Event{}, kernelFormats: map[*kernelEvent]*event.Format{}}
}

// Names lists the kernel events and every registered provider.
func (c *catalog) Names() []string {
	names := KernelNames()
	if provs, err := c.registered(); err == nil {
		for _, p := range provs {
			if p.Name != "" {
				names = append(names, "etw:"+p.Name)
			}
		}
	}
	sort.Strings(names)
	return names
}

func (c *catalog) registered() ([]ProviderInfo, error) {
	if !c.provOnce {
		c.provOnce = true
		c.providers, c.provErr = c.sys.Providers()
	}
	return c.providers, c.provErr
}

// Lookup returns the event of a canonical probe name.
func (c *catalog) Lookup(name string) (*event.Event, error) {
	if ev, ok := c.events[name]; ok {
		return ev, nil
	}
	p, err := probe.Parse(name)
	if err != nil {
		return nil, err
	}
	var ev *event.Event
	switch p.Kind {
	case probe.Profile:
		ev, err = c.kernelEvent(name, kernelEventNamed("profile"), p.Hz)
	case probe.ETW:
		ev, err = c.etwEvent(name, p)
	default:
		return nil, fmt.Errorf("%w %q: on Windows otrace traces ETW events (etw:kernel:profile, etw:PROVIDER[:EVENT]) and profile:hz:N", session.ErrUnknownEvent, name)
	}
	if err != nil {
		return nil, err
	}
	ev.ID = -1
	c.events[name] = ev
	return ev, nil
}

func (c *catalog) kernelFormat(k *kernelEvent) (*event.Format, error) {
	if f, ok := c.kernelFormats[k]; ok {
		return f, nil
	}
	l, err := compile(formatSchema(k), "etw:kernel", k.name)
	if err != nil {
		return nil, err
	}
	c.kernelFormats[k] = l.format
	return l.format, nil
}

func (c *catalog) kernelEvent(name string, k *kernelEvent, hz int) (*event.Event, error) {
	f, err := c.kernelFormat(k)
	if err != nil {
		return nil, err
	}
	return &event.Event{Name: name, Format: f, Stack: k.stack, Config: &Spec{kernel: k, Hz: hz, id: -1}}, nil
}

func (c *catalog) etwEvent(name string, p probe.Probe) (*event.Event, error) {
	if p.System == "kernel" {
		k := kernelEventNamed(p.Event)
		if k == nil {
			return nil, fmt.Errorf("%w %q: the kernel events are %s", session.ErrUnknownEvent, name, strings.Join(KernelNames(), ", "))
		}
		return c.kernelEvent(name, k, 0)
	}
	spec := &Spec{Level: DefaultLevel, id: -1}
	var sel []string
	for _, part := range strings.Split(p.Event, ":") {
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			if part != "" {
				sel = append(sel, part)
			}
			continue
		}
		switch key {
		case "level":
			v, err := strconv.ParseUint(val, 0, 8)
			if err != nil {
				return nil, fmt.Errorf("probe %q: level must be 0 to 255 (1 critical ... 5 verbose)", name)
			}
			spec.Level = uint8(v)
		case "keywords", "keyword":
			v, err := strconv.ParseUint(val, 0, 64)
			if err != nil {
				return nil, fmt.Errorf("probe %q: keywords must be a 64-bit mask, e.g. keywords=0x10", name)
			}
			spec.Keywords = v
		default:
			return nil, fmt.Errorf("probe %q: unknown option %q; options are level=N and keywords=0xMASK", name, key)
		}
	}
	if len(sel) > 1 {
		return nil, fmt.Errorf("probe %q: want etw:PROVIDER[:EVENT][:level=N][:keywords=0xMASK]", name)
	}
	if len(sel) == 1 {
		spec.Selector = sel[0]
		if id, err := strconv.ParseUint(spec.Selector, 10, 16); err == nil {
			spec.id = int(id)
		}
	}
	if err := c.resolveProvider(p.System, spec); err != nil {
		return nil, fmt.Errorf("probe %q: %w", name, err)
	}
	system := "etw:" + spec.ProviderName
	if spec.Selector == "" {
		f, err := genericFormat(system, spec.ProviderName)
		if err != nil {
			return nil, err
		}
		return &event.Event{Name: name, Format: f, Config: spec}, nil
	}
	f, err := c.manifestFormat(spec, system)
	if err != nil {
		return nil, fmt.Errorf("probe %q: %w", name, err)
	}
	if f == nil {
		// The fields come with the first record (TraceLogging, or a
		// provider TDH describes only per event).
		spec.lazy = true
		f = &event.Format{System: system, Name: spec.Selector}
	}
	return &event.Event{Name: name, Format: f, Config: spec}, nil
}

// resolveProvider fills spec's provider from a name or {GUID}.
func (c *catalog) resolveProvider(prov string, spec *Spec) error {
	if strings.HasPrefix(prov, "{") {
		g, err := ParseGUID(prov)
		if err != nil {
			return err
		}
		spec.Provider, spec.ProviderName = g, g.String()
		if provs, err := c.registered(); err == nil {
			for _, p := range provs {
				if p.GUID == g && p.Name != "" {
					spec.ProviderName = p.Name
				}
			}
		}
		return nil
	}
	provs, err := c.registered()
	if err == nil {
		for _, p := range provs {
			if strings.EqualFold(p.Name, prov) {
				spec.Provider, spec.ProviderName = p.GUID, p.Name
				return nil
			}
		}
	}
	// Not registered: an EventSource or TraceLogging provider, whose GUID
	// is a hash of its name.
	spec.Provider, spec.ProviderName = ProviderGUIDFromName(prov), prov
	if c.notice != nil && !errors.Is(err, ErrNeedsWindows) {
		c.notice(fmt.Sprintf("otrace: ETW provider %q is not registered; enabling %v, the GUID an EventSource or TraceLogging provider of that name uses", prov, spec.Provider))
	}
	return nil
}

// manifestFormat is the format of a provider's event as its manifest
// describes it, or nil when TDH knows no manifest event of that id or
// name.
func (c *catalog) manifestFormat(spec *Spec, system string) (*event.Format, error) {
	schemas, err := c.sys.ManifestSchemas(spec.Provider)
	if err != nil || len(schemas) == 0 {
		return nil, nil // no manifest: the first record says
	}
	var match *Schema
	for _, s := range schemas {
		if spec.matchesSchema(s) && (match == nil || s.Descriptor.Version > match.Descriptor.Version) {
			match = s
		}
	}
	if match == nil {
		var names []string
		for _, s := range schemas {
			names = append(names, s.Name())
		}
		sort.Strings(names)
		return nil, fmt.Errorf("%w: provider %s has no event %q; its events: %s", session.ErrUnknownEvent, spec.ProviderName, spec.Selector, strings.Join(dedupe(names), ", "))
	}
	l, err := compile(match, system, spec.Selector)
	if err != nil {
		return nil, err
	}
	return l.format, nil
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// matchesSchema reports whether the spec's selector names s.
func (s *Spec) matchesSchema(sc *Schema) bool {
	if s.Selector == "" {
		return true
	}
	if s.id >= 0 && sc.Source != SourceTraceLogging {
		return int(sc.Descriptor.ID) == s.id
	}
	return strings.EqualFold(sc.Name(), s.Selector) || (sc.TaskName != "" && strings.EqualFold(sc.TaskName, s.Selector))
}

// passes applies the spec's level and keywords to a record the way a
// provider decides whether an event is enabled.
func (s *Spec) passes(d *Descriptor) bool {
	if s.Level != 0 && d.Level > s.Level {
		return false
	}
	return s.Keywords == 0 || d.Keyword == 0 || d.Keyword&s.Keywords != 0
}

// genericFormat is the format of etw:PROVIDER: the descriptor, the
// event's id and name, and its undecoded payload.
func genericFormat(system, name string) (*event.Format, error) {
	s := &Schema{Props: []Prop{scalar("id", InUint16), scalar("event", InAnsiString), scalar("data", InManifestCountedBinary)}}
	numberSlots(s.Props, &s.Slots)
	l, err := compile(s, system, name)
	if err != nil {
		return nil, err
	}
	return l.format, nil
}
