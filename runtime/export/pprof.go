package export

import (
	"encoding/hex"
	"io"
	"slices"
	"strings"

	"github.com/google/pprof/profile"

	"otrace/runtime/intern"
	"otrace/runtime/symbols"
)

// kernelModule is how the symbolizer names the kernel image.
const kernelModule = "[kernel.kallsyms]"

// Pprof writes a *Profile as a gzipped profile.proto, for go tool pprof,
// speedscope and Perfetto.
type Pprof struct{}

// Name is "pprof".
func (Pprof) Name() string { return "pprof" }

// Extensions are ".pb.gz" and ".pprof".
func (Pprof) Extensions() []string { return []string{".pb.gz", ".pprof"} }

// Accepts takes a *Profile.
func (Pprof) Accepts(data any) bool { _, ok := data.(*Profile); return ok }

// Write names the profile's stacks, checks the result with pprof's own
// CheckValid and writes it gzipped.
func (w Pprof) Write(out io.Writer, data any) error {
	p, err := asProfile(w, data)
	if err != nil {
		return err
	}
	pp := newPprofBuilder(p).build()
	if err := pp.CheckValid(); err != nil {
		return &FormatError{Format: w.Name(), Err: err}
	}
	return pp.Write(out)
}

// pprofBuilder turns a Profile into pprof's model, interning as pprof
// wants: a Location per (mapping, address), a Function per (name, file), a
// Mapping per module.
type pprofBuilder struct {
	p      *Profile
	out    *profile.Profile
	maps   map[mapKey]*pprofMapping
	locs   map[locKey]*profile.Location
	funcs  map[funcKey]*profile.Function
	stacks map[intern.StackID]pprofStack
	arena  []*profile.Location // backs samples with both a kernel and a user part
}

type mapKey struct {
	module string
	kernel bool
}

// pprofMapping is a Mapping with what ordering and its bounds need.
type pprofMapping struct {
	m      *profile.Mapping
	kernel bool
	order  int   // first seen
	weight int64 // first values of the samples whose user stack passes through it
	lo, hi uint64
}

// locKey has the innermost function besides the address: without a
// build-id two images of one path could put different code at one
// address.
type locKey struct {
	m    *pprofMapping
	addr uint64
	fn   string
}

type funcKey struct{ name, file string }

// pprofStack is one interned stack as locations, leaf first, and the
// user mappings it passes through.
type pprofStack struct {
	locs []*profile.Location
	maps []*pprofMapping
}

func newPprofBuilder(p *Profile) *pprofBuilder {
	return &pprofBuilder{
		p:      p,
		out:    &profile.Profile{},
		maps:   map[mapKey]*pprofMapping{},
		locs:   map[locKey]*profile.Location{},
		funcs:  map[funcKey]*profile.Function{},
		stacks: map[intern.StackID]pprofStack{},
	}
}

func (b *pprofBuilder) build() *profile.Profile {
	p, out := b.p, b.out
	for _, t := range p.types {
		out.SampleType = append(out.SampleType, &profile.ValueType{Type: t.Type, Unit: t.Unit})
	}
	out.DefaultSampleType = p.defaultType
	if p.periodType.Type != "" {
		out.PeriodType = &profile.ValueType{Type: p.periodType.Type, Unit: p.periodType.Unit}
		out.Period = p.period
	}
	if !p.start.IsZero() {
		out.TimeNanos = p.start.UnixNano()
	}
	out.DurationNanos = p.duration.Nanoseconds()
	out.Comments = p.commentLines()

	labels := map[uint32]*profile.Sample{} // a label set's maps, shared by its samples
	samples := make([]profile.Sample, len(p.keys))
	out.Sample = make([]*profile.Sample, len(p.keys))
	for i := range p.keys {
		key, vals := p.row(i)
		k, u := b.stack(key.kernel, true), b.stack(key.user, false)
		s := &samples[i]
		s.Value = vals
		s.Location = b.concat(k.locs, u.locs)
		for _, m := range u.maps {
			m.weight += vals[0]
		}
		l, ok := labels[key.labels]
		if !ok {
			l = pprofLabels(p.labels.get(key.labels))
			labels[key.labels] = l
		}
		s.Label, s.NumLabel, s.NumUnit = l.Label, l.NumLabel, l.NumUnit
		out.Sample[i] = s
	}
	b.orderMappings()
	return out
}

func pprofLabels(ls []Label) *profile.Sample {
	var s profile.Sample
	for _, l := range ls {
		if !l.Numeric {
			if s.Label == nil {
				s.Label = map[string][]string{}
			}
			s.Label[l.Key] = []string{l.Str}
			continue
		}
		if s.NumLabel == nil {
			s.NumLabel = map[string][]int64{}
		}
		s.NumLabel[l.Key] = []int64{l.Num}
		if l.Unit != "" {
			if s.NumUnit == nil {
				s.NumUnit = map[string][]string{}
			}
			s.NumUnit[l.Key] = []string{l.Unit}
		}
	}
	return &s
}

