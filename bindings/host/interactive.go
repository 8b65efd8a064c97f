package host

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/parser"
)

// Hidden globals of an interactive script: the function expression
// statements are wrapped in, and the names that keep the slots of
// forgotten globals reserved.
const (
	showGlobal  = "__otrace_show"
	slotPrefix  = "__otrace_slot"
	hiddenNames = "__otrace_"
)

// Interactive is a script compiled one input at a time, as a REPL types
// it. Every input compiles against the same symbol table, globals and
// constant pool, so variables, functions and imported modules persist
// from one input to the next, and the functions an input defines can be
// called through the Script's trampolines like those of a script file.
//
// The rules that keep it safe (see notes/tengo.md, section 5):
//   - A failed compile leaves nothing behind: the symbol table is rebuilt
//     as it was, and the constants it added are dropped.
//   - A successful compile keeps its constants, even when the input then
//     fails at run time, since functions it made may already be attached;
//     the constant pool only grows, and each growth starts a new
//     generation: the trampoline VMs, which hold the pool, are rebuilt.
//   - An input that fails at run time keeps its effects on values, but
//     the names it defined are forgotten (their slots stay reserved, as
//     closures it made may use them), so the names visible are exactly
//     those of the inputs that succeeded.
//   - Every global slot holds a value (undefined when never assigned), and
//     a run is guarded like a handler call: a Go panic (1/0), an abort
//     (Interrupt) or a runtime error becomes an error, never a crash.
//
// Like Script, an Interactive belongs to one goroutine, except Interrupt.
type Interactive struct {
	*Script
	shown []tengo.Object
	gen   int
	// LineTimeout bounds one input's run; 0 means no limit beyond
	// Interrupt.
	LineTimeout time.Duration
}

// IncompleteError is an input that ends in the middle of a construct (an
// open bracket, block or raw string): more lines may complete it.
type IncompleteError struct{ Err *CompileError }

func (e *IncompleteError) Error() string { return e.Err.Error() }
func (e *IncompleteError) Unwrap() error { return e.Err }

// Result is what an input produced.
type Result struct {
	// Values are the values of its top-level expression statements, in
	// order, except undefined ones.
	Values []tengo.Object
	// Defined are the global names it added.
	Defined []string
	// Inspection is true when the input only evaluates expressions and
	// calls nothing (such as "n" or "m[k]"): it changes no state.
	Inspection bool
}

// NewInteractive makes an interactive script with nothing compiled yet.
// opts.Src and opts.File are ignored; each input names its own file.
func NewInteractive(opts Options) (*Interactive, error) {
	in := &Interactive{}
	globals := make(map[string]tengo.Object, len(opts.Globals)+1)
	for k, v := range opts.Globals {
		globals[k] = v
	}
	globals[showGlobal] = &tengo.UserFunction{Name: "show", Value: func(args ...tengo.Object) (tengo.Object, error) {
		if len(args) == 1 && args[0] != tengo.UndefinedValue {
			in.shown = append(in.shown, args[0])
		}
		return tengo.UndefinedValue, nil
	}}
	opts.Globals = globals
	opts.File = "<repl>"
	opts.Src = nil
	s, err := Compile(opts)
	if err != nil {
		return nil, err
	}
	in.Script = s
	return in, nil
}

// Generation counts how many times the constant pool grew.
func (in *Interactive) Generation() int { return in.gen }

// Eval compiles and runs one input, named name in positions ("in[3]").
// A parse error at the end of the input is an *IncompleteError; other
// compile errors are *CompileError; a run that fails returns the Result
// so far and an *event.HandlerError.
func (in *Interactive) Eval(name string, src []byte) (Result, error) {
	var res Result
	if err := checkComplete(name, src); err != nil {
		return res, err
	}
	s := in.Script
	file := s.bytecode.FileSet.AddFile(name, -1, len(src))
	ast, err := parser.NewParser(file, src, nil).ParseFile()
	if err != nil {
		return res, compileError(err, map[string][]byte{name: src})
	}
	res.Inspection = inspection(ast)
	showExpressions(ast)

	before := in.globalNames()
	limit := s.symbols.MaxSymbols()
	c := tengo.NewCompiler(file, s.symbols, s.bytecode.Constants, s.opts.Modules, nil)
	if err := c.Compile(ast); err != nil {
		in.rebuildSymbols(before, limit)
		sources := map[string][]byte{name: src}
		for n, text := range s.opts.Modules.Sources {
			sources[n] = text
		}
		return res, s.explainImport(compileError(err, sources))
	}
	if s.symbols.MaxSymbols() >= GlobalsSize {
		in.rebuildSymbols(before, limit)
		return res, fmt.Errorf("%s: too many global variables (at most %d)", name, GlobalsSize)
	}
	bc := c.Bytecode()
	if len(bc.Constants) != len(s.bytecode.Constants) {
		// The functions this input defines live in the new constants:
		// keep them now, whatever the run does.
		s.bytecode.Constants = bc.Constants
		s.tramps = nil
		in.gen++
	}
	for i := range s.globals {
		if s.globals[i] == nil {
			s.globals[i] = tengo.UndefinedValue
		}
	}

	in.shown = in.shown[:0]
	vm := tengo.NewVM(bc, s.globals, s.opts.MaxAllocs)
	file0 := s.opts.File
	s.opts.File = name // where a panic without a position is reported
	limitTime := in.LineTimeout
	if limitTime <= 0 {
		limitTime = 365 * 24 * time.Hour
	}
	err = s.guard(vm, limitTime, nil, vm.Run)
	s.opts.File = file0
	res.Values = append([]tengo.Object(nil), in.shown...)
	in.shown = in.shown[:0]
	if err != nil {
		in.rebuildSymbols(before, s.symbols.MaxSymbols())
		return res, err
	}
	for n := range in.globalNames() {
		if _, ok := before[n]; !ok && !strings.HasPrefix(n, hiddenNames) {
			res.Defined = append(res.Defined, n)
		}
	}
	sort.Strings(res.Defined)
	return res, nil
}

