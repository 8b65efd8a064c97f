// Package otracemod is the `otrace` module scripts see: otrace.on,
// begin, end, every, exit, printf, args and output. It turns script
// functions into handlers attached to a session and owns the event objects
// those handlers receive.
package otracemod

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/d5/tengo/v2"

	"otrace/bindings/aggobj"
	"otrace/bindings/eventobj"
	"otrace/bindings/host"
	"otrace/runtime/event"
	"otrace/runtime/intern"
	"otrace/runtime/session"
	"otrace/runtime/stacks"
)

// Config is what the module needs from the command line.
type Config struct {
	Session *session.Session
	// Out receives printf output (buffered by the caller, flushed through
	// the session's Flush).
	Out io.Writer
	// Args are the script's arguments (after the script path).
	Args []string
	// Output is the -o destination, or "".
	Output string
	// Symbols names stack frames; nil leaves them unnamed.
	Symbols stacks.Resolver
	// Arch is the traced machine's architecture as Go names it ("amd64"):
	// this one live, the recording's with --input.
	Arch string
}

// Module is one script's otrace module.
type Module struct {
	cfg    Config
	script *host.Script
	env    *eventobj.Env
	// exitStatus is what the script asked otrace to exit with.
	exitStatus int
	objs       []*eventobj.Event // by event ID
	strs       *intern.Strings   // otrace.intern, otrace.str
	aggs       *aggobj.Module    // otrace.count, hist, ...
	current    *event.Record     // the record being handled, for otrace.sym
}

// New makes the module; Bind it to the compiled script before running it.
func New(cfg Config) *Module {
	procs := cfg.Session.Processes()
	st := stacks.New(procs, cfg.Symbols)
	cfg.Session.OnMmap(st.Mmap)
	cfg.Session.OnJIT(func(j session.JITCode) { st.AddJIT(j.PID, j.Start, j.Len, j.Name) })
	m := &Module{
		cfg:  cfg,
		env:  &eventobj.Env{Values: eventobj.NewValues(), Procs: procs, Stacks: st},
		strs: intern.NewStrings(),
	}
	m.aggs = aggobj.New(aggobj.Config{Out: cfg.Out, ToProfile: aggToProfile, Warn: func(msg string) {
		cfg.Session.Warn("otrace: " + msg)
	}})
	// Named aggregations print once the end handlers have run, as
	// bpftrace prints its maps.
	cfg.Session.OnFinish(func() { m.aggs.PrintAll(cfg.Out) })
	return m
}

// Bind gives the module the script whose functions it calls.
func (m *Module) Bind(s *host.Script) { m.script = s }

// Aggregations are the script's aggregations (otrace.count, hist, ...),
// for a REPL that prints or clears them on demand.
func (m *Module) Aggregations() *aggobj.Module { return m.aggs }

// Attrs are the module's members, for the "otrace" global and
// import("otrace").
func (m *Module) Attrs() map[string]tengo.Object {
	args := make([]tengo.Object, len(m.cfg.Args))
	for i, a := range m.cfg.Args {
		args[i] = &tengo.String{Value: a}
	}
	fn := func(name string, f tengo.CallableFunc) *tengo.UserFunction {
		return &tengo.UserFunction{Name: name, Value: f}
	}
	attrs := map[string]tengo.Object{
		"on":       fn("on", m.on),
		"begin":    fn("begin", m.begin),
		"end":      fn("end", m.end),
		"every":    fn("every", m.every),
		"exit":     fn("exit", m.exit),
		"printf":   fn("printf", m.printf),
		"sort":     fn("sort", sortArray),
		"counter":  fn("counter", m.counter),
		"profile":  fn("profile", m.profile),
		"timeline": fn("timeline", m.timeline),
		// export is a Tengo keyword, so otrace.export(...) cannot parse:
		// scripts call otrace.save; otrace["export"] is the same function.
		"save":    fn("save", m.exportCall),
		"export":  fn("export", m.exportCall),
		"sym":     fn("sym", m.sym),
		"ksym":    fn("ksym", m.ksym),
		"intern":  fn("intern", m.intern),
		"str":     fn("str", m.str),
		"stats":   fn("stats", m.stats),
		"args":    &tengo.ImmutableArray{Value: args},
		"output":  &tengo.String{Value: m.cfg.Output},
		"arch":    &tengo.String{Value: m.cfg.Arch},
		"process": fn("process", m.process),
	}
	for name, f := range m.aggs.Functions() {
		attrs[name] = f
	}
	// otrace.stats() is the run's totals; otrace.stats(NAME) a stats
	// aggregation.
	aggStats := attrs["stats"].(*tengo.UserFunction).Value
	attrs["stats"] = fn("stats", func(args ...tengo.Object) (tengo.Object, error) {
		if len(args) == 0 {
			return m.stats()
		}
		return aggStats(args...)
	})
	return attrs
}

