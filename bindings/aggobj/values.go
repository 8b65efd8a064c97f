package aggobj

import (
	"fmt"

	"github.com/d5/tengo/v2"

	"otrace/runtime/aggregate"
)

// key converts a script key into k without allocating: strings, ints,
// undefined, stacks, and arrays of strings, ints and stacks (tuples,
// whose elements go to o.tuple, reused).
func (o *Object) key(method string, arg tengo.Object, k *aggregate.Key) error {
	switch v := arg.(type) {
	case *tengo.String:
		*k = aggregate.Key{Kind: aggregate.StringKey, Str: v.Value}
	case *tengo.Int:
		*k = aggregate.Key{Kind: aggregate.IntKey, Int: v.Value}
	case *tengo.Undefined:
		*k = aggregate.Key{}
	case *tengo.Array:
		return o.tupleKey(method, v.Value, k)
	case *tengo.ImmutableArray:
		return o.tupleKey(method, v.Value, k)
	case aggregate.Stack:
		*k = aggregate.Key{Kind: aggregate.StackKey, Stack: v}
	default:
		return fmt.Errorf("%s.%s: key must be a string, int, array or stack, not %s", o.kind, method, arg.TypeName())
	}
	return nil
}

func (o *Object) tupleKey(method string, elems []tengo.Object, k *aggregate.Key) error {
	if len(elems) == 0 {
		return fmt.Errorf("%s.%s: a key array must not be empty", o.kind, method)
	}
	t := o.tuple[:0]
	for i, e := range elems {
		switch v := e.(type) {
		case *tengo.String:
			t = append(t, aggregate.Key{Kind: aggregate.StringKey, Str: v.Value})
		case *tengo.Int:
			t = append(t, aggregate.Key{Kind: aggregate.IntKey, Int: v.Value})
		case aggregate.Stack:
			t = append(t, aggregate.Key{Kind: aggregate.StackKey, Stack: v})
		default:
			return fmt.Errorf("%s.%s: a key array holds strings, ints and stacks, not %s (element %d)",
				o.kind, method, e.TypeName(), i)
		}
	}
	o.tuple = t
	*k = aggregate.Key{Kind: aggregate.TupleKey, Tuple: t}
	return nil
}

// keyObject is a key as scripts see it: a string, an int, an array, the
// stack object itself, or undefined for the unkeyed value.
func keyObject(k *aggregate.Key) tengo.Object {
	switch k.Kind {
	case aggregate.IntKey:
		return &tengo.Int{Value: k.Int}
	case aggregate.StringKey:
		return &tengo.String{Value: k.Str}
	case aggregate.TupleKey:
		out := make([]tengo.Object, len(k.Tuple))
		for i := range k.Tuple {
			out[i] = keyObject(&k.Tuple[i])
		}
		return &tengo.Array{Value: out}
	case aggregate.StackKey:
		if obj, ok := k.Stack.(tengo.Object); ok {
			return obj
		}
		return &tengo.String{Value: k.Stack.String()}
	}
	return tengo.UndefinedValue
}

// value is a value as scripts see it: an int for count, sum, min and max
// (a sum beyond int64 becomes a float), a float for avg, a map for stats
// ({count, avg, total, min, max}) and for histograms (bucket label to
// count, non-empty buckets only).
func (o *Object) value(v *aggregate.Value) tengo.Object {
	switch o.agg.Kind() {
	case aggregate.Count:
		return &tengo.Int{Value: v.Count}
	case aggregate.Sum:
		return sumObject(v)
	case aggregate.Min:
		return &tengo.Int{Value: v.Min}
	case aggregate.Max:
		return &tengo.Int{Value: v.Max}
	case aggregate.Avg:
		return &tengo.Float{Value: v.Avg()}
	case aggregate.Stats:
		return &tengo.ImmutableMap{Value: map[string]tengo.Object{
			"count": &tengo.Int{Value: v.Count},
			"avg":   &tengo.Float{Value: v.Avg()},
			"total": sumObject(v),
			"min":   &tengo.Int{Value: v.Min},
			"max":   &tengo.Int{Value: v.Max},
		}}
	}
	buckets := map[string]tengo.Object{}
	for i, n := range v.Buckets {
		if n != 0 {
			buckets[o.agg.BucketLabel(i)] = &tengo.Int{Value: int64(n)}
		}
	}
	return &tengo.Map{Value: buckets}
}

// sumObject is a total: an int, or a float when it is beyond int64.
func sumObject(v *aggregate.Value) tengo.Object {
	if s, ok := v.Sum(); ok {
		return &tengo.Int{Value: s}
	}
	return &tengo.Float{Value: v.SumFloat()}
}
