package etw

import (
	"encoding/binary"
	"fmt"
)

// Layouts of what TDH returns (tdh.h). Every offset inside is counted
// from the start of the returned buffer.
const (
	eventInfoSize    = 112 // TRACE_EVENT_INFO up to EventPropertyInfoArray
	propertyInfoSize = 24  // EVENT_PROPERTY_INFO
	providerInfoSize = 24  // TRACE_PROVIDER_INFO
)

// PROPERTY_FLAGS.
const (
	propStruct           = 0x1
	propParamLength      = 0x2
	propParamCount       = 0x4
	propParamFixedLength = 0x10
	propParamFixedCount  = 0x20
)

// maxStructDepth bounds struct nesting, which TDH never makes deep; a
// loop of StructStartIndex references in bad bytes stops here.
const maxStructDepth = 8

// ParseEventInfo decodes a TRACE_EVENT_INFO (what TdhGetEventInformation
// or TdhGetManifestEventInformation fills in) into a Schema.
//
//	 0 ProviderGuid            16 EventGuid      32 EventDescriptor (16)
//	48 DecodingSource          52 ProviderNameOffset
//	56 LevelNameOffset         60 ChannelNameOffset   64 KeywordsNameOffset
//	68 TaskNameOffset          72 OpcodeNameOffset    76 EventMessageOffset
//	80 ProviderMessageOffset   84 BinaryXMLOffset     88 BinaryXMLSize
//	92 EventNameOffset        96 EventAttributesOffset
//	100 PropertyCount         104 TopLevelPropertyCount  108 Flags
//	112 EVENT_PROPERTY_INFO[PropertyCount], 24 bytes each:
//	    0 Flags  4 NameOffset  8 InType|StructStartIndex  10 OutType|NumOfStructMembers
//	    12 MapNameOffset  16 count|countPropertyIndex  18 length|lengthPropertyIndex  20 Tags
func ParseEventInfo(b []byte) (*Schema, error) {
	const what = "TRACE_EVENT_INFO"
	if len(b) < eventInfoSize {
		return nil, errAt(what, len(b), "%d bytes, want at least %d", len(b), eventInfoSize)
	}
	le := binary.LittleEndian
	s := &Schema{Provider: guidAt(b[0:])}
	parseDescriptor(b[32:48], &s.Descriptor)
	src := le.Uint32(b[48:])
	if src > uint32(SourceTraceLogging) {
		return nil, errAt(what, 48, "DecodingSource %d is not one TDH defines", src)
	}
	s.Source = DecodingSource(src)
	var err error
	str := func(at int) string {
		if err != nil {
			return ""
		}
		var v string
		v, err = utf16At(b, le.Uint32(b[at:]), what, at)
		return v
	}
	s.ProviderName = str(52)
	s.TaskName = str(68)
	s.OpcodeName = str(72)
	if s.Source == SourceManifest || s.Source == SourceTraceLogging {
		// For other sources the union holds ActivityIDNameOffset.
		s.EventName = str(92)
	}
	if err != nil {
		return nil, err
	}
	count := int(le.Uint32(b[100:]))
	top := int(le.Uint32(b[104:]))
	if count > (len(b)-eventInfoSize)/propertyInfoSize {
		return nil, errAt(what, 100, "PropertyCount %d does not fit in %d bytes", count, len(b))
	}
	if top > count {
		return nil, errAt(what, 104, "TopLevelPropertyCount %d exceeds PropertyCount %d", top, count)
	}
	s.Slots = count
	// Struct members are referenced by index, so bad bytes can make one
	// property expand into others again and again: bound the total.
	budget := 4*count + 64
	var prop func(i, depth int) (Prop, error)
	prop = func(i, depth int) (Prop, error) {
		if budget--; budget < 0 {
			return Prop{}, errAt(what, eventInfoSize, "struct members expand to more than %d properties", 4*count+64)
		}
		at := eventInfoSize + i*propertyInfoSize
		e := b[at : at+propertyInfoSize]
		flags := le.Uint32(e[0:])
		name, err := utf16At(b, le.Uint32(e[4:]), what, at+4)
		if err != nil {
			return Prop{}, err
		}
		p := Prop{Name: name, Slot: i, LengthFrom: -1, CountFrom: -1}
		cnt, length := int(le.Uint16(e[16:])), int(le.Uint16(e[18:]))
		if flags&propParamCount != 0 {
			if cnt >= count {
				return Prop{}, errAt(what, at+16, "property %q: count property index %d out of %d", name, cnt, count)
			}
			p.CountFrom, p.Array = cnt, true
		} else {
			p.Count = max(cnt, 1)
			p.Array = cnt > 1 || flags&propParamFixedCount != 0
		}
		if flags&propParamLength != 0 {
			if length >= count {
				return Prop{}, errAt(what, at+18, "property %q: length property index %d out of %d", name, length, count)
			}
			p.LengthFrom = length
		} else {
			p.Length = length
		}
		if flags&propStruct == 0 {
			p.In, p.Out = InType(le.Uint16(e[8:])), le.Uint16(e[10:])
			return p, nil
		}
		p.Struct = true
		first, n := int(le.Uint16(e[8:])), int(le.Uint16(e[10:]))
		if depth >= maxStructDepth {
			return Prop{}, errAt(what, at, "property %q: structs nested deeper than %d", name, maxStructDepth)
		}
		if first+n > count || n == 0 {
			return Prop{}, errAt(what, at+8, "property %q: struct members %d..%d out of %d properties", name, first, first+n, count)
		}
		for j := first; j < first+n; j++ {
			m, err := prop(j, depth+1)
			if err != nil {
				return Prop{}, err
			}
			p.Members = append(p.Members, m)
		}
		return p, nil
	}
	for i := 0; i < top; i++ {
		p, err := prop(i, 0)
		if err != nil {
			return nil, err
		}
		s.Props = append(s.Props, p)
	}
	return s, nil
}

