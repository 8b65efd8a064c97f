package eventobj

import (
	"fmt"

	"github.com/d5/tengo/v2"

	"otrace/runtime/event"
	"otrace/runtime/intern"
	"otrace/runtime/stacks"
)

// Stack is a script's view of a sampled stack: e.kstack (the kernel's
// part), e.ustack (user space) or e.stack (both, kernel frames first). It
// holds interned ids, so keeping one costs two ints; it prints as its
// symbolized frames, one per line (computed once per distinct stack, which
// also makes it a cheap map key), and iterates as frame maps.
type Stack struct {
	tengo.ObjectImpl
	t      *stacks.Table
	k, u   intern.StackID
	joined map[[2]intern.StackID]string // shared text of k+u stacks
}

// Stack object kinds for builtinKind.
const (
	stackKernel = iota
	stackUser
	stackBoth
)

// stackOf interns the record's callchain part(s) and wraps them.
func (o *Event) stackOf(which int) tengo.Object {
	env := o.env
	if env.Stacks == nil {
		return &Stack{}
	}
	if env.joined == nil {
		env.joined = map[[2]intern.StackID]string{}
	}
	r := o.rec
	kaddrs, uaddrs := event.SplitCallchain(r.Callchain)
	s := &Stack{t: env.Stacks, joined: env.joined}
	if which != stackUser && len(kaddrs) > 0 {
		s.k = env.Stacks.Intern(true, r.PID, r.Time, kaddrs)
	}
	switch {
	case which == stackKernel:
	case r.UserRegs != nil: // a copied user stack ({stack: "dwarf"})
		s.u = env.Stacks.Unwound(r)
	case len(uaddrs) > 0:
		s.u = env.Stacks.Intern(false, r.PID, r.Time, uaddrs)
	}
	return s
}

// TypeName implements tengo.Object.
func (s *Stack) TypeName() string { return "stack" }

// String is the stack's frames, leaf first, one "\tfunc+0xoff (module)"
// line each; empty for an empty stack.
func (s *Stack) String() string {
	if s.t == nil {
		return ""
	}
	switch {
	case s.k == 0:
		return s.t.Format(s.u)
	case s.u == 0:
		return s.t.Format(s.k)
	}
	key := [2]intern.StackID{s.k, s.u}
	if txt, ok := s.joined[key]; ok {
		return txt
	}
	txt := s.t.Format(s.k) + s.t.Format(s.u)
	s.joined[key] = txt
	return txt
}

// Equals compares ids: the same frames in the same process image.
func (s *Stack) Equals(x tengo.Object) bool {
	o, ok := x.(*Stack)
	return ok && o.k == s.k && o.u == s.u
}

// IsFalsy is true for an empty stack (the probe collected none).
func (s *Stack) IsFalsy() bool { return s.k == 0 && s.u == 0 }

// Copy returns the stack itself: it is immutable.
func (s *Stack) Copy() tengo.Object { return s }

// addrs is the stack's addresses, kernel part first.
func (s *Stack) addrs() []uint64 {
	if s.t == nil {
		return nil
	}
	var out []uint64
	if s.k != 0 {
		out = append(out, s.t.Addrs(s.k)...)
	}
	if s.u != 0 {
		out = append(out, s.t.Addrs(s.u)...)
	}
	return out
}

// frames is the stack as an array of frame maps.
func (s *Stack) frames() *tengo.ImmutableArray {
	var out []tengo.Object
	for _, id := range []intern.StackID{s.k, s.u} {
		if id == 0 || s.t == nil {
			continue
		}
		for _, f := range s.t.Frames(id) {
			out = append(out, &tengo.ImmutableMap{Value: map[string]tengo.Object{
				"addr":     &tengo.Int{Value: int64(f.Addr)},
				"function": &tengo.String{Value: f.Func},
				"name":     &tengo.String{Value: f.Name()},
				"offset":   &tengo.Int{Value: int64(f.Offset)},
				"module":   &tengo.String{Value: f.Module},
				"file":     &tengo.String{Value: f.File},
				"line":     &tengo.Int{Value: int64(f.Line)},
				"inlined":  boolObject(f.Inlined),
			}})
		}
	}
	return &tengo.ImmutableArray{Value: out}
}

// IndexGet: s.frames, s.addrs, s.len, s.id ("K:U", the interned ids).
func (s *Stack) IndexGet(index tengo.Object) (tengo.Object, error) {
	k, ok := index.(*tengo.String)
	if !ok {
		if i, ok := index.(*tengo.Int); ok {
			return s.frames().IndexGet(i)
		}
		return nil, tengo.ErrInvalidIndexType
	}
	switch k.Value {
	case "frames":
		return s.frames(), nil
	case "addrs":
		var out []tengo.Object
		for _, a := range s.addrs() {
			out = append(out, &tengo.Int{Value: int64(a)})
		}
		return &tengo.ImmutableArray{Value: out}, nil
	case "len":
		return &tengo.Int{Value: int64(len(s.addrs()))}, nil
	case "id":
		return &tengo.String{Value: fmt.Sprintf("%d:%d", s.k, s.u)}, nil
	}
	return nil, fmt.Errorf("a stack has frames, addrs, len and id, not %q", k.Value)
}

// CanIterate: a stack iterates over its frame maps.
func (s *Stack) CanIterate() bool { return true }

// Iterate implements tengo.Object.
func (s *Stack) Iterate() tengo.Iterator { return s.frames().Iterate() }

func boolObject(b bool) tengo.Object {
	if b {
		return tengo.TrueValue
	}
	return tengo.FalseValue
}

// Refs returns the stack's table and its kernel and user ids (0 for a
// missing part), for exporters.
func (s *Stack) Refs() (*stacks.Table, intern.StackID, intern.StackID) { return s.t, s.k, s.u }

// AggKey identifies the stack as an aggregation key: its kernel and user
// ids (runtime/aggregate.Stack).
func (s *Stack) AggKey() uint64 { return uint64(s.k)<<32 | uint64(s.u) }
