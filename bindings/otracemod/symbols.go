package otracemod

import (
	"fmt"

	"github.com/d5/tengo/v2"
)

// sym is otrace.sym(addr, [pid]): the name of a user-space address
// ("func+0x1f"), in the process of the event being handled unless pid is
// given; the address itself when it cannot be named.
func (m *Module) sym(args ...tengo.Object) (tengo.Object, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, fmt.Errorf("otrace.sym(addr, [pid]): want 1 or 2 arguments, got %d", len(args))
	}
	addr, ok := args[0].(*tengo.Int)
	if !ok {
		return nil, fmt.Errorf("otrace.sym: the address must be an int, not %s", args[0].TypeName())
	}
	var pid int32
	var when uint64
	if m.current != nil {
		pid, when = m.current.PID, m.current.Time
	}
	if len(args) == 2 {
		p, ok := args[1].(*tengo.Int)
		if !ok {
			return nil, fmt.Errorf("otrace.sym: the pid must be an int, not %s", args[1].TypeName())
		}
		pid, when = int32(p.Value), m.cfg.Session.Now()
	} else if m.current == nil {
		return nil, fmt.Errorf("otrace.sym: outside a handler, give the pid: otrace.sym(addr, pid)")
	}
	return m.name(false, pid, when, uint64(addr.Value)), nil
}

// ksym is otrace.ksym(addr): the name of a kernel address.
func (m *Module) ksym(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("otrace.ksym(addr): want 1 argument, got %d", len(args))
	}
	addr, ok := args[0].(*tengo.Int)
	if !ok {
		return nil, fmt.Errorf("otrace.ksym: the address must be an int, not %s", args[0].TypeName())
	}
	return m.name(true, 0, 0, uint64(addr.Value)), nil
}

func (m *Module) name(kernel bool, pid int32, when, addr uint64) tengo.Object {
	st := m.env.Stacks
	id := st.Intern(kernel, pid, when, []uint64{addr})
	if fs := st.Frames(id); len(fs) > 0 {
		return &tengo.String{Value: fs[0].Name()}
	}
	return &tengo.String{Value: fmt.Sprintf("0x%x", addr)}
}

// intern is otrace.intern(str): a small int standing for str, the same
// for equal strings, for compact keys and values.
func (m *Module) intern(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("otrace.intern(str): want 1 argument, got %d", len(args))
	}
	s, ok := args[0].(*tengo.String)
	if !ok {
		return nil, fmt.Errorf("otrace.intern: want a string, not %s", args[0].TypeName())
	}
	return m.env.Values.Int(int64(m.strs.IDOf(s.Value))), nil
}

// str is otrace.str(id): the string otrace.intern gave id for.
func (m *Module) str(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("otrace.str(id): want 1 argument, got %d", len(args))
	}
	id, ok := args[0].(*tengo.Int)
	if !ok || id.Value < 0 || id.Value > 1<<32-1 {
		return nil, fmt.Errorf("otrace.str: want an id from otrace.intern, not %s", args[0])
	}
	s, ok := m.strs.Str(uint32(id.Value))
	if !ok {
		return nil, fmt.Errorf("otrace.str: no string has id %d", id.Value)
	}
	return m.env.Values.String(s), nil
}

// process is otrace.process(pid): what the process model knows of a
// process, exited ones included — {pid, ppid, comm, exe, start, exit}
// (times in ns, 0 when unknown or still running) — or undefined.
func (m *Module) process(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("otrace.process(pid): want 1 argument, got %d", len(args))
	}
	pid, ok := args[0].(*tengo.Int)
	if !ok {
		return nil, fmt.Errorf("otrace.process: the pid must be an int, not %s", args[0].TypeName())
	}
	p := m.env.Procs.Process(int32(pid.Value))
	if p == nil {
		return tengo.UndefinedValue, nil
	}
	return &tengo.ImmutableMap{Value: map[string]tengo.Object{
		"pid":   &tengo.Int{Value: int64(p.PID)},
		"ppid":  &tengo.Int{Value: int64(p.PPID)},
		"comm":  &tengo.String{Value: p.Comm},
		"exe":   &tengo.String{Value: p.Exe},
		"start": &tengo.Int{Value: int64(p.Start)},
		"exit":  &tengo.Int{Value: int64(p.Exit)},
	}}, nil
}
