package eventobj

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/d5/tengo/v2"

	"otrace/runtime/event"
	"otrace/runtime/intern"
	"otrace/runtime/probe"
	"otrace/runtime/process"
	"otrace/runtime/stacks"
)

// Env is what event objects share: the value tables and the process model
// that names threads.
type Env struct {
	Values *Values
	Procs  *process.Table
	// Stacks interns and names e.stack, e.kstack and e.ustack; nil gives
	// empty stacks.
	Stacks *stacks.Table
	joined map[[2]intern.StackID]string
}

// Builtin names every event has. They take precedence over payload fields
// of the same name (sched_wakeup's "pid" is the woken task, not the
// current one); e.field("pid") reads the payload's.
var Builtin = []string{"name", "time", "cpu", "pid", "tid", "comm"}

// Event is the object a handler receives. One exists per event kind and is
// re-pointed at each record; outside its handler it refuses to be read.
type Event struct {
	tengo.ObjectImpl
	env  *Env
	ev   *event.Event
	rec  *event.Record
	name *tengo.String

	fieldNames *tengo.ImmutableArray
	copyFn     *tengo.UserFunction
	hasFn      *tengo.UserFunction
	fieldFn    *tengo.UserFunction

	// keys caches what a key string resolved to, by the key's address:
	// e.next_comm passes the same constant *tengo.String on every call, so
	// a hit skips the name lookup.
	keys [keyCacheSize]resolved
}

const keyCacheSize = 16

// What a key names.
const (
	kNone uint8 = iota
	kName
	kTime
	kCPU
	kPID
	kTID
	kComm
	kFields
	kCopy
	kHas
	kField
	kLost
	kKstack
	kUstack
	kStack
	kExe
	kPayload
)

var keyKinds = map[string]uint8{
	"name": kName, "time": kTime, "cpu": kCPU, "pid": kPID, "tid": kTID, "comm": kComm,
	"fields": kFields, "copy": kCopy, "has": kHas, "field": kField, "lost": kLost,
	"kstack": kKstack, "ustack": kUstack, "stack": kStack, "exe": kExe,
}

type resolved struct {
	key   *tengo.String
	kind  uint8
	field *event.Field
}

// New returns the object for one event kind.
func New(env *Env, ev *event.Event) *Event {
	o := &Event{env: env, ev: ev, name: env.Values.String(ev.Name)}
	names := ev.Format.FieldNames()
	arr := make([]tengo.Object, len(names))
	for i, n := range names {
		arr[i] = env.Values.String(n)
	}
	o.fieldNames = &tengo.ImmutableArray{Value: arr}
	o.copyFn = &tengo.UserFunction{Name: "copy", Value: o.copyCall}
	o.hasFn = &tengo.UserFunction{Name: "has", Value: o.hasCall}
	o.fieldFn = &tengo.UserFunction{Name: "field", Value: o.fieldCall}
	return o
}

// Point makes the object show rec until Expire.
func (o *Event) Point(rec *event.Record) { o.rec = rec }

// Expire ends the object's validity: the handler returned.
func (o *Event) Expire() { o.rec = nil }

// TypeName implements tengo.Object.
func (o *Event) TypeName() string { return "event" }

// String shows every value, builtins first, then the payload in order.
func (o *Event) String() string {
	if o.rec == nil {
		return "<event " + o.ev.Name + ": expired; keep e.copy() to use an event after its handler>"
	}
	var b strings.Builder
	b.WriteString("{")
	o.each(func(k string, v tengo.Object) {
		if b.Len() > 1 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(v.String())
	})
	b.WriteString("}")
	return b.String()
}

// Copy returns a detached snapshot (a map); an expired event copies to an
// error value so that copy(e) cannot silently produce garbage.
func (o *Event) Copy() tengo.Object {
	if o.rec == nil {
		return &tengo.Error{Value: &tengo.String{Value: o.expired().Error()}}
	}
	m := make(map[string]tengo.Object, len(Builtin)+len(o.ev.Format.Fields))
	o.each(func(k string, v tengo.Object) { m[k] = v })
	return &tengo.Map{Value: m}
}

// Equals is identity.
func (o *Event) Equals(x tengo.Object) bool { return x == o }

// IsFalsy implements tengo.Object.
func (o *Event) IsFalsy() bool { return false }

func (o *Event) expired() error {
	return fmt.Errorf("event %s used after its handler returned; events are reused, so keep e.copy() instead", o.ev.Name)
}

// each visits builtins then payload fields not shadowed by a builtin.
func (o *Event) each(fn func(string, tengo.Object)) {
	for _, k := range Builtin {
		v, _ := o.builtin(k)
		fn(k, v)
	}
	for i := range o.ev.Format.Fields {
		f := &o.ev.Format.Fields[i]
		if event.IsCommon(f.Name) || isBuiltin(f.Name) {
			continue
		}
		v, err := o.decode(f)
		if err != nil {
			v = tengo.UndefinedValue
		}
		fn(f.Name, v)
	}
}

func isBuiltin(name string) bool {
	for _, b := range Builtin {
		if b == name {
			return true
		}
	}
	return false
}