// Object is the "otrace" global.
func (m *Module) Object() tengo.Object { return &tengo.ImmutableMap{Value: m.Attrs()} }

func (m *Module) on(args ...tengo.Object) (tengo.Object, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, fmt.Errorf("otrace.on(probe, [opts,] func(e) {...}): want 2 or 3 arguments, got %d", len(args))
	}
	if m.cfg.Session.Running() && !m.cfg.Session.LiveChanges() {
		return nil, fmt.Errorf("otrace.on: handlers must be attached at the top level of the script, before tracing starts")
	}
	specs, err := probeNames(args[0])
	if err != nil {
		return nil, err
	}
	var opts session.ProbeOptions
	if len(args) == 3 {
		if opts, err = options(args[1], "otrace.on"); err != nil {
			return nil, err
		}
	}
	native, isNative := args[len(args)-1].(aggobj.NativeHandler)
	var fn *tengo.CompiledFunction
	if !isNative {
		if fn, err = m.function("otrace.on", args[len(args)-1], 1); err != nil {
			if _, isFn := args[len(args)-1].(*tengo.CompiledFunction); !isFn {
				return nil, fmt.Errorf("otrace.on: want a function or an aggregation's update (c.by(\"pid\")), got %s", args[len(args)-1].TypeName())
			}
			return nil, err
		}
	}
	var events []*event.Event
	for _, spec := range specs {
		evs, err := m.resolve(spec, opts)
		if err != nil {
			return nil, err
		}
		// Probes may overlap ("sched:*" and "sched:sched_switch"): attach
		// once per event, or the handler runs twice for each record.
		for _, ev := range evs {
			if !slices.Contains(events, ev) {
				events = append(events, ev)
			}
		}
	}
	a := &event.Attachment{Probe: strings.Join(specs, ",")}
	if isNative {
		// Runs in Go: no script function, no event object.
		if a.Handler, err = native.Handler(events, m.env.Procs); err != nil {
			return nil, fmt.Errorf("otrace.on(%q): %v", a.Probe, err)
		}
		a.Where = native.String()
	} else {
		a.Where = m.script.Position(fn)
		a.Handler = &eventHandler{m: m, fn: fn, withEvent: fn.NumParameters > 0}
	}
	if err := m.cfg.Session.AttachLive(events, a); err != nil {
		return nil, fmt.Errorf("otrace.on: %v", err)
	}
	for _, ev := range events {
		for len(m.objs) <= ev.ID {
			m.objs = append(m.objs, nil)
		}
		if m.objs[ev.ID] == nil && !isNative {
			m.objs[ev.ID] = eventobj.New(m.env, ev)
		}
	}
	return tengo.UndefinedValue, nil
}

func probeNames(o tengo.Object) ([]string, error) {
	switch v := o.(type) {
	case *tengo.String:
		return []string{v.Value}, nil
	case *tengo.Array:
		return stringList(v.Value)
	case *tengo.ImmutableArray:
		return stringList(v.Value)
	}
	return nil, fmt.Errorf("otrace.on: the probe must be a string like \"sched:sched_switch\" or an array of them, not %s", o.TypeName())
}

