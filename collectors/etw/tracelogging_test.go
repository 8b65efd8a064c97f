package etw

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

// tlMeta lays out TraceLogging event metadata: u16 size, the event's
// extension (tag) bytes, its name, then the fields as given.
func tlMeta(name string, tags []byte, fields ...[]byte) []byte {
	b := []byte{0, 0}
	b = append(b, tags...)
	b = append(b, name...)
	b = append(b, 0)
	for _, f := range fields {
		b = append(b, f...)
	}
	binary.LittleEndian.PutUint16(b, uint16(len(b)))
	return b
}

// tlField is a field's metadata: name, InType and what follows it.
func tlField(name string, in byte, rest ...byte) []byte {
	return append(append(append([]byte(name), 0), in), rest...)
}

// requestMeta describes an event with every TraceLogging encoding
// otrace decodes.
func requestMeta() []byte {
	return tlMeta("Request", []byte{0x81, 0x02},
		tlField("url", 2|tlgChain, 35),                  // ANSISTRING, OutType UTF8
		tlField("status", 7|tlgChain, 0x80, 0x81, 0x02), // INT32 with field tags
		tlField("user", 1),                              // UNICODESTRING
		tlField("tags", 6|tlgVcount),                    // UINT16[], count in the payload
		tlField("fixed", 4|tlgCcount, 3, 0),             // UINT8[3]
		tlField("blob", 14),                             // BINARY: u16 size + bytes
		tlField("pt", tlgStruct|tlgChain, 2),            // struct of 2
		tlField("x", 7), tlField("y", 7),                //   its members
		tlField("id", 15),    // GUID
		tlField("name2", 22), // COUNTEDSTRING
		tlField("custom", 2|tlgCustom, 2, 0, 0xaa, 0xbb), // custom, 2 bytes of type info
		tlField("flag", 13),   // BOOL32
		tlField("nothing", 0), // NULL: no data, no field
	)
}

func requestPayload() []byte {
	p := new(pb).astr("https://x").u32(uint32(0xfffffffb)).wstr("bob").u16(2).u16(7).u16(8).raw(1, 2, 3).
		u16(2).raw(0xca, 0xfe).u32(10).u32(20).raw(appendGUID(nil, testProvider)...)
	p.u16(6).u16('h').u16('é').u16('!')
	return p.u16(1).raw(0x42).u32(1).b
}

func TestParseTraceLoggingMetadata(t *testing.T) {
	s, err := ParseTraceLogging(requestMeta(), testProvider, Descriptor{Level: 4})
	if err != nil {
		t.Fatal(err)
	}
	if s.EventName != "Request" || s.Source != SourceTraceLogging || len(s.Props) != 12 {
		t.Fatalf("schema %q with %d fields", s.EventName, len(s.Props))
	}
	if p := s.Props[3]; !p.Array || !p.VCount || p.In != InUint16 {
		t.Errorf("tags %+v", p)
	}
	if p := s.Props[4]; !p.Array || p.Count != 3 || p.VCount {
		t.Errorf("fixed %+v", p)
	}
	if p := s.Props[6]; !p.Struct || len(p.Members) != 2 || p.Members[1].Name != "y" {
		t.Errorf("pt %+v", p)
	}
	if p := s.Props[0]; p.Out != 35 { // TDH_OUTTYPE_UTF8
		t.Errorf("url OutType %d", p.Out)
	}
}

func TestTraceLoggingEventsDecodeIntoFields(t *testing.T) {
	s, err := ParseTraceLogging(requestMeta(), testProvider, Descriptor{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := compile(s, "etw:My.Provider", "Request")
	if err != nil {
		t.Fatal(err)
	}
	var d decoder
	raw, err := l.decode(&d, &s.Descriptor, requestPayload(), 8)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"url": "https://x", "status": int64(-5), "user": "bob", "tags": []int64{7, 8}, "fixed": []byte{1, 2, 3},
		"blob": []byte{0xca, 0xfe}, "pt_x": int64(10), "pt_y": int64(20), "id": testProvider.String(),
		"name2": "hé!", "custom": []byte{0x42}, "flag": int64(1),
	}
	for name, w := range want {
		if got := fieldValue(t, l.format, raw, name); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", name, got, w)
		}
	}
	if l.format.Field("nothing") != nil {
		t.Error("a NULL field has a format field")
	}
}

func TestParseTraceLoggingRejectsMalformedMetadata(t *testing.T) {
	tests := []struct {
		name string
		meta []byte
		want string
	}{
		{"too short", []byte{1}, "want at least 2"},
		{"a size past the item", []byte{200, 0, 0, 'a', 0}, "Size 200"},
		{"an extension that never ends", []byte{4, 0, 0x80, 0x80}, "extension runs past"},
		{"a name with no NUL", []byte{4, 0, 0, 'E'}, "no NUL"},
		{"a field with no type", tlMeta("E", []byte{0}, []byte("f\x00")), "no InType"},
		{"a type TraceLogging does not define", tlMeta("E", []byte{0}, tlField("f", 16)), "type 16"},
		{"a struct with no members", tlMeta("E", []byte{0}, tlField("s", tlgStruct|tlgChain, 0)), "no members"},
		{"a struct missing members", tlMeta("E", []byte{0}, tlField("s", tlgStruct|tlgChain, 3), tlField("a", 7)), "members are missing"},
		{"a constant count cut short", tlMeta("E", []byte{0}, tlField("a", 7|tlgCcount, 3)), "u16 runs past"},
		{"custom type info past the end", tlMeta("E", []byte{0}, tlField("c", 2|tlgCustom, 9, 0)), "type info of 9 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTraceLogging(tc.meta, testProvider, Descriptor{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// Nested structs deeper than the bound.
	var fields [][]byte
	for i := 0; i < maxStructDepth+3; i++ {
		fields = append(fields, tlField("s", tlgStruct|tlgChain, 1))
	}
	fields = append(fields, tlField("leaf", 7))
	if _, err := ParseTraceLogging(tlMeta("E", []byte{0}, fields...), testProvider, Descriptor{}); err == nil {
		t.Error("structs nested without bound parsed")
	}
}

func TestProviderTraitsName(t *testing.T) {
	b := []byte{0, 0}
	b = append(b, "My.Provider\x00"...)
	b = append(b, 3, 0, 1) // a trait chunk
	binary.LittleEndian.PutUint16(b, uint16(len(b)))
	if got := providerTraitsName(b); got != "My.Provider" {
		t.Errorf("providerTraitsName = %q", got)
	}
	if got := providerTraitsName([]byte{5, 0, 'a', 'b'}); got != "" {
		t.Errorf("an unterminated name read as %q", got)
	}
}
