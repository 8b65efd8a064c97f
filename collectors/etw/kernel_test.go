package etw

import (
	"reflect"
	"strings"
	"testing"
)

// decodeKernel decodes a kernel payload as ingest does: with the layout
// of the record's class version, into the event's one format.
func decodeKernel(t *testing.T, name string, version uint8, ptr int, payload []byte) ([]byte, error) {
	t.Helper()
	k := kernelEventNamed(name)
	f := kernelFormatOf(t, name)
	l := compileInto(kernelSchema(k, version), f)
	var d decoder
	desc := Descriptor{Opcode: k.opcode, Version: version}
	raw, err := l.decode(&d, &desc, payload, ptr)
	if err != nil {
		return nil, err
	}
	// The format the probe has must read it.
	if l.format != f && !reflect.DeepEqual(l.format.Fields, f.Fields) {
		t.Fatalf("layout writes another format")
	}
	return append([]byte(nil), raw...), nil
}

func TestKernelClassesDecodeFromTheirMOFLayouts(t *testing.T) {
	tests := []struct {
		name    string
		event   string
		version uint8
		ptr     int
		payload []byte
		want    map[string]any
	}{
		{
			name: "SampledProfile", event: "profile", version: 2, ptr: 8,
			payload: sampledProfilePayload(0xfffff80312345678, 4242),
			want:    map[string]any{"InstructionPointer": int64(-0x7fcedcba988), "ThreadId": int64(4242), "Count": int64(1)},
		},
		{
			name: "CSwitch", event: "cswitch", version: 2, ptr: 8,
			payload: cswitchPayload(100, 200, 6, 5),
			want: map[string]any{"NewThreadId": int64(100), "OldThreadId": int64(200), "NewThreadPriority": int64(8),
				"OldThreadWaitReason": int64(6), "OldThreadWaitMode": int64(1), "OldThreadState": int64(5), "NewThreadWaitTime": int64(5)},
		},
		{
			name: "ReadyThread", event: "readythread", version: 2, ptr: 8,
			payload: new(pb).u32(77).u8(1).u8(0xff).u8(0).u8(0).b,
			want:    map[string]any{"TThreadId": int64(77), "AdjustReason": int64(1), "AdjustIncrement": int64(-1)},
		},
		{
			name: "Process V4 with a SID and both string kinds", event: "process_start", version: 4, ptr: 8,
			payload: processV4Payload(1234, 600, "notepad.exe", `"C:\Windows\notepad.exe" a.txt`),
			want: map[string]any{"ProcessId": int64(1234), "ParentId": int64(600), "SessionId": int64(1),
				"DirectoryTableBase": int64(0x1aa000), "UserSID": "S-1-5-21-1000-2000-3000-1001",
				"ImageFileName": "notepad.exe", "CommandLine": `"C:\Windows\notepad.exe" a.txt`, "PackageFullName": ""},
		},
		{
			name: "Process V3 decodes into the V4 format", event: "process_dcstart", version: 3, ptr: 8,
			payload: new(pb).u64(1).u32(4).u32(0).u32(0).u32(0).u64(0x1ab000).u32(0).astr("System").wstr("").b,
			want:    map[string]any{"ProcessId": int64(4), "DirectoryTableBase": int64(0x1ab000), "UserSID": "", "ImageFileName": "System", "Flags": int64(0)},
		},
		{
			name: "Thread V3", event: "thread_start", version: 3, ptr: 8,
			payload: threadV3Payload(1234, 5678),
			want:    map[string]any{"ProcessId": int64(1234), "TThreadId": int64(5678), "Affinity": int64(0x7ff000004000), "BasePriority": int64(8), "IoPriority": int64(2)},
		},
		{
			name: "Thread V2 from a 32-bit kernel", event: "thread_end", version: 2, ptr: 4,
			payload: new(pb).u32(10).u32(11).u32(1).u32(2).u32(3).u32(4).u32(0x401000).u32(0x401010).u32(0x7ffd0000).u32(0).b,
			want:    map[string]any{"ProcessId": int64(10), "TThreadId": int64(11), "StartAddr": int64(0x401000), "TebBase": int64(0x7ffd0000)},
		},
		{
			name: "Image V3", event: "image_load", version: 3, ptr: 8,
			payload: imageV3Payload(0x7ffa12340000, 0x1f0000, 1234, `\Device\HarddiskVolume3\Windows\System32\ntdll.dll`),
			want: map[string]any{"ImageBase": int64(0x7ffa12340000), "ImageSize": int64(0x1f0000), "ProcessId": int64(1234),
				"ImageCheckSum": int64(0xabcd), "SignatureLevel": int64(12), "FileName": `\Device\HarddiskVolume3\Windows\System32\ntdll.dll`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := decodeKernel(t, tc.event, tc.version, tc.ptr, tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			f := kernelFormatOf(t, tc.event)
			for name, want := range tc.want {
				if got := fieldValue(t, f, raw, name); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", name, got, want)
				}
			}
			if op := fieldValue(t, f, raw, "common_opcode"); op != int64(kernelEventNamed(tc.event).opcode) {
				t.Errorf("common_opcode = %v", op)
			}
		})
	}
}