func stringList(objs []tengo.Object) ([]string, error) {
	if len(objs) == 0 {
		return nil, fmt.Errorf("otrace.on: the list of probes is empty")
	}
	out := make([]string, len(objs))
	for i, o := range objs {
		s, ok := o.(*tengo.String)
		if !ok {
			return nil, fmt.Errorf("otrace.on: probe %d is %s, not a string", i+1, o.TypeName())
		}
		out[i] = s.Value
	}
	return out, nil
}

// options reads the options map of otrace.on and otrace.counter. Keys
// it does not know are errors, not silently ignored.
func options(o tengo.Object, fn string) (opts session.ProbeOptions, err error) {
	var keys map[string]tengo.Object
	switch v := o.(type) {
	case *tengo.Map:
		keys = v.Value
	case *tengo.ImmutableMap:
		keys = v.Value
	default:
		return opts, fmt.Errorf("%s: options must be a map like {filter: \"prev_state == 1\"}, not %s", fn, o.TypeName())
	}
	var bad []string
	for k, v := range keys {
		switch k {
		case "filter":
			s, ok := v.(*tengo.String)
			if !ok {
				return opts, fmt.Errorf("%s: filter must be a string in the kernel's filter syntax, not %s", fn, v.TypeName())
			}
			opts.Filter = s.Value
		case "stack":
			s, ok := v.(*tengo.String)
			m, known := event.NoStack, false
			if ok {
				m, known = event.ParseStackMode(s.Value)
			}
			if !known || m == event.NoStack {
				return opts, fmt.Errorf("%s: stack must be \"kernel\", \"user\", \"both\" or \"dwarf\", not %s", fn, v)
			}
			opts.Stack = m
		case "stack_size":
			n, err := stackSize(v, fn)
			if err != nil {
				return opts, err
			}
			opts.StackSize = n
		default:
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return opts, fmt.Errorf("%s: unknown option(s) %s; known: filter, stack, stack_size", fn, strings.Join(bad, ", "))
	}
	if opts.StackSize != 0 && opts.Stack != event.DwarfStack {
		return opts, fmt.Errorf("%s: stack_size is the user stack copied for {stack: \"dwarf\"}; add stack: \"dwarf\"", fn)
	}
	return opts, nil
}

// resolve resolves a probe with its options.
func (m *Module) resolve(spec string, o session.ProbeOptions) ([]*event.Event, error) {
	return m.cfg.Session.ResolveWith(spec, o)
}

// function checks that o is a script function taking at most maxParams
// parameters.
func (m *Module) function(what string, o tengo.Object, maxParams int) (*tengo.CompiledFunction, error) {
	fn, ok := o.(*tengo.CompiledFunction)
	if !ok {
		return nil, fmt.Errorf("%s: want a function, got %s", what, o.TypeName())
	}
	if fn.NumParameters > maxParams || (fn.VarArgs && fn.NumParameters > 1) {
		if maxParams == 0 {
			return nil, fmt.Errorf("%s: the function must take no parameters, it takes %d", what, fn.NumParameters)
		}
		return nil, fmt.Errorf("%s: the function takes %d parameters; it gets one, the event: func(e) {...}", what, fn.NumParameters)
	}
	return fn, nil
}

// eventHandler calls a script function with the event object.
type eventHandler struct {
	m         *Module
	fn        *tengo.CompiledFunction
	withEvent bool
}

func (h *eventHandler) HandleEvent(rec *event.Record) error {
	if !h.withEvent {
		_, err := h.m.script.Call0(h.fn)
		return err
	}
	o := h.m.objs[rec.Event.ID]
	o.Point(rec)
	h.m.current = rec
	_, err := h.m.script.Call1(h.fn, o)
	h.m.current = nil
	o.Expire()
	return err
}

// callHandler calls a script function with no arguments (begin, end,
// every).
type callHandler struct {
	m  *Module
	fn *tengo.CompiledFunction
}

func (h *callHandler) HandleEvent(*event.Record) error {
	_, err := h.m.script.Call0(h.fn)
	return err
}

func (m *Module) lifecycle(what string, args []tengo.Object) (*event.Attachment, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("otrace.%s(func() {...}): want 1 argument, got %d", what, len(args))
	}
	fn, err := m.function("otrace."+what, args[0], 0)
	if err != nil {
		return nil, err
	}
	return &event.Attachment{Probe: what, Where: m.script.Position(fn), Handler: &callHandler{m: m, fn: fn}}, nil
}

