package otracemod

import (
	"fmt"
	"strings"

	"github.com/d5/tengo/v2"

	"otrace/bindings/eventobj"
	"otrace/runtime/export"
)

// profileObject is what otrace.profile returns: p.add(stack, values,
// [labels]) sums values by stack and labels; otrace.save writes it.
type profileObject struct {
	tengo.ObjectImpl
	p      *export.Profile
	refs   [2]export.StackRef
	values []int64
	labels export.Labels
	add    *tengo.UserFunction
}

// profile is otrace.profile({types: ["samples/count", "cpu/nanoseconds"],
// default: "cpu", period: {cpu: 10101010}}).
func (m *Module) profile(args ...tengo.Object) (tengo.Object, error) {
	if len(args) > 1 {
		return nil, fmt.Errorf("otrace.profile([opts]): want at most 1 argument, got %d", len(args))
	}
	types := []string{"samples/count"}
	var opts map[string]tengo.Object
	if len(args) == 1 {
		var ok bool
		if opts, ok = mapOf(args[0]); !ok {
			return nil, fmt.Errorf("otrace.profile: options must be a map like {types: [\"samples/count\", \"cpu/nanoseconds\"]}, not %s", args[0].TypeName())
		}
		if t, ok := opts["types"]; ok {
			list, err := stringArray(t)
			if err != nil {
				return nil, fmt.Errorf("otrace.profile: types: %v", err)
			}
			types = list
		}
	}
	sts, err := export.ParseSampleTypes(types...)
	if err != nil {
		return nil, fmt.Errorf("otrace.profile: %v", err)
	}
	p, err := export.NewProfile(sts)
	if err != nil {
		return nil, fmt.Errorf("otrace.profile: %v", err)
	}
	for k, v := range opts {
		switch k {
		case "types":
		case "default":
			s, ok := v.(*tengo.String)
			if !ok {
				return nil, fmt.Errorf("otrace.profile: default must be a sample type name, not %s", v.TypeName())
			}
			if err := p.SetDefaultType(s.Value); err != nil {
				return nil, fmt.Errorf("otrace.profile: %v", err)
			}
		case "period":
			pm, ok := mapOf(v)
			if !ok {
				return nil, fmt.Errorf("otrace.profile: period must be a map of type to period, like {cpu: 10101010}")
			}
			for typ, pv := range pm {
				n, ok := pv.(*tengo.Int)
				st, err := export.ParseSampleType(typ)
				if !ok || err != nil {
					return nil, fmt.Errorf("otrace.profile: period of %s must be an int", typ)
				}
				for _, t := range sts {
					if t.Type == st.Type {
						p.SetPeriod(t, n.Value)
					}
				}
			}
		default:
			return nil, fmt.Errorf("otrace.profile: unknown option %q; known: types, default, period", k)
		}
	}
	o := &profileObject{p: p, values: make([]int64, len(sts))}
	o.add = &tengo.UserFunction{Name: "add", Value: o.addCall}
	return o, nil
}

func (o *profileObject) TypeName() string   { return "profile" }
func (o *profileObject) String() string     { return fmt.Sprintf("<profile: %d samples>", o.p.Len()) }
func (o *profileObject) Copy() tengo.Object { return o }

func (o *profileObject) IndexGet(index tengo.Object) (tengo.Object, error) {
	if k, ok := index.(*tengo.String); ok {
		switch k.Value {
		case "add":
			return o.add, nil
		case "len":
			return &tengo.Int{Value: int64(o.p.Len())}, nil
		}
	}
	return nil, fmt.Errorf("a profile has add and len, not %s", index)
}

