package etw

import (
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"
)

// teiProp is one EVENT_PROPERTY_INFO to build.
type teiProp struct {
	name          string
	flags         uint32
	in, out       uint16 // InType, OutType; StructStartIndex, NumOfStructMembers for structs
	count, length uint16
}

// teiEvent is a TRACE_EVENT_INFO to build.
type teiEvent struct {
	provider                     GUID
	providerName                 string
	desc                         Descriptor
	source                       uint32
	task, opcode, eventName      string
	top                          int
	props                        []teiProp
	badNameOffset, noTerminators bool
}

// build lays a TRACE_EVENT_INFO out at the documented offsets: the
// 112-byte header, the property array, then the UTF-16 strings the
// offsets point to.
func (e teiEvent) build() []byte {
	le := binary.LittleEndian
	b := make([]byte, 112+24*len(e.props))
	copy(b[0:], appendGUID(nil, e.provider))
	copy(b[32:], appendDescriptor(nil, e.desc))
	le.PutUint32(b[48:], e.source)
	le.PutUint32(b[100:], uint32(len(e.props)))
	le.PutUint32(b[104:], uint32(e.top))
	str := func(at int, s string) {
		if s == "" {
			return
		}
		le.PutUint32(b[at:], uint32(len(b)))
		for _, u := range utf16.Encode([]rune(s)) {
			b = le.AppendUint16(b, u)
		}
		if !e.noTerminators {
			b = le.AppendUint16(b, 0)
		}
	}
	str(52, e.providerName)
	str(68, e.task)
	str(72, e.opcode)
	str(92, e.eventName)
	for i, p := range e.props {
		at := 112 + 24*i
		le.PutUint32(b[at:], p.flags)
		le.PutUint16(b[at+8:], p.in)
		le.PutUint16(b[at+10:], p.out)
		le.PutUint16(b[at+16:], p.count)
		le.PutUint16(b[at+18:], p.length)
		str(at+4, p.name)
	}
	if e.badNameOffset {
		le.PutUint32(b[112+4:], uint32(len(b)+100))
	}
	return b
}

var testProvider = mustGUID("{11112222-3333-4444-5555-666677778888}")

// fileOpenInfo describes a manifest event with every kind of property
// otrace decodes: integers, a NUL-terminated and a counted-by-property
// string, arrays counted by another property, a binary, a GUID, a SID, a
// time, a double, and a struct followed by another property.
func fileOpenInfo() teiEvent {
	return teiEvent{
		provider: testProvider, providerName: "Test-Provider", source: 0,
		desc: Descriptor{ID: 10, Version: 1, Level: 4, Opcode: 11, Task: 3, Keyword: 0x10},
		task: "File", opcode: "Open", eventName: "FileOpen", top: 14,
		props: []teiProp{
			{name: "Pid", in: uint16(InUint32), count: 1, length: 4},
			{name: "FileName", in: uint16(InUnicodeString), count: 1},
			{name: "NameLen", in: uint16(InUint16), count: 1, length: 2},
			{name: "Name", flags: propParamLength, in: uint16(InAnsiString), count: 1, length: 2},
			{name: "Count", in: uint16(InUint32), count: 1, length: 4},
			{name: "Sizes", flags: propParamCount, in: uint16(InUint64), count: 4, length: 8},
			{name: "BlobLen", in: uint16(InUint16), count: 1, length: 2},
			{name: "Blob", flags: propParamLength, in: uint16(InBinary), count: 1, length: 6},
			{name: "Id", in: uint16(InGUID), count: 1, length: 16},
			{name: "Owner", in: uint16(InSID), count: 1},
			{name: "When", in: uint16(InSystemtime), count: 1, length: 16},
			{name: "Ratio", in: uint16(InDouble), count: 1, length: 8},
			{name: "Info", flags: propStruct, in: 14, out: 2},
			{name: "Tail Value", in: uint16(InHexInt32), count: 1, length: 4},
			{name: "A", in: uint16(InInt16), count: 1, length: 2},
			{name: "B", in: uint16(InUnicodeString), count: 1},
		},
	}
}

