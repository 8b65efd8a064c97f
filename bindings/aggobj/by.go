package aggobj

import (
	"fmt"
	"strings"

	"github.com/d5/tengo/v2"

	"otrace/runtime/aggregate"
	"otrace/runtime/event"
	"otrace/runtime/process"
)

// By is what a.by(keys, [value]) returns: an aggregation update that
// otrace.on runs in Go for every record, instead of a script function —
// bpftrace's @[args.id] = count(). No Tengo call is made per event, so it
// costs a field read and a map update (tens of ns) where a handler calling
// c.inc costs a few hundred, which is what lets a storm of events be
// counted without losing any.
type By struct {
	tengo.ObjectImpl
	obj   *Object
	keys  []string // event names of the key's parts: builtins or fields
	tuple bool     // keys was an array: a tuple key, even of one part
	value string   // what is added; "" counts
}

// NativeHandler is an object that otrace.on can attach in place of a
// script function.
type NativeHandler interface {
	tengo.Object
	// Handler compiles the update for the events it will see; an event
	// without a named field is an error naming the event and its fields.
	Handler(events []*event.Event, procs *process.Table) (event.Handler, error)
}

// byCall is a.by(keys, [value]).
func (o *Object) byCall(args ...tengo.Object) (tengo.Object, error) {
	usage := fmt.Sprintf("%s.by(keys, value): keys is a field name like \"pid\" or an array of them (a tuple; [] for no key), value the field added", o.kind)
	if o.agg.Kind() == aggregate.Count {
		usage = "count.by(keys): keys is a field name like \"pid\" or an array of them (a tuple; [] for no key)"
	}
	want := 2
	if o.agg.Kind() == aggregate.Count {
		want = 1
	}
	if len(args) != want {
		if o.agg.Kind() == aggregate.Count && len(args) == 2 {
			return nil, fmt.Errorf("%s: a count counts events; add a field's values with otrace.sum", usage)
		}
		return nil, fmt.Errorf("%s: want %d argument(s), got %d", usage, want, len(args))
	}
	b := &By{obj: o}
	switch k := args[0].(type) {
	case *tengo.String:
		b.keys = []string{k.Value}
	case *tengo.Array, *tengo.ImmutableArray:
		b.tuple = true
		var elems []tengo.Object
		if a, ok := k.(*tengo.Array); ok {
			elems = a.Value
		} else {
			elems = k.(*tengo.ImmutableArray).Value
		}
		for i, e := range elems {
			s, ok := e.(*tengo.String)
			if !ok {
				return nil, fmt.Errorf("%s: key part %d is %s, not a field name", usage, i+1, e.TypeName())
			}
			b.keys = append(b.keys, s.Value)
		}
		if len(b.keys) <= 1 {
			// [] is the unkeyed value; [x] keys like x (a one-part tuple
			// reads worse).
			b.tuple = false
		}
	default:
		return nil, fmt.Errorf("%s: keys is %s", usage, args[0].TypeName())
	}
	if want == 2 {
		s, ok := args[1].(*tengo.String)
		if !ok {
			return nil, fmt.Errorf("%s: value is %s, not a field name", usage, args[1].TypeName())
		}
		b.value = s.Value
	}
	return b, nil
}

// TypeName implements tengo.Object.
func (b *By) TypeName() string { return "aggregation-update" }

// String shows what the update does: "<count by [id]>".
func (b *By) String() string {
	s := "<" + b.obj.kind + " by [" + strings.Join(b.keys, ", ") + "]"
	if b.value != "" {
		s += " of " + b.value
	}
	return s + ">"
}

// Copy returns the object itself: it is a handle on Go state.
func (b *By) Copy() tengo.Object { return b }

// Equals is identity.
func (b *By) Equals(x tengo.Object) bool { return b == x }

// part reads one key part (or the value) of a record.
type part struct {
	kind  uint8
	field *event.Field
}

const (
	partPID uint8 = iota
	partTID
	partCPU
	partTime
	partComm
	partName
	partInt    // an integer payload field
	partString // a string payload field
)

var builtinParts = map[string]uint8{"pid": partPID, "tid": partTID, "cpu": partCPU, "time": partTime, "comm": partComm, "name": partName}

