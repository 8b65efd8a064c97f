package filter

import (
	"errors"
	"fmt"
	"strings"

	"otrace/runtime/event"
	"otrace/runtime/probe"
)

// parser reads a filter by recursive descent:
//
//	or    = and { "||" and }
//	and   = unary { "&&" unary }
//	unary = "!" unary | "(" or ")" | FIELD OP VALUE
//
// Columns in messages are 1-based byte offsets into the filter.
type parser struct {
	src    string
	pos    int
	format *event.Format
	event  string
}

func (p *parser) fail(col int, format string, args ...any) error {
	return &Error{Filter: p.src, Event: p.event, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse() (*node, error) {
	p.skipSpace()
	if p.eof() {
		return nil, p.fail(0, "it is empty; write predicates like FIELD == VALUE joined by && and ||")
	}
	n, err := p.or("", 0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.unexpected()
	}
	return n, nil
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

func (p *parser) at(s string) bool { return strings.HasPrefix(p.src[p.pos:], s) }

// or and and take the operator before them, for messages about what is
// missing after it.
func (p *parser) or(after string, afterAt int) (*node, error) {
	n, err := p.and(after, afterAt)
	for err == nil {
		p.skipSpace()
		if !p.at("||") {
			return n, nil
		}
		at := p.pos
		p.pos += 2
		var m *node
		if m, err = p.and("||", at); err == nil {
			n = join(nodeOr, n, m)
		}
	}
	return nil, err
}

func (p *parser) and(after string, afterAt int) (*node, error) {
	n, err := p.unary(after, afterAt)
	for err == nil {
		p.skipSpace()
		if !p.at("&&") {
			return n, nil
		}
		at := p.pos
		p.pos += 2
		var m *node
		if m, err = p.unary("&&", at); err == nil {
			n = join(nodeAnd, n, m)
		}
	}
	return nil, err
}

func (p *parser) unary(after string, afterAt int) (*node, error) {
	p.skipSpace()
	if p.eof() {
		if after == "(" {
			return nil, p.fail(afterAt+1, "unbalanced parentheses: the \"(\" at column %d is never closed", afterAt+1)
		}
		return nil, p.fail(afterAt+1, "nothing after %q at column %d; add a predicate or remove the %q", after, afterAt+1, after)
	}
	switch c := p.src[p.pos]; {
	case c == '!':
		at := p.pos
		p.pos++
		k, err := p.unary("!", at)
		if err != nil {
			return nil, err
		}
		return &node{kind: nodeNot, kids: []*node{k}}, nil
	case c == '(':
		open := p.pos
		p.pos++
		p.skipSpace()
		if p.at(")") {
			return nil, p.fail(open+1, "empty parentheses at column %d", open+1)
		}
		n, err := p.or("(", open)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.eof() {
			return nil, p.fail(open+1, "unbalanced parentheses: the \"(\" at column %d is never closed", open+1)
		}
		if !p.at(")") {
			return nil, p.unexpected()
		}
		p.pos++
		return n, nil
	case isIdent(c):
		return p.pred()
	}
	col := p.pos + 1
	if after == "" || after == "(" {
		return nil, p.fail(col, "expected a predicate FIELD OP VALUE at column %d, found %s", col, p.token())
	}
	return nil, p.fail(col, "expected a predicate after %q at column %d, found %s", after, col, p.token())
}

// unexpected reports what follows a complete predicate or group.
func (p *parser) unexpected() error {
	col := p.pos + 1
	switch {
	case p.at(")"):
		return p.fail(col, "unbalanced parentheses: the \")\" at column %d closes nothing", col)
	case p.at("&") || p.at("|"):
		return p.fail(col, "unexpected %s at column %d; join predicates with && or ||", p.token(), col)
	case p.pos >= 2 && (p.src[p.pos-1] == '"' || p.src[p.pos-1] == '\'') && p.src[p.pos-2] == '\\':
		return p.fail(col, "unexpected %s at column %d; quotes do not escape: put a string holding \" in single quotes, one holding ' in double quotes", p.token(), col)
	case p.at("."):
		return p.fail(col, "unexpected %s at column %d; values are integers or quoted strings", p.token(), col)
	}
	return p.fail(col, "unexpected %s at column %d; join predicates with && or ||", p.token(), col)
}

// token quotes the text at the current position, up to a space, for
// messages.
func (p *parser) token() string {
	s := p.src[p.pos:]
	if i := strings.IndexFunc(s, isSpaceRune); i >= 0 {
		s = s[:i]
	}
	if len(s) > 16 {
		s = s[:16] + "..."
	}
	return fmt.Sprintf("%q", s)
}

func (p *parser) pred() (*node, error) {
	start := p.pos
	for p.pos < len(p.src) && isIdent(p.src[p.pos]) {
		p.pos++
	}
	name := p.src[start:p.pos]
	fld, err := p.field(name, start+1)
	if err != nil {
		return nil, err
	}
	if p.at(".function") {
		return nil, p.fail(p.pos+1, "%s.function compares with a kernel function, which needs the kernel's symbols; otrace cannot evaluate it on a recording, compare %s with an address instead", name, name)
	}
	p.skipSpace()
	opAt := p.pos
	o, ok := p.op()
	if !ok {
		hint := ""
		if p.at("=") {
			hint = " (== compares)"
		}
		return nil, p.fail(opAt+1, "expected an operator after %q at column %d: one of == != < <= > >= & ~%s", name, opAt+1, hint)
	}
	p.skipSpace()
	valAt := p.pos
	if p.eof() {
		return nil, p.fail(valAt+1, "expected a value after %q at column %d", o, valAt+1)
	}
	switch c := p.src[p.pos]; {
	case c == '"' || c == '\'':
		end := strings.IndexByte(p.src[p.pos+1:], c)
		if end < 0 {
			return nil, p.fail(valAt+1, "missing closing %c for the string at column %d", c, valAt+1)
		}
		text := p.src[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		return p.strPred(fld, o, opAt, text, valAt)
	case c == '-' || isDigit(c):
		end := p.pos + 1
		for end < len(p.src) && isAlnum(p.src[end]) {
			end++
		}
		text := p.src[p.pos:end]
		p.pos = end
		return p.intPred(fld, o, opAt, text, valAt)
	case isString(fld) && isIdent(c):
		end := p.pos
		for end < len(p.src) && isIdent(p.src[end]) {
			end++
		}
		return nil, p.fail(valAt+1, "put the string at column %d in quotes: %s %s %q", valAt+1, name, o, p.src[p.pos:end])
	}
	return nil, p.fail(valAt+1, "expected a value after %q at column %d, found %s", o, valAt+1, p.token())
}

func (p *parser) op() (op, bool) {
	if p.at("&&") || p.at("||") {
		return 0, false
	}
	for _, o := range ops {
		if s := o.String(); p.at(s) {
			p.pos += len(s)
			return o, true
		}
	}
	return 0, false
}

// field resolves a field name the way the kernel does: the event's own
// fields first, then its pseudo-fields, which otrace refuses.
func (p *parser) field(name string, col int) (*event.Field, error) {
	if f := p.format.Field(name); f != nil {
		if why := unsupported(f); why != "" {
			return nil, p.fail(col, "%s", why)
		}
		return f, nil
	}
	if what, ok := pseudoFields[name]; ok {
		return nil, p.fail(col, "%s is the kernel's stand-in for %s, which is not in the payload, so otrace cannot evaluate it on a recording; test it in the handler instead", name, what)
	}
	var names, common []string
	for i := range p.format.Fields {
		if n := p.format.Fields[i].Name; event.IsCommon(n) {
			common = append(common, n)
		} else {
			names = append(names, n)
		}
	}
	names = append(names, common...)
	hint := ""
	if close := probe.Suggest(name, names, 3); len(close) > 0 {
		hint = " (did you mean " + strings.Join(close, " or ") + "?)"
	}
	return nil, p.fail(col, "no field %q in %s%s; fields: %s", name, p.event, hint, strings.Join(names, ", "))
}

func (p *parser) strPred(f *event.Field, o op, opAt int, text string, valAt int) (*node, error) {
	if !isString(f) {
		if o == opGlob {
			return nil, p.fail(opAt+1, "~ matches strings, and %s is a number (%s); use ==, !=, <, <=, >, >= or &", f.Name, describe(f))
		}
		if _, err := parseNumber(text, f.Signed); err == nil {
			return nil, p.fail(valAt+1, "%s is a number (%s); write the value at column %d without quotes: %s %s %s", f.Name, describe(f), valAt+1, f.Name, o, text)
		}
		return nil, p.fail(valAt+1, "%s is a number (%s); compare it with a number, not the string at column %d", f.Name, describe(f), valAt+1)
	}
	if o != opEQ && o != opNE && o != opGlob {
		return nil, p.fail(opAt+1, "%s is a string (%s); strings compare with ==, != and ~, not %s (column %d)", f.Name, describe(f), o, opAt+1)
	}
	if len(text) > maxString {
		return nil, p.fail(valAt+1, "the string at column %d is %d bytes; the kernel takes at most %d", valAt+1, len(text), maxString)
	}
	m := newStrMatch(o, text)
	if o == opGlob {
		if err := p.checkGlob(f, m, valAt); err != nil {
			return nil, err
		}
	}
	return &node{kind: nodePred, pred: &pred{field: f, op: o, str: m}}, nil
}

// checkGlob refuses the ~ patterns whose meaning in the kernel is not what
// they say; see the package comment.
func (p *parser) checkGlob(f *event.Field, m strMatch, valAt int) error {
	bang, body := "", m.text
	if m.not {
		bang, body = "!", body[1:]
	}
	if m.kind != matchFull && body != "" && isDigit(body[0]) {
		return p.fail(valAt+1, "the kernel reads a ~ pattern that starts with a digit as a plain string, not a glob, so %q would match only itself; write %q to glob", m.text, bang+"["+body[:1]+"]"+body[1:])
	}
	if m.kind == matchSuffix && m.pat != "" && f.Kind == event.Array {
		first := "[" + m.pat[:1] + "]"
		if m.pat[0] == '!' {
			first = `\!`
		}
		return p.fail(valAt+1, "the kernel's suffix match on the fixed-size array %s compares the array's last bytes, not the string's, so %q matches only strings that fill it; write %q, a full glob that works", f.Name, m.text, bang+"*"+first+m.pat[1:])
	}
	return nil
}

func (p *parser) intPred(f *event.Field, o op, opAt int, text string, valAt int) (*node, error) {
	if isString(f) {
		return nil, p.fail(valAt+1, "%s is a string (%s); put the value at column %d in quotes: %s %s %q", f.Name, describe(f), valAt+1, f.Name, o, text)
	}
	if o == opGlob {
		return nil, p.fail(opAt+1, "~ matches strings, and %s is a number (%s); use ==, !=, <, <=, >, >= or &", f.Name, describe(f))
	}
	if len(text) > maxNumber {
		return nil, p.fail(valAt+1, "the number at column %d is %d characters; the kernel reads at most %d", valAt+1, len(text), maxNumber)
	}
	v, err := parseNumber(text, f.Signed)
	switch {
	case errors.Is(err, errNegative):
		return nil, p.fail(valAt+1, "%s is unsigned (%s), so it cannot be compared with %s (column %d)", f.Name, describe(f), text, valAt+1)
	case errors.Is(err, errRange):
		kind := "unsigned"
		if f.Signed {
			kind = "signed"
		}
		return nil, p.fail(valAt+1, "%s at column %d is out of range: the kernel reads values for %s (%s) as %s 64-bit integers", text, valAt+1, f.Name, describe(f), kind)
	case err != nil:
		return nil, p.fail(valAt+1, "%q at column %d is not a number; write decimal, 0x hex or 0-prefixed octal", text, valAt+1)
	}
	return &node{kind: nodePred, pred: &pred{field: f, op: o, num: v}}, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' }

func isIdent(c byte) bool { return isAlnum(c) || c == '_' }
