package otracemod

import (
	"fmt"

	"github.com/d5/tengo/v2"

	"otrace/runtime/session"
)

// counterObject is what otrace.counter returns: c.value() is the number
// of events so far, c.rate() the events per second since the previous
// rate() (or since tracing started), c.by_event() the value of each event
// a glob named ("syscalls:sys_enter_*" counts every syscall by name, all
// in the kernel).
type counterObject struct {
	tengo.ObjectImpl
	name     string
	c        sumCounter
	events   []string // the event of each of c's counters
	sess     *session.Session
	lastN    uint64
	lastTime uint64
	value    *tengo.UserFunction
	rate     *tengo.UserFunction
	byEvent  *tengo.UserFunction
}

func (m *Module) counter(args ...tengo.Object) (tengo.Object, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, fmt.Errorf("otrace.counter(probe, [opts]): want 1 or 2 arguments, got %d", len(args))
	}
	if m.cfg.Session.Running() {
		return nil, fmt.Errorf("otrace.counter: counters must be made at the top level of the script, before tracing starts")
	}
	specs, err := probeNames(args[0])
	if err != nil {
		return nil, err
	}
	var opts session.ProbeOptions
	if len(args) == 2 {
		if opts, err = options(args[1], "otrace.counter"); err != nil {
			return nil, err
		}
	}
	var cs []session.Counter
	var names []string
	for _, spec := range specs {
		evs, err := m.resolve(spec, opts)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			c, err := m.cfg.Session.Count(ev)
			if err != nil {
				return nil, err
			}
			cs = append(cs, c)
			names = append(names, ev.Name)
		}
	}
	o := &counterObject{name: specs[0], c: sumCounter(cs), events: names, sess: m.cfg.Session}
	o.value = &tengo.UserFunction{Name: "value", Value: func(args ...tengo.Object) (tengo.Object, error) {
		return &tengo.Int{Value: int64(o.c.Value())}, nil
	}}
	o.rate = &tengo.UserFunction{Name: "rate", Value: o.rateCall}
	o.byEvent = &tengo.UserFunction{Name: "by_event", Value: o.byEventCall}
	return o, nil
}

// sumCounter adds the counters of every event a glob named.
type sumCounter []session.Counter

func (s sumCounter) Value() uint64 {
	var n uint64
	for _, c := range s {
		n += c.Value()
	}
	return n
}

func (o *counterObject) rateCall(args ...tengo.Object) (tengo.Object, error) {
	n, now := o.c.Value(), o.sess.Now()
	if o.lastTime == 0 {
		o.lastTime = o.sess.StartTime()
	}
	var r float64
	if now > o.lastTime {
		r = float64(n-o.lastN) / (float64(now-o.lastTime) / 1e9)
	}
	o.lastN, o.lastTime = n, now
	return &tengo.Float{Value: r}, nil
}

// byEventCall returns {event name: value} over the counter's events, the
// events that have not happened included (as 0), so a script can tell
// "never called" from "not counted".
func (o *counterObject) byEventCall(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("counter.by_event(): want no arguments, got %d", len(args))
	}
	m := make(map[string]tengo.Object, len(o.events))
	for i, name := range o.events {
		if _, seen := m[name]; seen {
			continue // the same event named twice ("a:*", "a:b") shows once
		}
		m[name] = &tengo.Int{Value: int64(o.c[i].Value())}
	}
	return &tengo.Map{Value: m}, nil
}

func (o *counterObject) TypeName() string { return "counter" }
func (o *counterObject) String() string   { return fmt.Sprintf("<counter %s: %d>", o.name, o.c.Value()) }

// Copy returns the counter itself: it is a handle on kernel state.
func (o *counterObject) Copy() tengo.Object { return o }

func (o *counterObject) IndexGet(index tengo.Object) (tengo.Object, error) {
	k, ok := index.(*tengo.String)
	if !ok {
		return nil, tengo.ErrInvalidIndexType
	}
	switch k.Value {
	case "value":
		return o.value, nil
	case "rate":
		return o.rate, nil
	case "by_event":
		return o.byEvent, nil
	}
	return nil, fmt.Errorf("a counter has value(), rate() and by_event(), not %q", k.Value)
}
