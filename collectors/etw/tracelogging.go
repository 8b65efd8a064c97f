package etw

import (
	"bytes"
	"encoding/binary"
)

// TraceLogging events describe themselves: each carries its metadata in
// an EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL extended item, laid out as
// (TraceLoggingProvider.h):
//
//	u16    Size          the whole metadata, this field included
//	u8     Extension[]   1 or more bytes, up to one without the high bit
//	char   Name[]        UTF-8, NUL-terminated event name
//	Field  Fields[]      to the end:
//	  char  Name[]       UTF-8, NUL-terminated
//	  u8    InType       TlgIn value | 0x80 if OutType follows | count flags 0x60
//	  u8    OutType      if InType&0x80; | 0x80 if an Extension follows
//	  u8    Extension[]  if OutType&0x80
//	  u16   ValueCount   if the count flags say constant count (0x20)
//	  u16   TypeInfoSize, TypeInfo[]   if they say custom (0x60)
//
// A struct (TlgIn 24) has no data of its own; OutType holds how many of
// the following fields are its members.

const (
	tlgChain     = 0x80
	tlgCountMask = 0x60
	tlgCcount    = 0x20 // constant count, in the metadata
	tlgVcount    = 0x40 // variable count, a u16 in the payload
	tlgCustom    = 0x60 // custom-serialized: u16 size + bytes in the payload
	tlgTypeMask  = 0x1f
	tlgStruct    = 24
)

// maxTLFields bounds the fields of one TraceLogging event.
const maxTLFields = 1024

// ParseTraceLogging decodes TraceLogging event metadata into a Schema for
// events of provider with descriptor desc.
func ParseTraceLogging(meta []byte, provider GUID, desc Descriptor) (*Schema, error) {
	const what = "TraceLogging metadata"
	if len(meta) < 2 {
		return nil, errAt(what, 0, "%d bytes, want at least 2", len(meta))
	}
	size := int(binary.LittleEndian.Uint16(meta))
	if size < 4 || size > len(meta) {
		return nil, errAt(what, 0, "Size %d, the item has %d bytes", size, len(meta))
	}
	p := tlParser{b: meta[:size], pos: 2}
	if err := p.extension(); err != nil {
		return nil, err
	}
	name, err := p.cstring()
	if err != nil {
		return nil, err
	}
	s := &Schema{Provider: provider, Descriptor: desc, Source: SourceTraceLogging, EventName: name}
	for p.pos < len(p.b) {
		f, err := p.field(0)
		if err != nil {
			return nil, err
		}
		s.Props = append(s.Props, f)
	}
	numberSlots(s.Props, &s.Slots)
	return s, nil
}

type tlParser struct {
	b      []byte
	pos    int
	fields int
}

func (p *tlParser) fail(format string, args ...any) error {
	return errAt("TraceLogging metadata", p.pos, format, args...)
}

// extension skips bytes up to and including one without the high bit.
func (p *tlParser) extension() error {
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		if c&0x80 == 0 {
			return nil
		}
	}
	return p.fail("extension runs past the end")
}

func (p *tlParser) cstring() (string, error) {
	i := bytes.IndexByte(p.b[p.pos:], 0)
	if i < 0 {
		return "", p.fail("name has no NUL")
	}
	s := string(p.b[p.pos : p.pos+i])
	p.pos += i + 1
	return s, nil
}

func (p *tlParser) u16() (int, error) {
	if p.pos+2 > len(p.b) {
		return 0, p.fail("u16 runs past the end")
	}
	v := int(binary.LittleEndian.Uint16(p.b[p.pos:]))
	p.pos += 2
	return v, nil
}

func (p *tlParser) field(depth int) (Prop, error) {
	p.fields++
	if p.fields > maxTLFields {
		return Prop{}, p.fail("more than %d fields", maxTLFields)
	}
	if depth > maxStructDepth {
		return Prop{}, p.fail("structs nested deeper than %d", maxStructDepth)
	}
	name, err := p.cstring()
	if err != nil {
		return Prop{}, err
	}
	if p.pos >= len(p.b) {
		return Prop{}, p.fail("field %q has no InType", name)
	}
	in := p.b[p.pos]
	p.pos++
	out := 0
	if in&tlgChain != 0 {
		if p.pos >= len(p.b) {
			return Prop{}, p.fail("field %q: OutType missing", name)
		}
		out = int(p.b[p.pos])
		p.pos++
		if out&0x80 != 0 {
			if err := p.extension(); err != nil {
				return Prop{}, err
			}
		}
	}
	f := Prop{Name: name, Out: uint16(out & 0x7f), LengthFrom: -1, CountFrom: -1, Count: 1}
	switch in & tlgCountMask {
	case tlgCcount:
		n, err := p.u16()
		if err != nil {
			return Prop{}, err
		}
		f.Array, f.Count = true, n
	case tlgVcount:
		f.Array, f.VCount = true, true
	case tlgCustom:
		n, err := p.u16()
		if err != nil {
			return Prop{}, err
		}
		if p.pos+n > len(p.b) {
			return Prop{}, p.fail("field %q: type info of %d bytes runs past the end", name, n)
		}
		p.pos += n
		f.In = InManifestCountedBinary // u16 size + bytes, whatever the type
		return f, nil
	}
	base := in & tlgTypeMask
	if base == tlgStruct {
		members := int(f.Out)
		if members == 0 {
			return Prop{}, p.fail("struct %q has no members", name)
		}
		f.Struct, f.Out = true, 0
		for i := 0; i < members; i++ {
			if p.pos >= len(p.b) {
				return Prop{}, p.fail("struct %q: %d of its %d members are missing", name, members-i, members)
			}
			m, err := p.field(depth + 1)
			if err != nil {
				return Prop{}, err
			}
			f.Members = append(f.Members, m)
		}
		return f, nil
	}
	t, ok := tlgInTypes[base]
	if !ok {
		return Prop{}, p.fail("field %q has TraceLogging type %d, which is not defined", name, base)
	}
	f.In = t
	return f, nil
}

// tlgInTypes maps TlgIn values to the TDH types with the same encoding.
// TraceLogging's BINARY and COUNTED* carry a u16 byte count, as TDH's
// MANIFEST_COUNTED* types do.
var tlgInTypes = map[byte]InType{
	0: InNull, 1: InUnicodeString, 2: InAnsiString, 3: InInt8, 4: InUint8,
	5: InInt16, 6: InUint16, 7: InInt32, 8: InUint32, 9: InInt64, 10: InUint64,
	11: InFloat, 12: InDouble, 13: InBoolean, 14: InManifestCountedBinary, 15: InGUID,
	17: InFiletime, 18: InSystemtime, 19: InSID, 20: InHexInt32, 21: InHexInt64,
	22: InManifestCountedString, 23: InManifestCountedAnsiString, 25: InManifestCountedBinary,
}

// providerTraitsName reads the provider name from an
// EVENT_HEADER_EXT_TYPE_PROV_TRAITS item: u16 size, then the UTF-8,
// NUL-terminated name, then trait chunks.
func providerTraitsName(b []byte) string {
	if len(b) < 3 {
		return ""
	}
	size := min(int(binary.LittleEndian.Uint16(b)), len(b))
	if size < 3 {
		return ""
	}
	name := b[2:size]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		return string(name[:i])
	}
	return ""
}
