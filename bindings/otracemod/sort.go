package otracemod

import (
	"cmp"
	"fmt"
	"sort"

	"github.com/d5/tengo/v2"
)

// sortArray is otrace.sort(array, [descending]): a sorted copy of an
// array. Tengo has no sort, and deterministic output (top-N tables, keys
// of a map) needs one. Numbers sort by value, strings bytewise, arrays
// element by element (so [count, name] pairs sort by count, then name);
// values of different kinds sort by kind name.
func sortArray(args ...tengo.Object) (tengo.Object, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, fmt.Errorf("otrace.sort(array, [descending]): want 1 or 2 arguments, got %d", len(args))
	}
	var in []tengo.Object
	switch v := args[0].(type) {
	case *tengo.Array:
		in = v.Value
	case *tengo.ImmutableArray:
		in = v.Value
	default:
		return nil, fmt.Errorf("otrace.sort: want an array, got %s", args[0].TypeName())
	}
	desc := len(args) == 2 && !args[1].IsFalsy()
	out := append([]tengo.Object(nil), in...)
	sort.SliceStable(out, func(i, j int) bool {
		if desc {
			return compare(out[j], out[i]) < 0
		}
		return compare(out[i], out[j]) < 0
	})
	return &tengo.Array{Value: out}, nil
}

// compare orders two Tengo values; see sortArray.
func compare(a, b tengo.Object) int {
	if x, ok := a.(*tengo.Int); ok {
		if y, ok := b.(*tengo.Int); ok {
			return cmp.Compare(x.Value, y.Value) // exact above 2^53
		}
	}
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			return cmp.Compare(x, y)
		}
	}
	switch x := a.(type) {
	case *tengo.String:
		if y, ok := b.(*tengo.String); ok {
			return cmp.Compare(x.Value, y.Value)
		}
	case *tengo.Array, *tengo.ImmutableArray:
		if ys, ok := elems(b); ok {
			xs, _ := elems(x)
			for i := 0; i < len(xs) && i < len(ys); i++ {
				if c := compare(xs[i], ys[i]); c != 0 {
					return c
				}
			}
			return cmp.Compare(len(xs), len(ys))
		}
	}
	return cmp.Compare(a.TypeName(), b.TypeName())
}

func number(o tengo.Object) (float64, bool) {
	switch v := o.(type) {
	case *tengo.Int:
		return float64(v.Value), true
	case *tengo.Float:
		return v.Value, true
	case *tengo.Char:
		return float64(v.Value), true
	}
	return 0, false
}

func elems(o tengo.Object) ([]tengo.Object, bool) {
	switch v := o.(type) {
	case *tengo.Array:
		return v.Value, true
	case *tengo.ImmutableArray:
		return v.Value, true
	}
	return nil, false
}