// stack returns the locations of an interned stack, naming it the first
// time.
func (b *pprofBuilder) stack(id intern.StackID, kernel bool) pprofStack {
	if id == 0 {
		return pprofStack{}
	}
	if s, ok := b.stacks[id]; ok {
		return s
	}
	fs := b.p.table.Frames(id)
	s := pprofStack{locs: make([]*profile.Location, 0, len(fs))}
	for len(fs) > 0 {
		// The frames of one address: inlined ones first, each marked.
		n := 1
		for n < len(fs) && fs[n-1].Inlined && fs[n].Addr == fs[0].Addr {
			n++
		}
		loc, m := b.location(fs[:n], kernel)
		if m != nil && !kernel && m.m.BuildID == "" {
			// The build-id MMAP2 reported for the file, so pprof can find
			// the same binary elsewhere.
			if pm, ok := b.p.table.Mapping(id, fs[0].Addr); ok && len(pm.BuildID) > 0 {
				m.m.BuildID = hex.EncodeToString(pm.BuildID)
			}
		}
		s.locs = append(s.locs, loc)
		if m != nil && !m.kernel && !slices.Contains(s.maps, m) {
			s.maps = append(s.maps, m)
		}
		fs = fs[n:]
	}
	b.stacks[id] = s
	return s
}

// location returns the Location of one address, whose frames (innermost
// first) become its Lines, as pprof orders inlined calls.
func (b *pprofBuilder) location(frames []symbols.Frame, kernel bool) (*profile.Location, *pprofMapping) {
	m := b.mapping(frames[0].Module, kernel)
	key := locKey{m: m, addr: frames[0].Addr, fn: frames[0].Func}
	if l, ok := b.locs[key]; ok {
		return l, m
	}
	l := &profile.Location{ID: uint64(len(b.out.Location) + 1), Address: key.addr}
	for _, f := range frames {
		if f.Func != "" {
			l.Line = append(l.Line, profile.Line{Function: b.function(f), Line: int64(f.Line)})
		}
	}
	if m != nil {
		l.Mapping = m.m
		m.cover(l)
	}
	b.out.Location = append(b.out.Location, l)
	b.locs[key] = l
	return l, m
}

func (b *pprofBuilder) function(f symbols.Frame) *profile.Function {
	key := funcKey{name: f.Func, file: f.File}
	if fn, ok := b.funcs[key]; ok {
		return fn
	}
	fn := &profile.Function{ID: uint64(len(b.out.Function) + 1), Name: f.Func, SystemName: f.Func, Filename: f.File}
	b.out.Function = append(b.out.Function, fn)
	b.funcs[key] = fn
	return fn
}

// mapping returns the mapping of a module; addresses of no known module
// have none.
func (b *pprofBuilder) mapping(module string, kernel bool) *pprofMapping {
	if module == "" || module == "[unknown]" {
		return nil
	}
	key := mapKey{module: module, kernel: kernel}
	if m, ok := b.maps[key]; ok {
		return m
	}
	m := &pprofMapping{m: &profile.Mapping{File: module}, kernel: kernel, order: len(b.maps), lo: ^uint64(0)}
	b.maps[key] = m
	return m
}

// cover widens the mapping to hold l's address and records what the
// symbolizer found for it. The Has* flags mean what pprof's own
// symbolizer means by them: the mapping was symbolized to that level
// (for some of its addresses), so pprof must not redo it.
func (m *pprofMapping) cover(l *profile.Location) {
	m.lo, m.hi = min(m.lo, l.Address), max(m.hi, l.Address)
	pm := m.m
	for _, ln := range l.Line {
		pm.HasFunctions = true
		pm.HasFilenames = pm.HasFilenames || ln.Function.Filename != ""
		pm.HasLineNumbers = pm.HasLineNumbers || ln.Line > 0
	}
	pm.HasInlineFrames = pm.HasInlineFrames || len(l.Line) > 1
}

// orderMappings numbers the mappings. pprof takes Mapping[0] for the main
// binary, so it is the executable that the most samples pass through;
// then shared libraries, then pseudo-files ([vdso], [jit]); the kernel
// goes last, its modules before [kernel.kallsyms] itself.
func (b *pprofBuilder) orderMappings() {
	ms := make([]*pprofMapping, 0, len(b.maps))
	for _, m := range b.maps {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(x, y *pprofMapping) int {
		if c := mappingGroup(x) - mappingGroup(y); c != 0 {
			return c
		}
		if x.weight != y.weight {
			if x.weight > y.weight {
				return -1
			}
			return 1
		}
		return x.order - y.order
	})
	for i, m := range ms {
		m.m.ID = uint64(i + 1)
		m.m.Start, m.m.Limit = m.lo, m.hi+1
		b.out.Mapping = append(b.out.Mapping, m.m)
	}
}

func mappingGroup(m *pprofMapping) int {
	file := m.m.File
	switch {
	case m.kernel && file == kernelModule:
		return 4
	case m.kernel:
		return 3
	case strings.HasPrefix(file, "["):
		return 2
	case isSharedLibrary(file):
		return 1
	}
	return 0
}

// isSharedLibrary tells libc.so.6 and libfoo.so from an executable.
func isSharedLibrary(path string) bool {
	base := baseName(path)
	return strings.HasSuffix(base, ".so") || strings.Contains(base, ".so.") || strings.HasSuffix(strings.ToLower(base), ".dll")
}

// concat joins a sample's kernel and user locations, leaf first, without
// an allocation per sample.
func (b *pprofBuilder) concat(k, u []*profile.Location) []*profile.Location {
	if len(k) == 0 {
		return u
	}
	if len(u) == 0 {
		return k
	}
	n := len(k) + len(u)
	if cap(b.arena)-len(b.arena) < n {
		b.arena = make([]*profile.Location, 0, max(n, 1<<14))
	}
	start := len(b.arena)
	b.arena = append(b.arena, k...)
	b.arena = append(b.arena, u...)
	return b.arena[start:len(b.arena):len(b.arena)]
}
