package aggregate

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
)

// Stack is a key that stands for a stack. AggKey identifies it: equal ids
// are the same stack, so a lookup costs one map access on an integer.
// String is its frames, one per line, as they print under the key; it is
// called only when printing or ordering keys, so symbolization waits until
// the end of the run.
type Stack interface {
	AggKey() uint64
	String() string
}

// KeyKind says what a Key holds.
type KeyKind uint8

// Key kinds, in the order keys of different kinds sort.
const (
	NoKey     KeyKind = iota // the single unkeyed value
	IntKey                   // Int
	StringKey                // Str
	TupleKey                 // Tuple, whose elements are ints, strings or stacks
	StackKey                 // Stack
)

// Key is what an aggregation is keyed by. Build one with Int, Str, Tuple
// or StackOf; the zero Key is the unkeyed value.
type Key struct {
	Kind  KeyKind
	Int   int64
	Str   string
	Tuple []Key
	Stack Stack
}

// Int is an int key.
func Int(v int64) Key { return Key{Kind: IntKey, Int: v} }

// Str is a string key.
func Str(s string) Key { return Key{Kind: StringKey, Str: s} }

// Tuple is a composite key such as (comm, pid).
func Tuple(elems ...Key) Key { return Key{Kind: TupleKey, Tuple: elems} }

// StackOf is a stack key.
func StackOf(s Stack) Key { return Key{Kind: StackKey, Stack: s} }

// Tags of the tuple encoding; each element is a tag and its bytes, so the
// encoding is injective.
const (
	tagNone   = 'n'
	tagInt    = 'i'
	tagString = 's'
	tagTuple  = 't'
	tagStack  = 'k'
)

// appendKey encodes k for the tuple map.
func appendKey(b []byte, k *Key) []byte {
	switch k.Kind {
	case IntKey:
		b = append(b, tagInt)
		return binary.LittleEndian.AppendUint64(b, uint64(k.Int))
	case StringKey:
		b = append(b, tagString)
		b = binary.AppendUvarint(b, uint64(len(k.Str)))
		return append(b, k.Str...)
	case TupleKey:
		b = append(b, tagTuple)
		b = binary.AppendUvarint(b, uint64(len(k.Tuple)))
		for i := range k.Tuple {
			b = appendKey(b, &k.Tuple[i])
		}
		return b
	case StackKey:
		b = append(b, tagStack)
		return binary.LittleEndian.AppendUint64(b, k.Stack.AggKey())
	}
	return append(b, tagNone)
}

// clone is k with its own copy of the tuple, to keep in a table: callers
// may reuse the slice they passed.
func (k Key) clone() Key {
	if k.Kind == TupleKey {
		k.Tuple = slices.Clone(k.Tuple)
		for i := range k.Tuple {
			k.Tuple[i] = k.Tuple[i].clone()
		}
	}
	return k
}

// CompareKeys orders keys: by kind (see KeyKind), then ints by value,
// strings bytewise, tuples element by element, stacks by their text and
// then id. It makes every printed order independent of insertion order.
func CompareKeys(a, b *Key) int {
	if a.Kind != b.Kind {
		return cmp.Compare(a.Kind, b.Kind)
	}
	switch a.Kind {
	case IntKey:
		return cmp.Compare(a.Int, b.Int)
	case StringKey:
		return strings.Compare(a.Str, b.Str)
	case TupleKey:
		for i := range min(len(a.Tuple), len(b.Tuple)) {
			if c := CompareKeys(&a.Tuple[i], &b.Tuple[i]); c != 0 {
				return c
			}
		}
		return cmp.Compare(len(a.Tuple), len(b.Tuple))
	case StackKey:
		if c := strings.Compare(a.Stack.String(), b.Stack.String()); c != 0 {
			return c
		}
		return cmp.Compare(a.Stack.AggKey(), b.Stack.AggKey())
	}
	return 0
}

// String is the key as printed between the brackets of "@name[...]":
// "bash", "12", "bash, 12"; a stack starts on a new line and ends with
// one, as bpftrace prints it. The unkeyed value prints as "".
func (k Key) String() string { return string(k.appendText(nil)) }

func (k *Key) appendText(b []byte) []byte {
	switch k.Kind {
	case IntKey:
		return strconv.AppendInt(b, k.Int, 10)
	case StringKey:
		return append(b, k.Str...)
	case TupleKey:
		for i := range k.Tuple {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = k.Tuple[i].appendText(b)
		}
		return b
	case StackKey:
		b = append(b, '\n')
		txt := k.Stack.String()
		b = append(b, txt...)
		if txt != "" && !strings.HasSuffix(txt, "\n") {
			b = append(b, '\n')
		}
		return b
	}
	return b
}
