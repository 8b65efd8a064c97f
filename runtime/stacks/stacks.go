// Package stacks owns a run's stacks: it interns the callchains handlers
// ask for (runtime/intern), remembers which process image each belongs to,
// and names their frames on demand — late, through runtime/symbols and the
// process model as it was when the stack was taken — caching the result.
package stacks

import (
	"strings"

	"otrace/runtime/intern"
	"otrace/runtime/process"
	"otrace/runtime/symbols"
)

// Resolver names addresses; *symbols.Resolver is one.
type Resolver interface {
	Prepare(obj symbols.Object)
	User(obj symbols.Object, addr uint64) []symbols.Frame
	Kernel(addr uint64) []symbols.Frame
	JIT(pid int32, addr uint64) ([]symbols.Frame, bool)
}

// Table is the stacks of one run. It belongs to the session's dispatch
// goroutine.
type Table struct {
	ids    *intern.Stacks
	procs  *process.Table
	res    Resolver
	frames map[intern.StackID][]symbols.Frame
	text   map[intern.StackID]string
	fmtBuf []byte     // Format's scratch
	uw     *unwinding // DWARF unwinding, made on first use (unwind.go)
}

// New returns an empty table naming frames with res, mappings from procs.
func New(procs *process.Table, res Resolver) *Table {
	return &Table{ids: intern.NewStacks(), procs: procs, res: res,
		frames: map[intern.StackID][]symbols.Frame{}, text: map[intern.StackID]string{}}
}

// Intern returns the id of a kernel or user stack of process pid taken
// at time t (addresses leaf first, no context markers).
func (t *Table) Intern(kernel bool, pid int32, time uint64, addrs []uint64) intern.StackID {
	sp := intern.Space{Kernel: true}
	if !kernel {
		sp = intern.Space{PID: pid}
		if p := t.procs.Process(pid); p != nil {
			sp.Exec = p.Execs
		}
	}
	return t.ids.Intern(sp, time, addrs)
}

// Addrs returns a stack's addresses, leaf first.
func (t *Table) Addrs(id intern.StackID) []uint64 {
	_, _, a := t.ids.Stack(id)
	return a
}

// IsKernel reports whether id is a kernel stack.
func (t *Table) IsKernel(id intern.StackID) bool {
	sp, _, _ := t.ids.Stack(id)
	return sp.Kernel
}

// Len is the number of distinct stacks so far.
func (t *Table) Len() int { return t.ids.Len() }

// Mmap lets the resolver open a newly mapped file at once, so it still
// resolves after the process exits or the file is deleted.
func (t *Table) Mmap(m process.Mmap) {
	if t.res != nil && m.Prot&4 != 0 && m.Path != "" {
		t.res.Prepare(symbols.Object{PID: m.PID, Path: m.Path, BuildID: m.BuildID, Start: m.Start, Pgoff: m.Pgoff})
	}
}

// jitAdder is a Resolver that takes functions a runtime announced
// (*symbols.Resolver is one).
type jitAdder interface {
	AddJIT(pid int32, start, size uint64, name string)
}

// AddJIT tells the resolver that process pid has compiled code named name
// at [start, start+size), as a collector learnt it (the .NET runtime's
// method events on Windows); stacks name it like perf map entries.
// Resolvers that take no such functions ignore it.
func (t *Table) AddJIT(pid int32, start, size uint64, name string) {
	if a, ok := t.res.(jitAdder); ok {
		a.AddJIT(pid, start, size, name)
	}
}

// Frames names every frame of a stack, leaf first; an address with
// inlined calls gives several frames. Callers' addresses are return
// addresses, so they are looked up one byte earlier, inside the call.
func (t *Table) Frames(id intern.StackID) []symbols.Frame {
	if f, ok := t.frames[id]; ok {
		return f
	}
	sp, time, addrs := t.ids.Stack(id)
	var out []symbols.Frame
	for i, a := range addrs {
		// The resolver's frames are its cache: copy before setting the
		// address the stack shows.
		start := len(out)
		out = append(out, t.framesAt(sp, time, i, a)...)
		for j := start; j < len(out); j++ {
			out[j].Addr = a
		}
	}
	t.frames[id] = out
	return out
}

// framesAt returns the resolver's frames for addrs[i] == a of a stack (its
// cache: not to be modified).
func (t *Table) framesAt(sp intern.Space, time uint64, i int, a uint64) []symbols.Frame {
	look := a
	if i > 0 && look > 0 {
		look--
	}
	fs := t.resolve(sp, time, look)
	if look != a && len(fs) > 0 && fs[0].Func == "" {
		// A "return address" that is really the start of a signal
		// return trampoline (pushed by the kernel, not by a call) has
		// nothing before it: name it by itself.
		if at := t.resolve(sp, time, a); len(at) > 0 && at[0].Func != "" {
			fs = at
		}
	}
	return fs
}

func (t *Table) resolve(sp intern.Space, time, addr uint64) []symbols.Frame {
	unknown := func() []symbols.Frame { return []symbols.Frame{{Addr: addr, Module: "[unknown]"}} }
	if t.res == nil {
		return unknown()
	}
	if sp.Kernel {
		return t.res.Kernel(addr)
	}
	// Anonymous executable memory ("//anon", JIT code) has no file: a
	// perf map may name it.
	if m := t.procs.MappingAt(sp.PID, addr, time); m != nil && (isFile(m.Path) || m.Path == "[vdso]") {
		return t.res.User(symbols.Object{PID: sp.PID, Path: m.Path, BuildID: m.BuildID, Start: m.Start, Pgoff: m.Pgoff}, addr)
	}
	if fs, ok := t.res.JIT(sp.PID, addr); ok {
		return fs
	}
	return unknown()
}

// isFile reports whether a mapping's path names a file ("//anon" does
// not): a Linux path, or a Windows one from an ETW image load.
func isFile(path string) bool {
	return strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "//") || symbols.IsWindowsPath(path)
}

// Format prints a stack one frame per line, leaf first, as bpftrace does:
// "\tfunc+0x1f (module)", the module by its file name (of a Linux or a
// Windows path). It is computed once per stack.
func (t *Table) Format(id intern.StackID) string {
	if s, ok := t.text[id]; ok {
		return s
	}
	// Straight from the resolver's frames: a copy of every frame of every
	// stack (Frames) was most of what printing a large count allocated.
	b := t.fmtBuf[:0]
	sp, time, addrs := t.ids.Stack(id)
	for i, a := range addrs {
		for _, f := range t.framesAt(sp, time, i, a) {
			f.Addr = a
			b = append(b, '\t')
			b = f.AppendName(b)
			if f.Module != "" {
				b = append(b, " ("...)
				b = append(b, symbols.ModuleBase(f.Module)...)
				b = append(b, ')')
			}
			b = append(b, '\n')
		}
	}
	t.fmtBuf = b
	s := string(b)
	t.text[id] = s
	return s
}

// Mapping returns the file mapping that held addr in the process image of
// user stack id when the stack was taken (for exporters that record
// build-ids), or false for kernel stacks and unmapped addresses.
func (t *Table) Mapping(id intern.StackID, addr uint64) (process.Mapping, bool) {
	sp, time, _ := t.ids.Stack(id)
	if sp.Kernel {
		return process.Mapping{}, false
	}
	m := t.procs.MappingAt(sp.PID, addr, time)
	if m == nil {
		return process.Mapping{}, false
	}
	return *m, true
}
