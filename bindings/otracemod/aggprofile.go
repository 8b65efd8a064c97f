package otracemod

import (
	"fmt"
	"strconv"

	"github.com/d5/tengo/v2"

	"otrace/bindings/eventobj"
	"otrace/runtime/aggregate"
	"otrace/runtime/export"
)

// aggToProfile is a.to_profile(): the entries of an aggregation keyed by
// stacks (alone, or in a tuple whose other elements become labels k1, k2,
// ...) as a profile of one sample type — samples/count for a count, else
// NAME/count with the aggregation's value (sum, min, max, average, or the
// number of values for a histogram).
func aggToProfile(a *aggregate.Agg) (tengo.Object, error) {
	name := a.Name()
	if name == "" {
		name = "value"
	}
	typ := export.SampleType{Type: name, Unit: "count"}
	if a.Kind() == aggregate.Count {
		typ = export.SampleType{Type: "samples", Unit: "count"}
	}
	p, err := export.NewProfile([]export.SampleType{typ})
	if err != nil {
		return nil, err
	}
	var refs [2]export.StackRef
	values := []int64{0}
	added := 0
	for _, e := range a.Entries() {
		var st *eventobj.Stack
		var labels export.Labels
		switch e.Key.Kind {
		case aggregate.StackKey:
			st, _ = e.Key.Stack.(*eventobj.Stack)
		case aggregate.TupleKey:
			for i, k := range e.Key.Tuple {
				label := "k" + strconv.Itoa(i)
				switch k.Kind {
				case aggregate.StackKey:
					if st == nil {
						st, _ = k.Stack.(*eventobj.Stack)
					}
				case aggregate.StringKey:
					labels = append(labels, export.StringLabel(label, k.Str))
				case aggregate.IntKey:
					labels = append(labels, export.NumLabel(label, k.Int, ""))
				}
			}
		}
		if st == nil {
			continue
		}
		t, kid, uid := st.Refs()
		r := refs[:0]
		if kid != 0 {
			r = append(r, export.StackRef{Table: t, ID: kid})
		}
		if uid != 0 {
			r = append(r, export.StackRef{Table: t, ID: uid})
		}
		values[0] = aggValue(a.Kind(), &e.Value)
		if err := p.Add(r, values, labels); err != nil {
			return nil, fmt.Errorf("to_profile: %v", err)
		}
		added++
	}
	if added == 0 && len(a.Entries()) > 0 {
		return nil, fmt.Errorf("to_profile: @%s has no stack keys; key it by e.stack (or a tuple with one)", a.Name())
	}
	o := &profileObject{p: p, values: make([]int64, 1)}
	o.add = &tengo.UserFunction{Name: "add", Value: o.addCall}
	return o, nil
}

// aggValue is the number a profile sample gets from an aggregation value.
func aggValue(k aggregate.Kind, v *aggregate.Value) int64 {
	switch k {
	case aggregate.Sum, aggregate.Stats:
		s, _ := v.Sum()
		return s
	case aggregate.Min:
		return v.Min
	case aggregate.Max:
		return v.Max
	case aggregate.Avg:
		return int64(v.Avg())
	}
	return v.Count
}