func fileOpenPayload() []byte {
	p := new(pb).u32(4321).wstr(`C:\temp\ü.txt`).u16(3).raw('a', 'b', 'c').u32(2).u64(10).u64(1<<40).
		u16(3).raw(0xde, 0xad, 0xbf).raw(appendGUID(nil, testProvider)...).sid(5, 18)
	p.u16(2024).u16(2).u16(4).u16(29).u16(13).u16(5).u16(9).u16(7) // 2024-02-29T13:05:09.007
	p.u64(math.Float64bits(0.25))
	p.u16(0xfffe).wstr("inner")
	return p.u32(0xc0ffee).b
}

func TestParseEventInfoReadsTheDocumentedLayout(t *testing.T) {
	s, err := ParseEventInfo(fileOpenInfo().build())
	if err != nil {
		t.Fatal(err)
	}
	if s.Provider != testProvider || s.ProviderName != "Test-Provider" || s.Descriptor.ID != 10 || s.Descriptor.Keyword != 0x10 {
		t.Errorf("schema %+v", s)
	}
	if s.Name() != "FileOpen" || s.TaskName != "File" || s.OpcodeName != "Open" || s.Source != SourceManifest {
		t.Errorf("names %q %q %q", s.Name(), s.TaskName, s.OpcodeName)
	}
	if len(s.Props) != 14 || s.Slots != 16 {
		t.Fatalf("%d top-level properties and %d slots", len(s.Props), s.Slots)
	}
	if p := s.Props[3]; p.LengthFrom != 2 || p.In != InAnsiString {
		t.Errorf("Name %+v", p)
	}
	if p := s.Props[5]; !p.Array || p.CountFrom != 4 {
		t.Errorf("Sizes %+v", p)
	}
	if p := s.Props[12]; !p.Struct || len(p.Members) != 2 || p.Members[1].Name != "B" || p.Members[1].Slot != 15 {
		t.Errorf("Info %+v", p)
	}
}

func TestTDHDescribedEventsDecodeIntoFields(t *testing.T) {
	s, err := ParseEventInfo(fileOpenInfo().build())
	if err != nil {
		t.Fatal(err)
	}
	l, err := compile(s, "etw:Test-Provider", "FileOpen")
	if err != nil {
		t.Fatal(err)
	}
	var d decoder
	raw, err := l.decode(&d, &s.Descriptor, fileOpenPayload(), 8)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Pid": int64(4321), "FileName": `C:\temp\ü.txt`, "NameLen": int64(3), "Name": "abc", "Count": int64(2),
		"Sizes": []int64{10, 1 << 40}, "Blob": []byte{0xde, 0xad, 0xbf}, "Id": testProvider.String(),
		"Owner": "S-1-5-18", "When": "2024-02-29T13:05:09.007", "Ratio": "0.25",
		"Info_A": int64(-2), "Info_B": "inner", "Tail_Value": int64(0xc0ffee),
		"common_event_id": int64(10), "common_task": int64(3), "common_keyword": int64(0x10),
	}
	for name, w := range want {
		if got := fieldValue(t, l.format, raw, name); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", name, got, w)
		}
	}
	if got := l.format.FieldNames(); got[len(got)-1] != "Tail_Value" {
		t.Errorf("field names %v", got)
	}
	// The generated format text parses back to the same fields, as a
	// recording reads it.
	if !strings.Contains(string(l.format.Text), "field:__data_loc u64[] Sizes;") {
		t.Errorf("format text:\n%s", l.format.Text)
	}
}

func TestFixedLengthsAndCounts(t *testing.T) {
	info := teiEvent{provider: testProvider, source: 1, top: 3, props: []teiProp{
		{name: "Tag", in: uint16(InUnicodeString), count: 1, length: 4}, // 4 chars, no NUL
		{name: "Triple", in: uint16(InUint16), count: 3, length: 2},
		{name: "One", flags: propParamFixedCount, in: uint16(InUint8), count: 1, length: 1},
	}}
	s, err := ParseEventInfo(info.build())
	if err != nil {
		t.Fatal(err)
	}
	if s.EventName != "" {
		t.Errorf("a MOF schema reads EventNameOffset as %q", s.EventName)
	}
	l, err := compile(s, "etw:x", "x")
	if err != nil {
		t.Fatal(err)
	}
	var d decoder
	raw, err := l.decode(&d, &s.Descriptor, new(pb).u16('a').u16('b').u16('c').u16('d').u16(1).u16(2).u16(3).u8(9).b, 8)
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range map[string]any{"Tag": "abcd", "Triple": []int64{1, 2, 3}, "One": []byte{9}} {
		if got := fieldValue(t, l.format, raw, name); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", name, got, w)
		}
	}
}