func (m *Module) begin(args ...tengo.Object) (tengo.Object, error) {
	a, err := m.lifecycle("begin", args)
	if err != nil {
		return nil, err
	}
	if m.cfg.Session.Running() {
		return nil, fmt.Errorf("otrace.begin: tracing has already begun")
	}
	m.cfg.Session.OnBegin(a)
	return tengo.UndefinedValue, nil
}

func (m *Module) end(args ...tengo.Object) (tengo.Object, error) {
	a, err := m.lifecycle("end", args)
	if err != nil {
		return nil, err
	}
	m.cfg.Session.OnEnd(a)
	return tengo.UndefinedValue, nil
}

func (m *Module) every(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("otrace.every(interval, func() {...}): want 2 arguments, got %d", len(args))
	}
	s, ok := args[0].(*tengo.String)
	if !ok {
		return nil, fmt.Errorf("otrace.every: the interval must be a string like \"1s\" or \"250ms\", not %s", args[0].TypeName())
	}
	d, err := time.ParseDuration(s.Value)
	if err != nil || d < time.Millisecond {
		return nil, fmt.Errorf("otrace.every: bad interval %q: want a duration of at least 1ms like \"1s\" or \"250ms\"", s.Value)
	}
	a, err := m.lifecycle("every", args[1:])
	if err != nil {
		return nil, err
	}
	a.Probe = "every " + s.Value
	if err := m.cfg.Session.Every(d, a); err != nil {
		return nil, err
	}
	return tengo.UndefinedValue, nil
}

// exit is otrace.exit([status]): stop tracing; otrace exits with status
// (0 to 255, default 0) unless the run failed otherwise. A tool's usage
// error is otrace.exit(2), as other command-line tools have it.
func (m *Module) exit(args ...tengo.Object) (tengo.Object, error) {
	if len(args) > 1 {
		return nil, fmt.Errorf("otrace.exit([status]): want at most 1 argument, got %d", len(args))
	}
	if len(args) == 1 {
		n, ok := args[0].(*tengo.Int)
		if !ok || n.Value < 0 || n.Value > 255 {
			return nil, fmt.Errorf("otrace.exit(status): the status must be an int from 0 to 255, not %s", args[0])
		}
		m.exitStatus = int(n.Value)
	}
	m.cfg.Session.Stop("otrace.exit() called")
	return tengo.UndefinedValue, nil
}

// ExitStatus is the status the script gave otrace.exit, or 0.
func (m *Module) ExitStatus() int { return m.exitStatus }

func (m *Module) printf(args ...tengo.Object) (tengo.Object, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("otrace.printf(format, args...): want a format")
	}
	f, ok := args[0].(*tengo.String)
	if !ok {
		return nil, fmt.Errorf("otrace.printf: the format must be a string, not %s", args[0].TypeName())
	}
	var s string
	if len(args) == 1 {
		s = f.Value
	} else {
		var err error
		s, err = tengo.Format(f.Value, args[1:]...)
		if err != nil {
			return nil, fmt.Errorf("otrace.printf: %v", err)
		}
	}
	if _, err := io.WriteString(m.cfg.Out, s); err != nil {
		return nil, fmt.Errorf("otrace.printf: %v", err)
	}
	return tengo.UndefinedValue, nil
}