// addCall is p.add(stack, values, [labels]): values is an int (one sample
// type) or an array of ints, one per type; labels a map of strings and
// ints.
func (o *profileObject) addCall(args ...tengo.Object) (tengo.Object, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, fmt.Errorf("profile.add(stack, values, [labels]): want 2 or 3 arguments, got %d", len(args))
	}
	st, ok := args[0].(*eventobj.Stack)
	if !ok {
		return nil, fmt.Errorf("profile.add: the stack must be e.stack, e.ustack or e.kstack, not %s", args[0].TypeName())
	}
	t, k, u := st.Refs()
	refs := o.refs[:0]
	if k != 0 {
		refs = append(refs, export.StackRef{Table: t, ID: k})
	}
	if u != 0 {
		refs = append(refs, export.StackRef{Table: t, ID: u})
	}
	switch v := args[1].(type) {
	case *tengo.Int:
		if len(o.values) != 1 {
			return nil, fmt.Errorf("profile.add: this profile has %d sample types: give an array of %d values", len(o.values), len(o.values))
		}
		o.values[0] = v.Value
	case *tengo.Array, *tengo.ImmutableArray:
		vals, _ := elems(v)
		if len(vals) != len(o.values) {
			return nil, fmt.Errorf("profile.add: %d values for %d sample types", len(vals), len(o.values))
		}
		for i, x := range vals {
			n, ok := x.(*tengo.Int)
			if !ok {
				return nil, fmt.Errorf("profile.add: value %d is %s, not an int", i+1, x.TypeName())
			}
			o.values[i] = n.Value
		}
	default:
		return nil, fmt.Errorf("profile.add: values must be an int or an array of ints, not %s", v.TypeName())
	}
	o.labels = o.labels[:0]
	if len(args) == 3 {
		lm, ok := mapOf(args[2])
		if !ok {
			return nil, fmt.Errorf("profile.add: labels must be a map like {comm: e.comm, pid: e.pid}, not %s", args[2].TypeName())
		}
		for key, v := range lm {
			switch x := v.(type) {
			case *tengo.String:
				o.labels = append(o.labels, export.StringLabel(key, x.Value))
			case *tengo.Int:
				o.labels = append(o.labels, export.NumLabel(key, x.Value, ""))
			default:
				return nil, fmt.Errorf("profile.add: label %s is %s; labels are strings or ints", key, v.TypeName())
			}
		}
	}
	if err := o.p.Add(refs, o.values, o.labels); err != nil {
		return nil, fmt.Errorf("profile.add: %v", err)
	}
	return tengo.UndefinedValue, nil
}

// timelineObject is what otrace.timeline returns.
type timelineObject struct {
	tengo.ObjectImpl
	t       *export.Timeline
	methods map[string]*tengo.UserFunction
}

func (m *Module) timeline(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("otrace.timeline() takes no arguments")
	}
	o := &timelineObject{t: export.NewTimeline()}
	o.methods = map[string]*tengo.UserFunction{
		"track":   {Name: "track", Value: o.track},
		"slice":   {Name: "slice", Value: o.slice},
		"instant": {Name: "instant", Value: o.instant},
		"counter": {Name: "counter", Value: o.counter},
	}
	return o, nil
}

func (o *timelineObject) TypeName() string   { return "timeline" }
func (o *timelineObject) String() string     { return fmt.Sprintf("<timeline: %d events>", o.t.Len()) }
func (o *timelineObject) Copy() tengo.Object { return o }

func (o *timelineObject) IndexGet(index tengo.Object) (tengo.Object, error) {
	if k, ok := index.(*tengo.String); ok {
		if f, ok := o.methods[k.Value]; ok {
			return f, nil
		}
	}
	return nil, fmt.Errorf("a timeline has track, slice, instant and counter, not %s", index)
}

// track is t.track(pid, tid, name): a row of the timeline.
func (o *timelineObject) track(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("timeline.track(pid, tid, name): want 3 arguments, got %d", len(args))
	}
	pid, ok1 := args[0].(*tengo.Int)
	tid, ok2 := args[1].(*tengo.Int)
	name, ok3 := args[2].(*tengo.String)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("timeline.track(pid, tid, name): want two ints and a string")
	}
	return &tengo.Int{Value: int64(o.t.Track(int32(pid.Value), int32(tid.Value), name.Value))}, nil
}

// slice is t.slice(track, name, start, end, [args]).
func (o *timelineObject) slice(args ...tengo.Object) (tengo.Object, error) {
	if len(args) < 4 || len(args) > 5 {
		return nil, fmt.Errorf("timeline.slice(track, name, start, end, [args]): want 4 or 5 arguments, got %d", len(args))
	}
	tr, name, start, err := trackNameTime("timeline.slice", args)
	if err != nil {
		return nil, err
	}
	end, ok := args[3].(*tengo.Int)
	if !ok {
		return nil, fmt.Errorf("timeline.slice: end must be an int (ns), not %s", args[3].TypeName())
	}
	return tengo.UndefinedValue, o.t.Slice(tr, name, start, uint64(end.Value), plainArgs(args, 4))
}

// instant is t.instant(track, name, time, [args]).
func (o *timelineObject) instant(args ...tengo.Object) (tengo.Object, error) {
	if len(args) < 3 || len(args) > 4 {
		return nil, fmt.Errorf("timeline.instant(track, name, time, [args]): want 3 or 4 arguments, got %d", len(args))
	}
	tr, name, at, err := trackNameTime("timeline.instant", args)
	if err != nil {
		return nil, err
	}
	return tengo.UndefinedValue, o.t.Instant(tr, name, at, plainArgs(args, 3))
}

// counter is t.counter(track, name, time, value).
func (o *timelineObject) counter(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("timeline.counter(track, name, time, value): want 4 arguments, got %d", len(args))
	}
	tr, name, at, err := trackNameTime("timeline.counter", args)
	if err != nil {
		return nil, err
	}
	v, ok := number(args[3])
	if !ok {
		return nil, fmt.Errorf("timeline.counter: value must be a number, not %s", args[3].TypeName())
	}
	return tengo.UndefinedValue, o.t.Counter(tr, name, at, v)
}

