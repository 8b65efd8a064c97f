package aggobj

import (
	"fmt"
	"io"

	"github.com/d5/tengo/v2"

	"otrace/runtime/aggregate"
)

// Object is a script's handle on an aggregation. Its methods are bound
// once, when it is made, so calling one costs the VM's call and no lookup
// allocation.
type Object struct {
	tengo.ObjectImpl
	agg   *aggregate.Agg
	out   io.Writer
	kind  string
	tuple []aggregate.Key // tuple key elements, reused

	inc, add, get, top, keys, length, clear, print, del, by *tengo.UserFunction
	toProfile                                               *tengo.UserFunction
}

func newObject(a *aggregate.Agg, out io.Writer) *Object {
	o := &Object{agg: a, out: out, kind: a.Kind().String()}
	fn := func(name string, f tengo.CallableFunc) *tengo.UserFunction {
		return &tengo.UserFunction{Name: name, Value: f}
	}
	if a.Kind() == aggregate.Count {
		o.inc = fn("inc", o.incCall)
	}
	o.add = fn("add", o.addCall)
	o.get = fn("get", o.getCall)
	o.top = fn("top", o.topCall)
	o.keys = fn("keys", o.keysCall)
	o.length = fn("len", o.lenCall)
	o.clear = fn("clear", o.clearCall)
	o.print = fn("print", o.printCall)
	o.del = fn("delete", o.deleteCall)
	o.by = fn("by", o.byCall)
	return o
}

// Agg is the aggregation behind a script object, for exporters (e.g. a
// to_profile that reads stack keys).
func Agg(o tengo.Object) (*aggregate.Agg, bool) {
	obj, ok := o.(*Object)
	if !ok {
		return nil, false
	}
	return obj.agg, true
}

// TypeName is the kind: "count", "hist"...
func (o *Object) TypeName() string { return o.kind }

// String is what print writes.
func (o *Object) String() string { return o.agg.String() }

// Copy returns the object itself: it is a handle on Go state, and a copy
// (made when a module is imported, or by copy()) must update the same
// aggregation.
func (o *Object) Copy() tengo.Object { return o }

// Equals is identity.
func (o *Object) Equals(x tengo.Object) bool { return o == x }

// IndexGet returns a method, or the name.
func (o *Object) IndexGet(index tengo.Object) (tengo.Object, error) {
	k, ok := index.(*tengo.String)
	if !ok {
		return nil, tengo.ErrInvalidIndexType
	}
	switch k.Value {
	case "inc":
		if o.inc != nil {
			return o.inc, nil
		}
	case "add":
		return o.add, nil
	case "get":
		return o.get, nil
	case "top":
		return o.top, nil
	case "keys":
		return o.keys, nil
	case "len":
		return o.length, nil
	case "clear":
		return o.clear, nil
	case "print":
		return o.print, nil
	case "delete":
		return o.del, nil
	case "by":
		return o.by, nil
	case "to_profile":
		if o.toProfile != nil {
			return o.toProfile, nil
		}
	case "name":
		return &tengo.String{Value: o.agg.Name()}, nil
	}
	methods := "add, get, top, keys, len, clear, print, delete, by and name"
	if o.inc != nil {
		methods = "inc, " + methods
	}
	return nil, fmt.Errorf("a %s has %s, not %q", o.kind, methods, k.Value)
}

// incCall is c.inc([key]): count by one.
func (o *Object) incCall(args ...tengo.Object) (tengo.Object, error) {
	var k aggregate.Key
	switch len(args) {
	case 0:
	case 1:
		if err := o.key("inc", args[0], &k); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("count.inc([key]): want at most 1 argument, got %d", len(args))
	}
	o.agg.Add(&k, 1)
	return tengo.UndefinedValue, nil
}

