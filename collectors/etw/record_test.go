package etw

import (
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// handRecord is a SampledProfile EVENT_RECORD laid out byte by byte from
// the documented offsets, not by AppendFlat, so the two cannot share a
// mistake.
func handRecord() []byte {
	b := make([]byte, 112+16)
	le := binary.LittleEndian
	le.PutUint16(b[0:], 112)    // Size
	le.PutUint16(b[4:], 0x0140) // Flags: CLASSIC_HEADER | 64_BIT_HEADER
	le.PutUint32(b[8:], 0x1234) // ThreadId
	le.PutUint32(b[12:], 0x42)  // ProcessId
	le.PutUint64(b[16:], 987654321)
	copy(b[24:], []byte{0xb4, 0xbf, 0x1d, 0xce, 0x7e, 0x13, 0xa6, 0x4d, 0x87, 0xb0, 0x3f, 0x59, 0xaa, 0x10, 0x2c, 0xbc}) // PerfInfo
	b[42] = 2                                                                                                            // Version
	b[45] = 46                                                                                                           // Opcode: SampledProfile
	le.PutUint64(b[48:], 0x8000)                                                                                         // Keyword
	b[80] = 3                                                                                                            // ProcessorNumber
	le.PutUint16(b[82:], 7)                                                                                              // LoggerId
	le.PutUint16(b[86:], 16)                                                                                             // UserDataLength
	le.PutUint64(b[96:], 112)                                                                                            // UserData, as an offset in the flat buffer
	le.PutUint64(b[112:], 0xfffff80312345678)
	le.PutUint32(b[120:], 0x1234)
	le.PutUint16(b[124:], 1)
	return b
}

func TestParseRecordReadsTheDocumentedLayout(t *testing.T) {
	b := handRecord()
	var r Record
	if err := ParseRecord(b, FlatMemory(b), &r); err != nil {
		t.Fatal(err)
	}
	h := r.Header
	if h.Provider != PerfInfoGUID || h.Descriptor.Opcode != 46 || h.Descriptor.Version != 2 || h.Descriptor.Keyword != 0x8000 {
		t.Errorf("header %+v", h)
	}
	if h.ThreadID != 0x1234 || h.ProcessID != 0x42 || h.TimeStamp != 987654321 || h.Flags != 0x0140 {
		t.Errorf("header ids %+v", h)
	}
	if r.CPU != 3 || r.LoggerID != 7 || r.PointerSize() != 8 {
		t.Errorf("cpu %d logger %d ptr %d", r.CPU, r.LoggerID, r.PointerSize())
	}
	if len(r.UserData) != 16 || binary.LittleEndian.Uint64(r.UserData) != 0xfffff80312345678 {
		t.Errorf("user data % x", r.UserData)
	}
	// And AppendFlat writes those same bytes.
	if got := AppendFlat(nil, &r); !reflect.DeepEqual(got, b) {
		t.Errorf("AppendFlat differs from the hand-made record:\n got % x\nwant % x", got, b)
	}
}

func TestAppendFlatRoundTripsExtendedItems(t *testing.T) {
	in := Record{
		Header: Header{Flags: FlagExtendedInfo | FlagProcessorIndex | Flag32BitHeader, ThreadID: 9, ProcessID: 8,
			TimeStamp: -5, Provider: ProviderGUIDFromName("My.Provider"), Descriptor: Descriptor{ID: 300, Level: 4, Keyword: 1 << 40},
			ActivityID: mustGUID("{00112233-4455-6677-8899-aabbccddeeff}")},
		CPU:      700,
		UserData: []byte{1, 2, 3},
		Extended: []ExtItem{
			{Type: ExtStackTrace32, Data: new(pb).u64(77).u32(0x401000).u32(0x80001000).b},
			{Type: ExtRelatedActivityID, Linkage: true, Data: make([]byte, 16)},
			{Type: ExtEventSchemaTL},
		},
	}
	b := AppendFlat(nil, &in)
	if len(b)%8 != 0 {
		t.Errorf("flat record of %d bytes is not 8-byte aligned", len(b))
	}
	var out Record
	if err := ParseRecord(b, FlatMemory(b), &out); err != nil {
		t.Fatal(err)
	}
	out.Extended[2].Data = nil // empty, and nil rather than []byte{}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
	if out.PointerSize() != 4 {
		t.Errorf("32-bit header gives pointer size %d", out.PointerSize())
	}
	id, addrs, err := StackTrace(out.Extended[0].Data, 4, nil)
	if err != nil || id != 77 || !reflect.DeepEqual(addrs, []uint64{0x401000, 0x80001000}) {
		t.Errorf("StackTrace32 = %d %x %v", id, addrs, err)
	}
}

func TestParseRecordRejectsMalformedRecords(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		name   string
		mutate func(b []byte) []byte
		want   string
	}{
		{"a record shorter than EVENT_RECORD", func(b []byte) []byte { return b[:100] }, "100 bytes, want 112"},
		{"user data with a NULL pointer", func(b []byte) []byte { le.PutUint64(b[96:], 0); return b }, "UserData is NULL"},
		{"user data past the buffer", func(b []byte) []byte { le.PutUint16(b[86:], 4000); return b }, "is not readable"},
		{"extended items with a NULL pointer", func(b []byte) []byte {
			le.PutUint16(b[4:], le.Uint16(b[4:])|FlagExtendedInfo)
			le.PutUint16(b[84:], 1)
			return b
		}, "ExtendedData is NULL"},
		{"too many extended items", func(b []byte) []byte {
			le.PutUint16(b[4:], le.Uint16(b[4:])|FlagExtendedInfo)
			le.PutUint16(b[84:], 1000)
			le.PutUint64(b[88:], 8)
			return b
		}, "1000 extended data items"},
		{"an extended item whose data is NULL", func(b []byte) []byte {
			le.PutUint16(b[4:], le.Uint16(b[4:])|FlagExtendedInfo)
			le.PutUint16(b[84:], 1)
			le.PutUint64(b[88:], 112) // the item array over the user data: DataSize 1, DataPtr 0
			le.PutUint16(b[118:], 1)
			le.PutUint64(b[120:], 0)
			return b
		}, "DataPtr is NULL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mutate(handRecord())
			var r Record
			err := ParseRecord(b, FlatMemory(b), &r)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *DecodeError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestExtendedItemsAreIgnoredWithoutTheFlag(t *testing.T) {
	b := handRecord()
	binary.LittleEndian.PutUint16(b[84:], 3) // a count, but no EXTENDED_INFO flag
	var r Record
	if err := ParseRecord(b, FlatMemory(b), &r); err != nil || len(r.Extended) != 0 {
		t.Errorf("ParseRecord = %v with %d items, want none", err, len(r.Extended))
	}
}

func TestStackTraceRejectsRaggedAddresses(t *testing.T) {
	if _, _, err := StackTrace([]byte{1, 2, 3}, 8, nil); err == nil {
		t.Error("a 3-byte stack trace decoded")
	}
	if _, _, err := StackTrace(make([]byte, 8+5), 8, nil); err == nil {
		t.Error("a stack trace with 5 address bytes decoded")
	}
}