// checkComplete parses src on its own to tell an input that needs more
// lines from one that is wrong.
func checkComplete(name string, src []byte) error {
	fs := parser.NewFileSet()
	f := fs.AddFile(name, -1, len(src))
	_, err := parser.NewParser(f, src, nil).ParseFile()
	var list parser.ErrorList
	if err == nil || !errors.As(err, &list) || len(list) == 0 {
		return nil
	}
	msg := list[0].Msg
	if strings.Contains(msg, "found 'EOF'") || strings.HasPrefix(msg, "raw string literal not terminated") ||
		strings.HasPrefix(msg, "comment not terminated") {
		ce, _ := compileError(err, map[string][]byte{name: src}).(*CompileError)
		if ce != nil {
			return &IncompleteError{Err: ce}
		}
	}
	return nil
}

// showExpressions wraps each top-level expression statement e into
// __otrace_show(e), which keeps its value for the caller to print.
func showExpressions(file *parser.File) {
	for i, st := range file.Stmts {
		es, ok := st.(*parser.ExprStmt)
		if !ok {
			continue
		}
		pos := es.Expr.Pos()
		file.Stmts[i] = &parser.ExprStmt{Expr: &parser.CallExpr{
			Func:   &parser.Ident{Name: showGlobal, NamePos: pos},
			LParen: pos,
			Args:   []parser.Expr{es.Expr},
			RParen: es.Expr.End(),
		}}
	}
}

// inspection reports whether every statement is an expression that calls
// nothing and defines no function.
func inspection(file *parser.File) bool {
	if len(file.Stmts) == 0 {
		return false
	}
	for _, st := range file.Stmts {
		es, ok := st.(*parser.ExprStmt)
		if !ok || !pure(es.Expr) {
			return false
		}
	}
	return true
}

// pure reports whether evaluating e can change nothing: names, literals,
// selectors, indexes and operators over them.
func pure(e parser.Expr) bool {
	switch v := e.(type) {
	case *parser.Ident, *parser.IntLit, *parser.FloatLit, *parser.StringLit, *parser.CharLit,
		*parser.BoolLit, *parser.UndefinedLit:
		return true
	case *parser.SelectorExpr:
		return pure(v.Expr) && pure(v.Sel)
	case *parser.IndexExpr:
		return pure(v.Expr) && pure(v.Index)
	case *parser.ParenExpr:
		return pure(v.Expr)
	case *parser.BinaryExpr:
		return pure(v.LHS) && pure(v.RHS)
	case *parser.UnaryExpr:
		return pure(v.Expr)
	}
	return false
}

// globalNames maps the visible global names to their slots.
func (in *Interactive) globalNames() map[string]int {
	out := map[string]int{}
	for _, name := range in.symbols.Names() {
		sym, _, ok := in.symbols.Resolve(name, false)
		if ok && sym.Scope == tengo.ScopeGlobal {
			out[name] = sym.Index
		}
	}
	return out
}

// rebuildSymbols replaces the symbol table with one that defines keep's
// names at their slots and reserves every other slot below limit. Tengo's
// symbol table cannot forget a name, so it is rebuilt; definitions are
// sequential, so defining slot by slot reproduces every index.
func (in *Interactive) rebuildSymbols(keep map[string]int, limit int) {
	byIndex := make([]string, limit)
	for name, i := range keep {
		if i < limit {
			byIndex[i] = name
		}
	}
	t := tengo.NewSymbolTable()
	for i, name := range byIndex {
		if name == "" {
			name = fmt.Sprintf("%s%d", slotPrefix, i)
		}
		t.Define(name)
	}
	for i, fn := range tengo.GetAllBuiltinFunctions() {
		t.DefineBuiltin(i, fn.Name)
	}
	in.symbols = t
}

// Names lists the names an input can use: globals, then builtin
// functions, without the host's hidden ones.
func (in *Interactive) Names() []string {
	var out []string
	for _, name := range in.symbols.Names() {
		if !strings.HasPrefix(name, hiddenNames) {
			out = append(out, name)
		}
	}
	return out
}

// Global returns the value of a visible global variable.
func (in *Interactive) Global(name string) (tengo.Object, bool) {
	if strings.HasPrefix(name, hiddenNames) {
		return nil, false
	}
	sym, _, ok := in.symbols.Resolve(name, false)
	if !ok || sym.Scope != tengo.ScopeGlobal {
		return nil, false
	}
	return in.globals[sym.Index], true
}

// Globals lists the visible global variables and their values.
func (in *Interactive) Globals() map[string]tengo.Object {
	out := map[string]tengo.Object{}
	for name, i := range in.globalNames() {
		if !strings.HasPrefix(name, hiddenNames) {
			out[name] = in.globals[i]
		}
	}
	return out
}
