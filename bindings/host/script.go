package host

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/parser"
)

// GlobalsSize is the number of global slots a script may use.
const GlobalsSize = 4096

// Reserved globals the trampolines use to pass a call's function,
// argument and result; they are defined before user code so every
// trampoline VM can serve every function.
const (
	fnGlobal  = "__otrace_fn"
	argGlobal = "__otrace_arg"
	retGlobal = "__otrace_ret"
)

// Options says how to compile and run a script.
type Options struct {
	File string // name used in positions, e.g. "trace.tengo" or "-e"
	Src  []byte
	// Globals are predefined names the script sees (e.g. "otrace").
	Globals map[string]tengo.Object
	Modules *Modules
	// MaxAllocs bounds the objects one call may allocate; 0 means 1<<20.
	MaxAllocs int64
	// Timeout bounds one handler call; 0 means 1s.
	Timeout time.Duration
	// InitTimeout bounds the top level; 0 means 10s.
	InitTimeout time.Duration
}

// Script is a compiled script and the VMs that run it. It belongs to one
// goroutine (the session's dispatch goroutine), except Interrupt.
type Script struct {
	opts     Options
	bytecode *tengo.Bytecode
	globals  []tengo.Object
	symbols  *tengo.SymbolTable

	fnSlot, argSlot, retSlot int
	// tramps[depth][nargs] is the VM calling a function with nargs (0 or
	// 1) arguments at a nesting depth; nil until first needed or after an
	// error.
	tramps [][2]*tengo.VM
	depth  int
	dog    *watchdog
}

// Compile parses and compiles a script. Nothing runs. A *CompileError
// carries the position and source line.
func Compile(opts Options) (*Script, error) {
	if opts.MaxAllocs == 0 {
		opts.MaxAllocs = 1 << 20
	}
	if opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	if opts.InitTimeout == 0 {
		opts.InitTimeout = 10 * time.Second
	}
	if opts.Modules == nil {
		opts.Modules = NewModules(nil)
	}
	s := &Script{opts: opts, symbols: tengo.NewSymbolTable(), globals: make([]tengo.Object, GlobalsSize)}
	s.fnSlot = s.symbols.Define(fnGlobal).Index
	s.argSlot = s.symbols.Define(argGlobal).Index
	s.retSlot = s.symbols.Define(retGlobal).Index
	names := make([]string, 0, len(opts.Globals))
	for name := range opts.Globals {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s.globals[s.symbols.Define(name).Index] = opts.Globals[name]
	}

	fileSet := parser.NewFileSet()
	file := fileSet.AddFile(opts.File, -1, len(opts.Src))
	sources := map[string][]byte{opts.File: opts.Src}
	ast, err := parser.NewParser(file, opts.Src, nil).ParseFile()
	if err != nil {
		return nil, compileError(err, sources)
	}
	c := tengo.NewCompiler(file, s.symbols, nil, opts.Modules, nil)
	if err := c.Compile(ast); err != nil {
		for name, src := range opts.Modules.Sources {
			sources[name] = src
		}
		return nil, s.explainImport(compileError(err, sources))
	}
	if s.symbols.MaxSymbols() >= GlobalsSize {
		return nil, fmt.Errorf("%s: too many global variables (%d; at most %d)", opts.File, s.symbols.MaxSymbols(), GlobalsSize)
	}
	s.bytecode = c.Bytecode()
	// A global whose definition failed to run stays nil, and reading a nil
	// global panics the VM: make every slot a value.
	for i := range s.globals {
		if s.globals[i] == nil {
			s.globals[i] = tengo.UndefinedValue
		}
	}
	s.dog = newWatchdog()
	return s, nil
}

var moduleNotFound = regexp.MustCompile(`^module '([^']*)' not found`)

func (s *Script) explainImport(err error) error {
	var ce *CompileError
	if errors.As(err, &ce) {
		if m := moduleNotFound.FindStringSubmatch(ce.Msg); m != nil {
			ce.Msg = s.opts.Modules.Describe(m[1])
		}
	}
	return err
}

// FileSet maps positions in the script's bytecode to files and lines.
func (s *Script) FileSet() *parser.SourceFileSet { return s.bytecode.FileSet }

// Position returns "file:line:col" of a compiled function's start, or "".
func (s *Script) Position(fn *tengo.CompiledFunction) string {
	if fn == nil || len(fn.SourceMap) == 0 {
		return ""
	}
	p := s.bytecode.FileSet.Position(fn.SourcePos(0))
	if !p.IsValid() {
		return ""
	}
	return p.String()
}

// Close stops the watchdog. The script must not be called afterwards.
func (s *Script) Close() { s.dog.close() }

// Interrupt aborts the call running now, if any; safe from any goroutine.
func (s *Script) Interrupt() { s.dog.interrupt() }

// RunMain runs the script's top level once: this is where it registers
// its handlers. A runtime error is returned as *event.HandlerError.
func (s *Script) RunMain() (err error) {
	vm := tengo.NewVM(s.bytecode, s.globals, s.opts.MaxAllocs)
	return s.guard(vm, s.opts.InitTimeout, nil, vm.Run)
}

// Call0 calls fn with no argument and returns its result. Errors are
// *event.HandlerError with the script position; a Go panic in the VM, an
// allocation over budget and a call over time are errors too. The VM that
// failed is discarded.
func (s *Script) Call0(fn tengo.Object) (tengo.Object, error) { return s.call(fn, nil, 0) }

// Call1 calls fn with one argument, like Call0.
func (s *Script) Call1(fn, arg tengo.Object) (tengo.Object, error) { return s.call(fn, arg, 1) }

func (s *Script) call(fn, arg tengo.Object, n int) (tengo.Object, error) {
	d := s.depth
	if d == len(s.tramps) {
		s.tramps = append(s.tramps, [2]*tengo.VM{})
	}
	vm := s.tramps[d][n]
	if vm == nil {
		vm = tengo.NewVM(s.trampoline(n), s.globals, s.opts.MaxAllocs)
		s.tramps[d][n] = vm
	}
	s.globals[s.fnSlot] = fn
	if n == 1 {
		s.globals[s.argSlot] = arg
	}
	s.globals[s.retSlot] = tengo.UndefinedValue
	s.depth++
	err := s.guard(vm, s.opts.Timeout, fn, vm.Run)
	s.depth--
	if err != nil {
		s.tramps[d][n] = nil
		return nil, err
	}
	return s.globals[s.retSlot], nil
}

// trampoline builds the bytecode of a main function that calls the
// function in the fn global with n arguments and stores the result.
func (s *Script) trampoline(n int) *tengo.Bytecode {
	var ins []byte
	ins = append(ins, tengo.MakeInstruction(parser.OpGetGlobal, s.fnSlot)...)
	if n == 1 {
		ins = append(ins, tengo.MakeInstruction(parser.OpGetGlobal, s.argSlot)...)
	}
	ins = append(ins, tengo.MakeInstruction(parser.OpCall, n, 0)...)
	ins = append(ins, tengo.MakeInstruction(parser.OpSetGlobal, s.retSlot)...)
	ins = append(ins, tengo.MakeInstruction(parser.OpSuspend)...)
	return &tengo.Bytecode{
		FileSet:      s.bytecode.FileSet,
		MainFunction: &tengo.CompiledFunction{Instructions: ins},
		Constants:    s.bytecode.Constants,
	}
}