// addCall is a.add([key,] value); for a count, c.add([key,] n).
func (o *Object) addCall(args ...tengo.Object) (tengo.Object, error) {
	var k aggregate.Key
	var arg tengo.Object
	switch len(args) {
	case 1:
		arg = args[0]
	case 2:
		if err := o.key("add", args[0], &k); err != nil {
			return nil, err
		}
		arg = args[1]
	default:
		what := "value"
		if o.inc != nil {
			what = "n"
		}
		return nil, fmt.Errorf("%s.add([key,] %s): want 1 or 2 arguments, got %d", o.kind, what, len(args))
	}
	x, ok := arg.(*tengo.Int)
	switch {
	case !ok && o.inc != nil:
		return nil, fmt.Errorf("count.add: n must be an int, not %s", arg.TypeName())
	case !ok:
		return nil, fmt.Errorf("%s.add: value must be an int, not %s", o.kind, arg.TypeName())
	case x.Value < 0 && o.inc != nil:
		return nil, fmt.Errorf("count.add: n must not be negative, got %d (a sum can go down)", x.Value)
	}
	o.agg.Add(&k, x.Value)
	return tengo.UndefinedValue, nil
}

// optionalKey reads the key of a method taking [key].
func (o *Object) optionalKey(method string, args []tengo.Object, k *aggregate.Key) error {
	switch len(args) {
	case 0:
		return nil
	case 1:
		return o.key(method, args[0], k)
	}
	return fmt.Errorf("%s.%s([key]): want at most 1 argument, got %d", o.kind, method, len(args))
}

// getCall is a.get([key]): the value, 0 for a count or sum without it,
// undefined for the other kinds.
func (o *Object) getCall(args ...tengo.Object) (tengo.Object, error) {
	var k aggregate.Key
	if err := o.optionalKey("get", args, &k); err != nil {
		return nil, err
	}
	v, ok := o.agg.Get(&k)
	if !ok {
		switch o.agg.Kind() {
		case aggregate.Count, aggregate.Sum:
			return &tengo.Int{}, nil
		}
		return tengo.UndefinedValue, nil
	}
	return o.value(v), nil
}

// topCall is a.top([n]): [key, value] pairs, largest value first, ties
// by key; all of them without n.
func (o *Object) topCall(args ...tengo.Object) (tengo.Object, error) {
	n := -1
	switch len(args) {
	case 0:
	case 1:
		v, ok := args[0].(*tengo.Int)
		if !ok || v.Value < 0 {
			return nil, fmt.Errorf("%s.top: n must be an int of at least 0, not %s", o.kind, args[0])
		}
		n = int(min(v.Value, int64(o.agg.Len())))
	default:
		return nil, fmt.Errorf("%s.top([n]): want at most 1 argument, got %d", o.kind, len(args))
	}
	top := o.agg.Top(n)
	out := make([]tengo.Object, len(top))
	for i := range top {
		out[i] = &tengo.Array{Value: []tengo.Object{keyObject(&top[i].Key), o.value(&top[i].Value)}}
	}
	return &tengo.Array{Value: out}, nil
}

// keysCall is a.keys(): the keys in key order.
func (o *Object) keysCall(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("%s.keys() takes no arguments", o.kind)
	}
	keys := o.agg.Keys()
	out := make([]tengo.Object, len(keys))
	for i := range keys {
		out[i] = keyObject(&keys[i])
	}
	return &tengo.Array{Value: out}, nil
}

func (o *Object) lenCall(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("%s.len() takes no arguments", o.kind)
	}
	return &tengo.Int{Value: int64(o.agg.Len())}, nil
}

// clearCall is a.clear(): every key goes, and the drop count.
func (o *Object) clearCall(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("%s.clear() takes no arguments", o.kind)
	}
	o.agg.Clear()
	return tengo.UndefinedValue, nil
}

// printCall is a.print(): the aggregation to the script's output.
func (o *Object) printCall(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("%s.print() takes no arguments", o.kind)
	}
	if err := o.agg.Print(o.out); err != nil {
		return nil, fmt.Errorf("%s.print: %w", o.kind, err)
	}
	return tengo.UndefinedValue, nil
}

// deleteCall is a.delete([key]): true when the key was there.
func (o *Object) deleteCall(args ...tengo.Object) (tengo.Object, error) {
	var k aggregate.Key
	if err := o.optionalKey("delete", args, &k); err != nil {
		return nil, err
	}
	if o.agg.Delete(&k) {
		return tengo.TrueValue, nil
	}
	return tengo.FalseValue, nil
}
