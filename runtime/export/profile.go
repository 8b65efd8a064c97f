package export

import (
	"fmt"
	"strings"
	"time"

	"otrace/runtime/intern"
	"otrace/runtime/stacks"
)

// SampleType names one value column of a profile: what is counted and in
// which unit, as pprof's ValueType does.
type SampleType struct {
	Type string // "samples", "cpu", "off_cpu", "bytes", …
	Unit string // "count", "nanoseconds", "bytes", …
}

// String is the "type/unit" form ParseSampleType reads.
func (t SampleType) String() string { return t.Type + "/" + t.Unit }

// ParseSampleType reads "type/unit", as in "cpu/nanoseconds"; a bare
// "type" counts, as "type/count".
func ParseSampleType(s string) (SampleType, error) {
	typ, unit, ok := strings.Cut(s, "/")
	if !ok {
		unit = "count"
	}
	if typ == "" || unit == "" || strings.ContainsAny(typ+unit, "/ \t\n") {
		return SampleType{}, fmt.Errorf("export: sample type %q: want type/unit, as in cpu/nanoseconds", s)
	}
	return SampleType{Type: typ, Unit: unit}, nil
}

// ParseSampleTypes parses each of specs with ParseSampleType.
func ParseSampleTypes(specs ...string) ([]SampleType, error) {
	out := make([]SampleType, len(specs))
	for i, s := range specs {
		t, err := ParseSampleType(s)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// StackRef is one interned stack of a run, the kernel part or the user
// part of a sample's callchain. ID 0 is the empty stack.
type StackRef struct {
	Table *stacks.Table
	ID    intern.StackID
}

// Profile is an export machine for samples: it sums the values of samples
// with the same stacks and labels, and keeps stacks as interned ids, so
// that they are named only when a Writer writes the profile. It is not
// safe for concurrent use, and since naming frames reads the stacks table,
// it is written on the goroutine that owns that table (or after
// collection stopped).
type Profile struct {
	types  []SampleType
	table  *stacks.Table
	labels labelSets

	index map[sampleKey]uint32 // row of each distinct (stacks, labels)
	keys  []sampleKey          // by row
	vals  []int64              // by row, len(types) each

	period      int64
	periodType  SampleType
	start       time.Time
	duration    time.Duration
	defaultType string
	runInfo
}

// sampleKey is what makes two samples the same: small and comparable, so
// that adding a sample seen before is one map lookup.
type sampleKey struct {
	kernel, user intern.StackID
	labels       uint32 // a labelSets id
}

// NewProfile returns an empty profile whose samples carry one value per
// type, in this order.
func NewProfile(types []SampleType) (*Profile, error) {
	if len(types) == 0 {
		return nil, fmt.Errorf("export: a profile needs at least one sample type, as in samples/count")
	}
	for i, t := range types {
		if t.Type == "" || t.Unit == "" {
			return nil, fmt.Errorf("export: sample type %d (%q) needs both a type and a unit", i, t.String())
		}
		for _, u := range types[:i] {
			if u.Type == t.Type {
				return nil, fmt.Errorf("export: sample type %q given twice", t.Type)
			}
		}
	}
	return &Profile{
		types:  append([]SampleType(nil), types...),
		labels: newLabelSets(),
		index:  map[sampleKey]uint32{},
	}, nil
}

// Types returns the profile's sample types.
func (p *Profile) Types() []SampleType { return append([]SampleType(nil), p.types...) }

// Len is the number of distinct samples: different stacks or labels.
func (p *Profile) Len() int { return len(p.keys) }

// Add adds values (one per sample type) to the sample with these stacks
// and labels. refs holds at most one kernel and one user stack, all from
// the same table; empty stacks (ID 0) are ignored. A sample seen before
// costs a map lookup and does not allocate.
func (p *Profile) Add(refs []StackRef, values []int64, labels Labels) error {
	if len(values) != len(p.types) {
		return fmt.Errorf("export: a sample has %d values, the profile has %d types (%s)", len(values), len(p.types), p.typeList())
	}
	var key sampleKey
	for _, s := range refs {
		if s.ID == 0 {
			continue
		}
		if s.Table == nil {
			return fmt.Errorf("export: stack %d has no table", s.ID)
		}
		if p.table == nil {
			p.table = s.Table
		} else if s.Table != p.table {
			return fmt.Errorf("export: stacks of one profile must come from one run's stack table")
		}
		slot, kind := &key.user, "user"
		if s.Table.IsKernel(s.ID) {
			slot, kind = &key.kernel, "kernel"
		}
		if *slot != 0 && *slot != s.ID {
			return fmt.Errorf("export: a sample takes one kernel and one user stack; got two %s stacks", kind)
		}
		*slot = s.ID
	}
	set, err := p.labels.intern(labels)
	if err != nil {
		return err
	}
	key.labels = set
	row, ok := p.index[key]
	if !ok {
		row = uint32(len(p.keys))
		p.index[key] = row
		p.keys = append(p.keys, key)
		p.vals = append(p.vals, make([]int64, len(p.types))...)
	}
	n := len(p.types)
	sum := p.vals[int(row)*n : int(row)*n+n]
	for i, v := range values {
		sum[i] += v
	}
	return nil
}

// SetPeriod says how much of type t one event stands for, as pprof's
// period: 1e9/HZ nanoseconds of cpu for a sampling clock at HZ.
func (p *Profile) SetPeriod(t SampleType, period int64) {
	p.periodType, p.period = t, period
}

// SetStart sets when collection started.
func (p *Profile) SetStart(t time.Time) { p.start = t }

// SetDuration sets how long collection ran.
func (p *Profile) SetDuration(d time.Duration) { p.duration = d }

// SetDefaultType chooses the sample type that viewers show first and that
// the folded and text writers use when not told otherwise; without it
// they use the first type, and pprof the last.
func (p *Profile) SetDefaultType(typ string) error {
	if _, err := p.valueIndex(typ); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	p.defaultType = typ
	return nil
}

// valueIndex returns the column of sample type typ; "" means the default
// type, or the first. Its error is for a caller to prefix.
func (p *Profile) valueIndex(typ string) (int, error) {
	if typ == "" {
		typ = p.defaultType
	}
	if typ == "" {
		return 0, nil
	}
	for i, t := range p.types {
		if t.Type == typ {
			return i, nil
		}
	}
	return 0, fmt.Errorf("the profile has no sample type %q; it has %s", typ, p.typeList())
}

func (p *Profile) typeList() string {
	s := make([]string, len(p.types))
	for i, t := range p.types {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}

// row returns the key and summed values of row i.
func (p *Profile) row(i int) (sampleKey, []int64) {
	n := len(p.types)
	return p.keys[i], p.vals[i*n : i*n+n : i*n+n]
}

// runInfo is what every export says about the run that made it.
type runInfo struct {
	version    string
	seen, lost uint64
	hasEvents  bool
	comments   []string
}

// SetVersion records the otrace version that collected the data.
func (r *runInfo) SetVersion(v string) { r.version = v }

// SetEvents records how many events the run saw and lost, so that an
// export says when it is incomplete.
func (r *runInfo) SetEvents(seen, lost uint64) { r.seen, r.lost, r.hasEvents = seen, lost, true }

// AddComment adds a free-form line to the export's comments.
func (r *runInfo) AddComment(c string) { r.comments = append(r.comments, c) }

// commentLines is the run info as lines, version first.
func (r *runInfo) commentLines() []string {
	var out []string
	if r.version != "" {
		out = append(out, "otrace "+r.version)
	}
	if r.hasEvents {
		out = append(out, fmt.Sprintf("events: %d seen, %d lost", r.seen, r.lost))
	}
	return append(out, r.comments...)
}
