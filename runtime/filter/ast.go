package filter

import (
	"strconv"
	"strings"

	"otrace/runtime/event"
)

// op is a comparison operator.
type op uint8

const (
	opEQ op = iota
	opNE
	opLT
	opLE
	opGT
	opGE
	opBand
	opGlob
)

// ops lists the operators in the order the lexer tries them: a two-byte
// operator before its one-byte prefix.
var ops = []op{opEQ, opNE, opLE, opLT, opGE, opGT, opGlob, opBand}

func (o op) String() string {
	return [...]string{"==", "!=", "<", "<=", ">", ">=", "&", "~"}[o]
}

type nodeKind uint8

const (
	nodePred nodeKind = iota
	nodeAnd
	nodeOr
	nodeNot
)

// node is the parsed filter: a predicate, or a logical operator over
// nodes.
type node struct {
	kind nodeKind
	kids []*node // and, or: two or more; not: one
	pred *pred
}

// pred is one FIELD OP VALUE, checked against the field's type.
type pred struct {
	field *event.Field
	op    op
	num   uint64   // integer fields: the value as parsed, two's complement
	str   strMatch // string fields
}

// join returns a op b, flattening a chain of the same operator.
func join(kind nodeKind, a, b *node) *node {
	if a.kind != kind {
		a = &node{kind: kind, kids: []*node{a}}
	}
	if b.kind == kind {
		a.kids = append(a.kids, b.kids...)
	} else {
		a.kids = append(a.kids, b)
	}
	return a
}

func (n *node) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *node) write(b *strings.Builder) {
	switch n.kind {
	case nodePred:
		n.pred.write(b)
	case nodeNot:
		b.WriteString("!(")
		n.kids[0].write(b)
		b.WriteByte(')')
	case nodeAnd, nodeOr:
		sep := " && "
		if n.kind == nodeOr {
			sep = " || "
		}
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			// Only an || inside an && needs parentheses.
			paren := n.kind == nodeAnd && k.kind == nodeOr
			if paren {
				b.WriteByte('(')
			}
			k.write(b)
			if paren {
				b.WriteByte(')')
			}
		}
	}
}

func (p *pred) write(b *strings.Builder) {
	b.WriteString(p.field.Name)
	b.WriteByte(' ')
	b.WriteString(p.op.String())
	b.WriteByte(' ')
	if p.op == opEQ || p.op == opNE || p.op == opGlob {
		if isString(p.field) {
			q := byte('"')
			if strings.IndexByte(p.str.text, '"') >= 0 {
				q = '\''
			}
			b.WriteByte(q)
			b.WriteString(p.str.text)
			b.WriteByte(q)
			return
		}
	}
	switch {
	case p.field.Signed && int64(p.num) < 0:
		b.WriteString(strconv.FormatInt(int64(p.num), 10))
	case p.op == opBand:
		b.WriteString("0x")
		b.WriteString(strconv.FormatUint(p.num, 16))
	default:
		b.WriteString(strconv.FormatUint(p.num, 10))
	}
}
