package filter

import (
	"encoding/binary"

	"otrace/runtime/event"
)

// matcher evaluates a filter, or part of one, on a payload at least as long
// as the filter's need.
type matcher func(raw []byte) bool

// compile turns the tree into closures with every offset, width, sign and
// value resolved, and raises *need to cover the fixed bytes it reads.
func (n *node) compile(need *int) matcher {
	switch n.kind {
	case nodeNot:
		m := n.kids[0].compile(need)
		return func(raw []byte) bool { return !m(raw) }
	case nodeAnd, nodeOr:
		ms := make([]matcher, len(n.kids))
		for i, k := range n.kids {
			ms[i] = k.compile(need)
		}
		if n.kind == nodeAnd {
			return allOf(ms)
		}
		return anyOf(ms)
	}
	p := n.pred
	f := p.field
	*need = max(*need, f.Offset+f.Size)
	if isString(f) {
		return stringMatcher(f, &p.str)
	}
	return intMatcher(f.Offset, f.Size, f.Signed, p.op, truncate(p.num, f.Size, f.Signed))
}

func allOf(ms []matcher) matcher {
	if len(ms) == 2 {
		a, b := ms[0], ms[1]
		return func(raw []byte) bool { return a(raw) && b(raw) }
	}
	return func(raw []byte) bool {
		for _, m := range ms {
			if !m(raw) {
				return false
			}
		}
		return true
	}
}

func anyOf(ms []matcher) matcher {
	if len(ms) == 2 {
		a, b := ms[0], ms[1]
		return func(raw []byte) bool { return a(raw) || b(raw) }
	}
	return func(raw []byte) bool {
		for _, m := range ms {
			if m(raw) {
				return true
			}
		}
		return false
	}
}

func stringMatcher(f *event.Field, m *strMatch) matcher {
	if f.Kind == event.Array {
		lo, hi := f.Offset, f.Offset+f.Size
		return func(raw []byte) bool { return m.match(raw[lo:hi]) }
	}
	fld := *f
	return func(raw []byte) bool {
		// A locator pointing outside the payload reads as no bytes.
		b, _ := fld.Data(raw)
		return m.match(b)
	}
}

// load reads a little-endian integer of size bytes at off; the caller has
// checked the payload is long enough. Payloads are in the byte order of
// the machine that wrote them, which event.Field assumes little-endian too.
func load(raw []byte, off, size int) uint64 {
	switch size {
	case 1:
		return uint64(raw[off])
	case 2:
		return uint64(binary.LittleEndian.Uint16(raw[off:]))
	case 4:
		return uint64(binary.LittleEndian.Uint32(raw[off:]))
	}
	return binary.LittleEndian.Uint64(raw[off:])
}

// sload is load sign-extended from the field's width; shift is 64 minus
// the width in bits.
func sload(raw []byte, off, size int, shift uint) int64 {
	return int64(load(raw, off, size)<<shift) >> shift
}

// intMatcher compares the integer at off with v, already truncated to the
// field's width and sign-extended when the field is signed. Equality and &
// do not depend on the sign; the order comparisons do.
func intMatcher(off, size int, signed bool, o op, v uint64) matcher {
	shift := uint(64 - 8*size)
	u := v << shift >> shift // the field's bits of v, for unsigned loads
	s := int64(v)
	switch o {
	case opEQ:
		return func(raw []byte) bool { return load(raw, off, size) == u }
	case opNE:
		return func(raw []byte) bool { return load(raw, off, size) != u }
	case opBand:
		return func(raw []byte) bool { return load(raw, off, size)&u != 0 }
	}
	if signed {
		switch o {
		case opLT:
			return func(raw []byte) bool { return sload(raw, off, size, shift) < s }
		case opLE:
			return func(raw []byte) bool { return sload(raw, off, size, shift) <= s }
		case opGT:
			return func(raw []byte) bool { return sload(raw, off, size, shift) > s }
		}
		return func(raw []byte) bool { return sload(raw, off, size, shift) >= s }
	}
	switch o {
	case opLT:
		return func(raw []byte) bool { return load(raw, off, size) < u }
	case opLE:
		return func(raw []byte) bool { return load(raw, off, size) <= u }
	case opGT:
		return func(raw []byte) bool { return load(raw, off, size) > u }
	}
	return func(raw []byte) bool { return load(raw, off, size) >= u }
}