// IndexGet reads e.NAME: a builtin, a method, or a payload field.
func (o *Event) IndexGet(index tengo.Object) (tengo.Object, error) {
	key, ok := index.(*tengo.String)
	if !ok {
		return nil, tengo.ErrInvalidIndexType
	}
	if o.rec == nil {
		return nil, o.expired()
	}
	slot := &o.keys[(uintptr(unsafe.Pointer(key))>>4)%keyCacheSize]
	if slot.key != key {
		*slot = o.resolve(key)
	}
	switch slot.kind {
	case kPayload:
		return o.decode(slot.field)
	case kFields:
		return o.fieldNames, nil
	case kCopy:
		return o.copyFn, nil
	case kHas:
		return o.hasFn, nil
	case kField:
		return o.fieldFn, nil
	case kLost:
		return o.env.Values.Int(int64(o.rec.Lost)), nil
	case kKstack:
		return o.stackOf(stackKernel), nil
	case kUstack:
		return o.stackOf(stackUser), nil
	case kStack:
		return o.stackOf(stackBoth), nil
	case kExe:
		exe := ""
		if p := o.env.Procs.Process(o.rec.PID); p != nil {
			exe = p.Exe
		}
		return o.env.Values.String(exe), nil
	case kNone:
		return nil, o.noField(key.Value)
	}
	v, _ := o.builtinKind(slot.kind)
	return v, nil
}

func (o *Event) resolve(key *tengo.String) resolved {
	if k, ok := keyKinds[key.Value]; ok {
		return resolved{key: key, kind: k}
	}
	if f := o.ev.Format.Field(key.Value); f != nil {
		return resolved{key: key, kind: kPayload, field: f}
	}
	return resolved{key: key, kind: kNone}
}

func (o *Event) builtin(name string) (tengo.Object, bool) {
	return o.builtinKind(keyKinds[name])
}

func (o *Event) builtinKind(k uint8) (tengo.Object, bool) {
	r, v := o.rec, o.env.Values
	switch k {
	case kName:
		return o.name, true
	case kTime:
		return v.Int(int64(r.Time)), true
	case kCPU:
		return v.Int(int64(r.CPU)), true
	case kPID:
		return v.Int(int64(r.PID)), true
	case kTID:
		return v.Int(int64(r.TID)), true
	case kComm:
		return v.String(o.env.Procs.Comm(r.PID, r.TID)), true
	}
	return nil, false
}

func (o *Event) noField(name string) error {
	names := append(append([]string{}, Builtin...), o.ev.Format.FieldNames()...)
	msg := fmt.Sprintf("%s has no field %q", o.ev.Name, name)
	if s := probe.Suggest(name, names, 1); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", s[0])
	}
	if fn := o.ev.Format.FieldNames(); len(fn) > 0 {
		msg += "; its fields: " + strings.Join(fn, ", ")
	} else {
		msg += "; it has no payload fields, only " + strings.Join(Builtin, ", ")
	}
	return fmt.Errorf("%s", msg)
}

// decode converts a payload field to a Tengo value: integers to int,
// char arrays and strings to string, other arrays to arrays of ints.
func (o *Event) decode(f *event.Field) (tengo.Object, error) {
	raw, v := o.rec.Raw, o.env.Values
	switch f.Kind {
	case event.Scalar, event.Pointer:
		n, ok := f.Int(raw)
		if !ok {
			return nil, o.outside(f)
		}
		return v.Int(n), nil
	}
	if f.String {
		b, ok := f.Str(raw)
		if !ok {
			return nil, o.outside(f)
		}
		return v.Str(b), nil
	}
	data, ok := f.Data(raw)
	if !ok {
		return nil, o.outside(f)
	}
	switch f.ElemSize {
	case 2, 4, 8:
	default:
		return &tengo.Bytes{Value: append([]byte(nil), data...)}, nil
	}
	n := f.Len(raw)
	arr := make([]tengo.Object, n)
	for i := range arr {
		x, _ := f.Index(raw, i)
		arr[i] = v.Int(int64(x))
	}
	return &tengo.ImmutableArray{Value: arr}, nil
}

func (o *Event) outside(f *event.Field) error {
	return fmt.Errorf("%s: field %s lies outside the %d-byte payload", o.ev.Name, f.Name, len(o.rec.Raw))
}

func (o *Event) copyCall(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 0 {
		return nil, tengo.ErrWrongNumArguments
	}
	if o.rec == nil {
		return nil, o.expired()
	}
	return o.Copy(), nil
}

func (o *Event) hasCall(args ...tengo.Object) (tengo.Object, error) {
	name, err := oneString("has", args)
	if err != nil {
		return nil, err
	}
	if isBuiltin(name) || o.ev.Format.Field(name) != nil {
		return tengo.TrueValue, nil
	}
	return tengo.FalseValue, nil
}

// fieldCall reads a payload field by name, including one shadowed by a
// builtin; an absent field reads undefined.
func (o *Event) fieldCall(args ...tengo.Object) (tengo.Object, error) {
	name, err := oneString("field", args)
	if err != nil {
		return nil, err
	}
	if o.rec == nil {
		return nil, o.expired()
	}
	f := o.ev.Format.Field(name)
	if f == nil {
		return tengo.UndefinedValue, nil
	}
	return o.decode(f)
}

func oneString(fn string, args []tengo.Object) (string, error) {
	if len(args) != 1 {
		return "", tengo.ErrWrongNumArguments
	}
	s, ok := args[0].(*tengo.String)
	if !ok {
		return "", tengo.ErrInvalidArgumentType{Name: "name", Expected: "string", Found: args[0].TypeName()}
	}
	return s.Value, nil
}
