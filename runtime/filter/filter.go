package filter

import (
	"fmt"
	"strings"

	"otrace/runtime/event"
)

// maxLen is the longest filter the kernel takes: both the tracefs filter
// file and PERF_EVENT_IOC_SET_FILTER copy at most a page, NUL included.
const maxLen = 4095

// Filter is a compiled filter for one event format. It is immutable and
// safe to Match from several goroutines.
type Filter struct {
	text  string // normalized, see String
	need  int    // payload bytes the fixed-offset fields occupy
	match func(raw []byte) bool
}

// Error is a filter that does not compile.
type Error struct {
	Filter string // the filter as written
	Event  string // "sched:sched_switch"
	Column int    // 1-based byte column of the problem; 0 for the filter as a whole
	Msg    string // what is wrong and what to write instead
}

func (e *Error) Error() string { return fmt.Sprintf("filter %q: %s", e.Filter, e.Msg) }

// Compile parses expr in the kernel's filter syntax and checks it against
// the event format f: every field must exist and every value must suit its
// field's type. Errors are *Error.
func Compile(expr string, f *event.Format) (*Filter, error) {
	ev := eventName(f)
	fail := func(col int, format string, args ...any) error {
		return &Error{Filter: expr, Event: ev, Column: col, Msg: fmt.Sprintf(format, args...)}
	}
	if f == nil {
		return nil, fail(0, "no event format to check it against")
	}
	if len(expr) > maxLen {
		return nil, fail(0, "it is %d bytes; the kernel takes at most %d", len(expr), maxLen)
	}
	if i := strings.IndexByte(expr, 0); i >= 0 {
		return nil, fail(i+1, "NUL byte at column %d", i+1)
	}
	if strings.TrimFunc(expr, isSpaceRune) == "0" {
		return nil, fail(0, `"0" is how tracefs spells "no filter"; leave the filter out instead`)
	}
	p := &parser{src: expr, format: f, event: ev}
	root, err := p.parse()
	if err != nil {
		return nil, err
	}
	flt := &Filter{text: root.String()}
	if len(flt.text) > maxLen {
		// Collectors hand the kernel String, not expr.
		return nil, fail(0, "normalized it is %d bytes, more than the %d the kernel takes; shorten it", len(flt.text), maxLen)
	}
	flt.match = root.compile(&flt.need)
	return flt, nil
}

// Match reports whether the raw payload passes the filter. A payload too
// short to hold the fields the filter reads does not match. Match does not
// allocate.
func (f *Filter) Match(raw []byte) bool {
	if len(raw) < f.need {
		return false
	}
	return f.match(raw)
}

// String returns the filter in a normalized form: single spaces around
// operators, numbers in decimal (masks of & in hex), strings in double
// quotes where they contain none, parentheses only where precedence needs
// them and around what ! negates. Compiling it again gives an equivalent
// filter, and the kernel reads it with the same meaning.
func (f *Filter) String() string { return f.text }

func eventName(f *event.Format) string {
	switch {
	case f == nil:
		return ""
	case f.System == "":
		return f.Name
	}
	return f.System + ":" + f.Name
}

// isSpace is the kernel's isspace for ASCII.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isSpaceRune(r rune) bool { return r < 0x80 && isSpace(byte(r)) }