func TestParseEventInfoRejectsMalformedBuffers(t *testing.T) {
	selfStruct := fileOpenInfo()
	selfStruct.props[12].in = 12 // Info's members start at Info itself
	selfStruct.props[12].out = 1
	badCount := fileOpenInfo()
	badCount.props[5].count = 99
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"a buffer shorter than the header", make([]byte, 100), "100 bytes"},
		{"more properties than bytes", teiEvent{top: 3, props: make([]teiProp, 3)}.build()[:112+24], "PropertyCount 3"},
		{"a name offset past the end", teiEvent{top: 1, props: []teiProp{{name: "x"}}, badNameOffset: true}.build(), "past the"},
		{"a string with no terminator", teiEvent{top: 1, props: []teiProp{{name: "x"}}, noTerminators: true}.build(), "no terminator"},
		{"a count index out of range", badCount.build(), "count property index 99"},
		{"a struct that contains itself", selfStruct.build(), "nested deeper"},
		{"an unknown decoding source", teiEvent{source: 9}.build(), "DecodingSource 9"},
		{"more top-level properties than properties", teiEvent{top: 2, props: []teiProp{{name: "x"}}}.build(), "TopLevelPropertyCount 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEventInfo(tc.b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPayloadsThatDoNotMatchTheirSchemaAreErrors(t *testing.T) {
	s, _ := ParseEventInfo(fileOpenInfo().build())
	l, _ := compile(s, "etw:x", "x")
	full := fileOpenPayload()
	for n := 0; n < len(full)-4; n += 3 {
		var d decoder
		if _, err := l.decode(&d, &s.Descriptor, full[:n], 8); err == nil {
			t.Errorf("a payload cut at %d bytes decoded", n)
		}
	}
	// A count property holding an absurd count.
	bad := append([]byte(nil), full...)
	off := 4 + len(utf16.Encode([]rune(`C:\temp\ü.txt`)))*2 + 2 + 2 + 3
	binary.LittleEndian.PutUint32(bad[off:], 0xffffffff)
	var d decoder
	if _, err := l.decode(&d, &s.Descriptor, bad, 8); err == nil {
		t.Error("a count of 2^32-1 decoded")
	}
}

func TestParseProviderLists(t *testing.T) {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 2)
	b = le.AppendUint32(b, 0)
	names := []string{"Microsoft-Windows-Kernel-Process", "MSNT_SystemTrace"}
	b = append(b, make([]byte, 48)...)
	for i, g := range []GUID{ProcessGUID, SystemTraceControlGUID} {
		at := 8 + 24*i
		copy(b[at:], appendGUID(nil, g))
		le.PutUint32(b[at+16:], uint32(i)) // SchemaSource: 0 manifest, 1 MOF
		le.PutUint32(b[at+20:], uint32(len(b)))
		for _, u := range utf16.Encode([]rune(names[i])) {
			b = le.AppendUint16(b, u)
		}
		b = le.AppendUint16(b, 0)
	}
	provs, err := ParseProviderEnumeration(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []ProviderInfo{{GUID: ProcessGUID, Name: names[0]}, {GUID: SystemTraceControlGUID, Name: names[1], MOF: true}}
	if !reflect.DeepEqual(provs, want) {
		t.Errorf("got %+v", provs)
	}
	if _, err := ParseProviderEnumeration(b[:30]); err == nil {
		t.Error("a truncated enumeration parsed")
	}

	ev := le.AppendUint32(nil, 2)
	ev = le.AppendUint32(ev, 0)
	ev = appendDescriptor(ev, Descriptor{ID: 1, Version: 3, Keyword: 0x10})
	ev = appendDescriptor(ev, Descriptor{ID: 2, Task: 2})
	descs, err := ParseProviderEvents(ev)
	if err != nil || len(descs) != 2 || descs[0].Version != 3 || descs[1].Task != 2 {
		t.Errorf("ParseProviderEvents = %+v, %v", descs, err)
	}
	if _, err := ParseProviderEvents(ev[:20]); err == nil {
		t.Error("a truncated event list parsed")
	}
}
