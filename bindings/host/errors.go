package host

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/parser"

	"otrace/runtime/event"
)

// CompileError is a script that does not parse or compile.
type CompileError struct {
	File      string
	Line, Col int
	Msg       string
	// Source is the offending line of the script, when it could be read.
	Source string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Detail is Error followed by the source line and a caret under the
// column, as compilers print it.
func (e *CompileError) Detail() string {
	if e.Source == "" {
		return e.Error()
	}
	pad := make([]byte, 0, e.Col)
	for i := 0; i < e.Col-1 && i < len(e.Source); i++ {
		if e.Source[i] == '\t' {
			pad = append(pad, '\t')
		} else {
			pad = append(pad, ' ')
		}
	}
	return fmt.Sprintf("%s\n    %s\n    %s^", e.Error(), e.Source, pad)
}

// compileErrors converts what Tengo's parser and compiler return into
// CompileErrors with positions; the first one is returned.
func compileError(err error, src map[string][]byte) error {
	var list parser.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		e := list[0]
		return newCompileError(e.Pos, e.Msg, src)
	}
	var ce *tengo.CompilerError
	if errors.As(err, &ce) {
		return newCompileError(ce.FileSet.Position(ce.Node.Pos()), ce.Err.Error(), src)
	}
	return err
}

func newCompileError(pos parser.SourceFilePos, msg string, src map[string][]byte) *CompileError {
	e := &CompileError{File: pos.Filename, Line: pos.Line, Col: pos.Column, Msg: msg}
	text, ok := src[pos.Filename]
	if !ok {
		text, _ = os.ReadFile(pos.Filename)
	}
	if pos.Line > 0 {
		lines := strings.Split(string(text), "\n")
		if pos.Line <= len(lines) {
			e.Source = strings.TrimRight(lines[pos.Line-1], "\r")
		}
	}
	return e
}

// runtimeError converts Tengo's runtime error text ("Runtime Error: msg\n\tat
// file:line:col\n\tat ...") into a HandlerError with the innermost position
// first. The trampoline's own frame has no position ("-") and is dropped.
func runtimeError(err error) *event.HandlerError {
	lines := strings.Split(err.Error(), "\n")
	he := &event.HandlerError{}
	var msg []string
	for _, l := range lines {
		if at, ok := strings.CutPrefix(l, "\tat "); ok {
			if at == "-" || at == "" {
				continue
			}
			if he.Pos == "" {
				he.Pos = at
			} else {
				he.Trace = append(he.Trace, at)
			}
			continue
		}
		msg = append(msg, l)
	}
	he.Msg = strings.TrimPrefix(strings.Join(msg, "\n"), "Runtime Error: ")
	return he
}

// panicError describes a Go panic inside the VM. Tengo gives no position
// for these; where is the position of the function that was called.
func panicError(r any, where string) *event.HandlerError {
	msg := fmt.Sprint(r)
	switch {
	case strings.Contains(msg, "integer divide by zero"):
		msg = "integer division by zero"
	case strings.Contains(msg, "index out of range") && (strings.Contains(msg, fmt.Sprintf("with length %d", tengo.StackSize)) || strings.Contains(msg, fmt.Sprintf("with length %d", tengo.MaxFrames))):
		// The VM's value stack or frame stack is full: Tengo does not
		// check their bounds.
		msg = "stack overflow: recursion too deep"
	case strings.Contains(msg, "nil pointer dereference"):
		msg = "use of an undefined value (nil global)"
	default:
		msg = "internal error in the script engine: " + msg
	}
	return &event.HandlerError{Msg: msg + " in the function starting here (the script engine gives no exact line)", Pos: where}
}