// utf16At reads the NUL-terminated UTF-16 string at offset off of b; 0
// means none.
func utf16At(b []byte, off uint32, what string, at int) (string, error) {
	if off == 0 {
		return "", nil
	}
	if off >= uint32(len(b)) {
		return "", errAt(what, at, "string offset %d is past the %d-byte buffer", off, len(b))
	}
	rest := b[off:]
	for i := 0; i+1 < len(rest); i += 2 {
		if rest[i] == 0 && rest[i+1] == 0 {
			return string(appendUTF16(nil, rest[:i])), nil
		}
	}
	return "", errAt(what, at, "string at offset %d has no terminator", off)
}

// ProviderInfo is one registered provider (TRACE_PROVIDER_INFO).
type ProviderInfo struct {
	GUID GUID
	Name string
	// MOF is set for classic providers described by a WMI class rather
	// than a manifest.
	MOF bool
}

// ParseProviderEnumeration decodes a PROVIDER_ENUMERATION_INFO (what
// TdhEnumerateProviders fills in): NumberOfProviders u32, Reserved u32,
// then TRACE_PROVIDER_INFO{ProviderGuid, SchemaSource u32,
// ProviderNameOffset u32} each.
func ParseProviderEnumeration(b []byte) ([]ProviderInfo, error) {
	const what = "PROVIDER_ENUMERATION_INFO"
	if len(b) < 8 {
		return nil, errAt(what, len(b), "%d bytes, want at least 8", len(b))
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n > (len(b)-8)/providerInfoSize {
		return nil, errAt(what, 0, "%d providers do not fit in %d bytes", n, len(b))
	}
	out := make([]ProviderInfo, 0, n)
	for i := 0; i < n; i++ {
		at := 8 + i*providerInfoSize
		e := b[at : at+providerInfoSize]
		name, err := utf16At(b, binary.LittleEndian.Uint32(e[20:]), what, at+20)
		if err != nil {
			return nil, err
		}
		out = append(out, ProviderInfo{GUID: guidAt(e), Name: name, MOF: binary.LittleEndian.Uint32(e[16:]) != 0})
	}
	return out, nil
}

// ParseProviderEvents decodes a PROVIDER_EVENT_INFO (what
// TdhEnumerateManifestProviderEvents fills in): NumberOfEvents u32,
// Reserved u32, then an EVENT_DESCRIPTOR each.
func ParseProviderEvents(b []byte) ([]Descriptor, error) {
	const what = "PROVIDER_EVENT_INFO"
	if len(b) < 8 {
		return nil, errAt(what, len(b), "%d bytes, want at least 8", len(b))
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n > (len(b)-8)/16 {
		return nil, errAt(what, 0, "%d events do not fit in %d bytes", n, len(b))
	}
	out := make([]Descriptor, n)
	for i := range out {
		parseDescriptor(b[8+16*i:], &out[i])
	}
	return out, nil
}

// schemaKey identifies the events that share one schema: manifest events
// by id and version, classic ones by opcode and version.
type schemaKey struct {
	provider GUID
	id       uint16
	opcode   uint8
	version  uint8
}

func keyOf(h *Header) schemaKey {
	k := schemaKey{provider: h.Provider, version: h.Descriptor.Version}
	if h.Flags&FlagClassicHeader != 0 {
		k.opcode = h.Descriptor.Opcode
	} else {
		k.id = h.Descriptor.ID
	}
	return k
}

func (k schemaKey) String() string {
	return fmt.Sprintf("%v id %d opcode %d version %d", k.provider, k.id, k.opcode, k.version)
}