func compilePart(ev *event.Event, name string, numeric bool) (part, error) {
	if k, ok := builtinParts[name]; ok {
		if numeric && (k == partComm || k == partName) {
			return part{}, fmt.Errorf("%s is a string; the value added must be a number", name)
		}
		return part{kind: k}, nil
	}
	f := ev.Format.Field(name)
	if f == nil {
		fields := append([]string{"pid", "tid", "cpu", "time", "comm", "name"}, ev.Format.FieldNames()...)
		return part{}, fmt.Errorf("%s has no field %q (it has %s)", ev.Name, name, strings.Join(fields, ", "))
	}
	switch {
	case f.Kind == event.Scalar || f.Kind == event.Pointer:
		return part{kind: partInt, field: f}, nil
	case f.String && !numeric:
		return part{kind: partString, field: f}, nil
	}
	if numeric {
		return part{}, fmt.Errorf("%s's field %s is not a number", ev.Name, name)
	}
	return part{}, fmt.Errorf("%s's field %s is neither a number nor a string", ev.Name, name)
}

// compiled is the update for one event.
type compiled struct {
	parts []part
	value part
}

// byHandler runs the update for each record.
type byHandler struct {
	by      *By
	procs   *process.Table
	byEvent map[*event.Event]*compiled
	per     []*compiled // by event ID, filled at first sight: IDs are given when attached
	tuple   []aggregate.Key
}

// Handler implements NativeHandler.
func (b *By) Handler(events []*event.Event, procs *process.Table) (event.Handler, error) {
	h := &byHandler{by: b, procs: procs, byEvent: map[*event.Event]*compiled{}, tuple: make([]aggregate.Key, len(b.keys))}
	for _, ev := range events {
		c := &compiled{}
		for _, k := range b.keys {
			p, err := compilePart(ev, k, false)
			if err != nil {
				return nil, fmt.Errorf("%s.by: %v", b.obj.kind, err)
			}
			c.parts = append(c.parts, p)
		}
		if b.value != "" {
			p, err := compilePart(ev, b.value, true)
			if err != nil {
				return nil, fmt.Errorf("%s.by: %v", b.obj.kind, err)
			}
			c.value = p
		}
		h.byEvent[ev] = c
	}
	return h, nil
}

// HandleEvent updates the aggregation with one record.
func (h *byHandler) HandleEvent(rec *event.Record) error {
	id := rec.Event.ID
	if id >= len(h.per) || h.per[id] == nil {
		c := h.byEvent[rec.Event]
		if c == nil {
			return fmt.Errorf("%s: not an event this update was attached to", rec.Event.Name)
		}
		for len(h.per) <= id {
			h.per = append(h.per, nil)
		}
		h.per[id] = c
	}
	c := h.per[id]
	var k aggregate.Key
	switch {
	case h.by.tuple:
		for i := range c.parts {
			if err := h.read(rec, &c.parts[i], &h.tuple[i]); err != nil {
				return err
			}
		}
		k = aggregate.Tuple(h.tuple...)
	case len(c.parts) == 1:
		if err := h.read(rec, &c.parts[0], &k); err != nil {
			return err
		}
	}
	v := int64(1)
	if h.by.value != "" {
		var vk aggregate.Key
		if err := h.read(rec, &c.value, &vk); err != nil {
			return err
		}
		v = vk.Int
	}
	h.by.obj.agg.Add(&k, v)
	return nil
}

func (h *byHandler) read(rec *event.Record, p *part, k *aggregate.Key) error {
	switch p.kind {
	case partPID:
		*k = aggregate.Int(int64(rec.PID))
	case partTID:
		*k = aggregate.Int(int64(rec.TID))
	case partCPU:
		*k = aggregate.Int(int64(rec.CPU))
	case partTime:
		*k = aggregate.Int(int64(rec.Time))
	case partComm:
		*k = aggregate.Str(h.procs.Comm(rec.PID, rec.TID))
	case partName:
		*k = aggregate.Str(rec.Event.Name)
	case partInt:
		n, ok := p.field.Int(rec.Raw)
		if !ok {
			return outside(rec, p.field)
		}
		*k = aggregate.Int(n)
	case partString:
		b, ok := p.field.Str(rec.Raw)
		if !ok {
			return outside(rec, p.field)
		}
		*k = aggregate.Str(string(b))
	}
	return nil
}

func outside(rec *event.Record, f *event.Field) error {
	return fmt.Errorf("%s: field %s lies outside the %d-byte payload", rec.Event.Name, f.Name, len(rec.Raw))
}