func trackNameTime(fn string, args []tengo.Object) (export.TrackID, string, uint64, error) {
	tr, ok1 := args[0].(*tengo.Int)
	name, ok2 := args[1].(*tengo.String)
	at, ok3 := args[2].(*tengo.Int)
	if !ok1 || !ok2 || !ok3 {
		return 0, "", 0, fmt.Errorf("%s: want a track (from t.track), a name and a time in ns", fn)
	}
	return export.TrackID(tr.Value), name.Value, uint64(at.Value), nil
}

// plainArgs converts an optional args map to Go values for JSON.
func plainArgs(args []tengo.Object, i int) map[string]any {
	if len(args) <= i {
		return nil
	}
	m, ok := mapOf(args[i])
	if !ok {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = tengo.ToInterface(v)
	}
	return out
}

// exportCall is otrace.save(what, [path], [opts]): writes a profile or
// a timeline, the format from the path's ending or opts.format; the path
// defaults to -o. The write is atomic; a failure is an error and what
// was collected stays in memory for other exports.
func (m *Module) exportCall(args ...tengo.Object) (tengo.Object, error) {
	if len(args) < 1 || len(args) > 3 {
		return nil, fmt.Errorf("otrace.save(profile or timeline, [path], [opts]): want 1 to 3 arguments, got %d", len(args))
	}
	var data any
	switch v := args[0].(type) {
	case *profileObject:
		st := m.cfg.Session.Stats()
		v.p.SetVersion("otrace")
		v.p.SetEvents(st.Events, st.Lost)
		v.p.SetDuration(st.Span)
		data = v.p
	case *timelineObject:
		st := m.cfg.Session.Stats()
		v.t.SetEvents(st.Events, st.Lost)
		data = v.t
	default:
		return nil, fmt.Errorf("otrace.save: want a profile (otrace.profile) or a timeline (otrace.timeline), not %s", args[0].TypeName())
	}
	path := m.cfg.Output
	if len(args) >= 2 {
		s, ok := args[1].(*tengo.String)
		if !ok {
			return nil, fmt.Errorf("otrace.save: the path must be a string, not %s", args[1].TypeName())
		}
		path = s.Value
	}
	if path == "" {
		return nil, fmt.Errorf("otrace.save: no path: give one, or run with -o FILE")
	}
	var w export.Writer
	if len(args) == 3 {
		opts, ok := mapOf(args[2])
		if !ok {
			return nil, fmt.Errorf("otrace.save: options must be a map like {format: \"folded\", value: \"cpu\"}")
		}
		var err error
		if w, err = writerFor(opts); err != nil {
			return nil, fmt.Errorf("otrace.save: %v", err)
		}
	}
	if err := export.WriteFile(path, w, data); err != nil {
		// Not a runtime error: the handler goes on to write its other
		// outputs. The failure is printed, ends the run with status 1,
		// and is returned as an error value for scripts that check.
		m.cfg.Session.Warn("otrace: " + err.Error())
		m.cfg.Session.Fail(err)
		return &tengo.Error{Value: &tengo.String{Value: err.Error()}}, nil
	}
	return tengo.UndefinedValue, nil
}

// writerFor builds the writer that export options ask for.
func writerFor(opts map[string]tengo.Object) (export.Writer, error) {
	format, value, top := "", "", 0
	for k, v := range opts {
		switch k {
		case "format":
			format = v.String()
		case "value":
			value = v.String()
		case "top":
			if n, ok := v.(*tengo.Int); ok {
				top = int(n.Value)
			}
		default:
			return nil, fmt.Errorf("unknown option %q; known: format, value, top", k)
		}
	}
	format = strings.Trim(format, `"`)
	value = strings.Trim(value, `"`)
	switch format {
	case "folded":
		return export.Folded{Value: value}, nil
	case "text":
		return export.Text{Value: value, N: top}, nil
	case "":
		if value != "" || top != 0 {
			return nil, fmt.Errorf("value and top need a format (folded or text)")
		}
		return nil, nil
	}
	return export.ByName(format)
}

func mapOf(o tengo.Object) (map[string]tengo.Object, bool) {
	switch v := o.(type) {
	case *tengo.Map:
		return v.Value, true
	case *tengo.ImmutableMap:
		return v.Value, true
	}
	return nil, false
}

func stringArray(o tengo.Object) ([]string, error) {
	vals, ok := elems(o)
	if !ok {
		return nil, fmt.Errorf("want an array of strings, not %s", o.TypeName())
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		s, ok := v.(*tengo.String)
		if !ok {
			return nil, fmt.Errorf("element %d is %s, not a string", i+1, v.TypeName())
		}
		out[i] = s.Value
	}
	return out, nil
}
