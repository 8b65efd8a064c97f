package event

import (
	"bytes"
	"encoding/binary"
)

// Kind says where a field's bytes live and how they are laid out.
type Kind uint8

const (
	// Scalar is a fixed-size integer at a fixed offset (int, pid_t, u64).
	Scalar Kind = iota
	// Pointer is an address-sized integer whose C type is a pointer.
	Pointer
	// Array is a fixed-size array at a fixed offset (char comm[16],
	// unsigned long args[6]).
	Array
	// DataLoc is a __data_loc field: a u32 at the field's offset holding
	// (length << 16 | offset), the offset counted from the payload start.
	DataLoc
	// RelLoc is a __rel_loc field: like DataLoc, but the offset is counted
	// from the end of the u32 itself.
	RelLoc
)

func (k Kind) String() string {
	switch k {
	case Scalar:
		return "scalar"
	case Pointer:
		return "pointer"
	case Array:
		return "array"
	case DataLoc:
		return "data_loc"
	case RelLoc:
		return "rel_loc"
	}
	return "unknown"
}

// Field describes one field of a raw payload.
type Field struct {
	Name   string
	Type   string // the C type as the format wrote it, e.g. "pid_t", "char[16]"
	Offset int
	Size   int // bytes at Offset (for DataLoc/RelLoc: the 4-byte locator)
	Signed bool
	Kind   Kind
	// ElemSize is the size of one element of an Array, DataLoc or RelLoc
	// field, and equals Size for scalars and pointers.
	ElemSize int
	// String is true for char arrays and dynamic char strings: they decode
	// as text up to the first NUL.
	String bool
}

// Format is the layout of one event's raw payload.
type Format struct {
	ID     uint32 // the tracepoint id tracefs gave it; 0 when none
	System string // "sched"; empty for events with no tracefs format
	Name   string // "sched_switch"
	Fields []Field
	// Print is the format's "print fmt:" line, kept for display.
	Print string
	// Text is the format text it was parsed from, which recordings carry.
	Text []byte

	// byName indexes Fields; ParseFormat builds it. A Format written as a
	// literal has none and is searched in order, so Field never writes
	// and is safe from several goroutines.
	byName map[string]int
}

// Field returns the named field, or nil.
func (f *Format) Field(name string) *Field {
	if f == nil {
		return nil
	}
	if f.byName == nil {
		for i := range f.Fields {
			if f.Fields[i].Name == name {
				return &f.Fields[i]
			}
		}
		return nil
	}
	i, ok := f.byName[name]
	if !ok {
		return nil
	}
	return &f.Fields[i]
}

// FieldNames lists the fields a script sees, in payload order. The
// common_* fields every tracepoint carries are left out: the Record's pid,
// tid and cpu say the same thing better.
func (f *Format) FieldNames() []string {
	if f == nil {
		return nil
	}
	names := make([]string, 0, len(f.Fields))
	for i := range f.Fields {
		if !IsCommon(f.Fields[i].Name) {
			names = append(names, f.Fields[i].Name)
		}
	}
	return names
}

// IsCommon reports whether name is one of the common_* fields the kernel
// puts at the start of every tracepoint payload.
func IsCommon(name string) bool {
	return len(name) > 7 && name[:7] == "common_"
}

// in returns raw[off:off+n], or false when the payload is too short.
func in(raw []byte, off, n int) ([]byte, bool) {
	if off < 0 || n < 0 || off+n > len(raw) || off+n < off {
		return nil, false
	}
	return raw[off : off+n], true
}

// load reads an n-byte little-endian integer. Payloads are in the byte
// order of the machine that wrote them; otrace supports little-endian
// machines (x86-64, arm64) and recordings say so in their header.
func load(b []byte, signed bool) uint64 {
	var v uint64
	switch len(b) {
	case 1:
		v = uint64(b[0])
		if signed {
			v = uint64(int64(int8(b[0])))
		}
	case 2:
		v = uint64(binary.LittleEndian.Uint16(b))
		if signed {
			v = uint64(int64(int16(v)))
		}
	case 4:
		v = uint64(binary.LittleEndian.Uint32(b))
		if signed {
			v = uint64(int64(int32(v)))
		}
	case 8:
		v = binary.LittleEndian.Uint64(b)
	default:
		return 0
	}
	return v
}

// Uint decodes a Scalar or Pointer field. It returns false when the field
// is not an integer of 1, 2, 4 or 8 bytes or the payload is too short.
func (f *Field) Uint(raw []byte) (uint64, bool) {
	if f.Kind != Scalar && f.Kind != Pointer {
		return 0, false
	}
	b, ok := in(raw, f.Offset, f.Size)
	if !ok || !intSize(f.Size) {
		return 0, false
	}
	return load(b, f.Signed), true
}

// Int decodes a Scalar or Pointer field as a signed value (sign-extended
// when the field is signed).
func (f *Field) Int(raw []byte) (int64, bool) {
	v, ok := f.Uint(raw)
	return int64(v), ok
}

func intSize(n int) bool { return n == 1 || n == 2 || n == 4 || n == 8 }

// Data returns the bytes of an Array, DataLoc or RelLoc field, or false when
// the field is a scalar or the locator points outside the payload.
func (f *Field) Data(raw []byte) ([]byte, bool) {
	switch f.Kind {
	case Array:
		return in(raw, f.Offset, f.Size)
	case DataLoc, RelLoc:
		loc, ok := in(raw, f.Offset, 4)
		if !ok {
			return nil, false
		}
		v := binary.LittleEndian.Uint32(loc)
		off, n := int(v&0xffff), int(v>>16)
		if f.Kind == RelLoc {
			off += f.Offset + 4
		}
		return in(raw, off, n)
	}
	return nil, false
}

// Str returns a string field's text: its bytes up to the first NUL. The
// slice aliases raw.
func (f *Field) Str(raw []byte) ([]byte, bool) {
	b, ok := f.Data(raw)
	if !ok {
		return nil, false
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return b, true
}

// Len is the number of elements of an Array, DataLoc or RelLoc field.
func (f *Field) Len(raw []byte) int {
	b, ok := f.Data(raw)
	if !ok || f.ElemSize <= 0 {
		return 0
	}
	return len(b) / f.ElemSize
}

// Index decodes element i of an array field of integers.
func (f *Field) Index(raw []byte, i int) (uint64, bool) {
	b, ok := f.Data(raw)
	// Bound i by the element count before multiplying: i*ElemSize can wrap.
	if !ok || !intSize(f.ElemSize) || i < 0 || i >= len(b)/f.ElemSize {
		return 0, false
	}
	e, ok := in(b, i*f.ElemSize, f.ElemSize)
	if !ok {
		return 0, false
	}
	return load(e, f.Signed), true
}