func TestKernelPayloadsTooShortAreErrors(t *testing.T) {
	full := processV4Payload(1, 2, "a.exe", "a")
	for _, n := range []int{0, 7, 20, 40, 44} {
		if _, err := decodeKernel(t, "process_start", 4, 8, full[:n]); err == nil {
			t.Errorf("a %d-byte Process payload decoded", n)
		}
	}
	if _, err := decodeKernel(t, "profile", 2, 8, sampledProfilePayload(1, 2)[:10]); err == nil || !strings.Contains(err.Error(), "ThreadId") {
		t.Errorf("short SampledProfile: %v", err)
	}
	// A string without its terminator ends with the payload: what it
	// holds is kept.
	raw, err := decodeKernel(t, "image_load", 3, 8, imageV3Payload(1, 2, 3, "abc")[:60])
	if err != nil {
		t.Fatal(err)
	}
	if got := fieldValue(t, kernelFormatOf(t, "image_load"), raw, "FileName"); got != "ab" {
		t.Errorf("unterminated FileName = %q", got)
	}
}

func TestParseStackWalk(t *testing.T) {
	var w StackWalk
	if err := ParseStackWalk(stackWalkPayload(5000, 12, 34, 0xfffff80000001000, 0x7ff600001000), 8, &w); err != nil {
		t.Fatal(err)
	}
	if w.EventTimeStamp != 5000 || w.StackProcess != 12 || w.StackThread != 34 || !reflect.DeepEqual(w.Stack, []uint64{0xfffff80000001000, 0x7ff600001000}) {
		t.Errorf("%+v", w)
	}
	if err := ParseStackWalk(make([]byte, 15), 8, &w); err == nil {
		t.Error("a 15-byte StackWalk decoded")
	}
	if err := ParseStackWalk(make([]byte, 16+6), 8, &w); err == nil {
		t.Error("a StackWalk with 6 address bytes decoded")
	}
	if !isKernelAddress(0xfffff80000001000, 8) || isKernelAddress(0x7ff600001000, 8) || !isKernelAddress(0x80001000, 4) {
		t.Error("isKernelAddress")
	}
}

func TestKernelFormatsLookLikeTracefsFormats(t *testing.T) {
	f := kernelFormatOf(t, "profile")
	if f.System != "etw:kernel" || f.Name != "profile" {
		t.Errorf("format %s:%s", f.System, f.Name)
	}
	if got := f.FieldNames(); !reflect.DeepEqual(got, []string{"InstructionPointer", "ThreadId", "Count", "Reserved"}) {
		t.Errorf("FieldNames = %v", got)
	}
	if fl := f.Field("InstructionPointer"); fl.Type != "void *" || fl.Size != 8 {
		t.Errorf("InstructionPointer is %s of %d bytes", fl.Type, fl.Size)
	}
	if !strings.Contains(string(f.Text), "field:__data_loc") && len(kernelFormatOf(t, "process_start").Fields) == 0 {
		t.Error("no format text")
	}
	if fl := kernelFormatOf(t, "process_start").Field("CommandLine"); fl == nil || !fl.String || fl.Type != "char[]" {
		t.Errorf("CommandLine field %+v", fl)
	}
}
