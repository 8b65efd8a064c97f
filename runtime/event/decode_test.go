package event

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

// decodeFormat has one field of every width and kind, at the offsets a
// compiler would give them; its fixed part is 116 bytes.
var decodeFormat = formatText("decode",
	fieldLine("u8 u8v", 8, 1, false),
	fieldLine("s8 s8v", 9, 1, true),
	fieldLine("u16 u16v", 10, 2, false),
	fieldLine("s16 s16v", 12, 2, true),
	fieldLine("u32 u32v", 16, 4, false),
	fieldLine("s32 s32v", 20, 4, true),
	fieldLine("u64 u64v", 24, 8, false),
	fieldLine("s64 s64v", 32, 8, true),
	fieldLine("char comm[16]", 40, 16, false),
	fieldLine("__data_loc char[] name", 56, 4, false),
	fieldLine("__rel_loc char[] rname", 60, 4, false),
	fieldLine("unsigned long args[3]", 64, 24, false),
	fieldLine("__data_loc u32[] ids", 88, 4, false),
	fieldLine("const void * ptr", 96, 8, false),
	fieldLine("__u8 mac[6]", 104, 6, false),
	fieldLine("__rel_loc s16[] deltas", 112, 4, true),
)

const decodeFixed = 116

func parseDecodeFormat(t testing.TB) *Format {
	t.Helper()
	f, err := ParseFormat("test", []byte(decodeFormat))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// payload builds a raw event the way the kernel lays it out: fixed fields
// at their format offsets, dynamic data appended after the fixed part.
type payload struct {
	t   testing.TB
	f   *Format
	raw []byte
}

// newPayload returns a payload of n fixed bytes filled with 0xa5, so a
// decoder that reads a neighbour's bytes gets noticed.
func newPayload(t testing.TB, f *Format, n int) *payload {
	raw := bytes.Repeat([]byte{0xa5}, n)
	return &payload{t: t, f: f, raw: raw}
}

func (p *payload) field(name string) *Field {
	p.t.Helper()
	fld := p.f.Field(name)
	if fld == nil {
		p.t.Fatalf("no field %q", name)
	}
	return fld
}

// put stores v in a scalar field, truncated to the field's size.
func (p *payload) put(name string, v uint64) *payload {
	p.t.Helper()
	fld := p.field(name)
	b := p.raw[fld.Offset : fld.Offset+fld.Size]
	switch fld.Size {
	case 1:
		b[0] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	case 8:
		binary.LittleEndian.PutUint64(b, v)
	default:
		p.t.Fatalf("put: %s has size %d", name, fld.Size)
	}
	return p
}

// bytes copies data into a fixed array field; the rest of it is zeroed.
func (p *payload) bytes(name string, data []byte) *payload {
	p.t.Helper()
	fld := p.field(name)
	b := p.raw[fld.Offset : fld.Offset+fld.Size]
	clear(b)
	copy(b, data)
	return p
}

// dyn appends data and points the data_loc or rel_loc field at it.
func (p *payload) dyn(name string, data []byte) *payload {
	p.t.Helper()
	fld := p.field(name)
	off := len(p.raw)
	p.raw = append(p.raw, data...)
	if fld.Kind == RelLoc {
		off -= fld.Offset + 4
	}
	p.loc(name, off, len(data))
	return p
}

// loc writes a locator by hand, to point it anywhere.
func (p *payload) loc(name string, off, n int) *payload {
	p.t.Helper()
	fld := p.field(name)
	binary.LittleEndian.PutUint32(p.raw[fld.Offset:], uint32(n)<<16|uint32(off)&0xffff)
	return p
}

func TestUintAndIntSignExtendOnlySignedFields(t *testing.T) {
	f := parseDecodeFormat(t)
	tests := []struct {
		name     string
		field    string
		stored   uint64
		wantUint uint64
		wantInt  int64
	}{
		{"a u8 of 0xff is 255", "u8v", 0xff, 255, 255},
		{"an s8 of 0xff is -1", "s8v", 0xff, math.MaxUint64, -1},
		{"an s8 of 0x7f is 127", "s8v", 0x7f, 127, 127},
		{"an s8 of 0x80 is -128", "s8v", 0x80, 1<<64 - 128, -128},
		{"a u16 of 0x8000 is 32768", "u16v", 0x8000, 0x8000, 0x8000},
		{"an s16 of 0x8000 is -32768", "s16v", 0x8000, 1<<64 - 0x8000, -0x8000},
		{"an s16 of 0x7fff is 32767", "s16v", 0x7fff, 0x7fff, 0x7fff},
		{"a u32 of 0xffffffff is 4294967295", "u32v", 0xffffffff, 0xffffffff, 0xffffffff},
		{"an s32 of 0x80000000 is -2147483648", "s32v", 0x80000000, 1<<64 - 0x80000000, math.MinInt32},
		{"an s32 of 0xfffffffe is -2", "s32v", 0xfffffffe, 1<<64 - 2, -2},
		{"a u64 keeps all 64 bits and reads as negative through Int", "u64v", math.MaxUint64, math.MaxUint64, -1},
		{"an s64 of the minimum is the minimum", "s64v", 1 << 63, 1 << 63, math.MinInt64},
		{"a pointer is an unsigned address", "ptr", 0xffff888012345678, 0xffff888012345678, -0x777fedcba988},
		{"common_pid is a signed int", "common_pid", 0xffffffff, math.MaxUint64, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPayload(t, f, decodeFixed).put(tt.field, tt.stored)
			fld := f.Field(tt.field)
			u, ok := fld.Uint(p.raw)
			if !ok || u != tt.wantUint {
				t.Errorf("Uint = %#x, %v; want %#x, true", u, ok, tt.wantUint)
			}
			i, ok := fld.Int(p.raw)
			if !ok || i != tt.wantInt {
				t.Errorf("Int = %d, %v; want %d, true", i, ok, tt.wantInt)
			}
		})
	}
}

func TestStrTrimsAtNULAndFollowsLocators(t *testing.T) {
	f := parseDecodeFormat(t)
	tests := []struct {
		name  string
		build func(p *payload)
		field string
		want  string
	}{
		{"a char array stops at the first NUL",
			func(p *payload) { p.bytes("comm", []byte("bash\x00junk")) }, "comm", "bash"},
		{"a char array without a NUL is all of its bytes",
			func(p *payload) { p.bytes("comm", []byte("0123456789abcdef")) }, "comm", "0123456789abcdef"},
		{"an all-zero char array is empty",
			func(p *payload) { p.bytes("comm", nil) }, "comm", ""},
		{"a data_loc string stops at its NUL",
			func(p *payload) { p.dyn("name", []byte("/usr/bin/true\x00")) }, "name", "/usr/bin/true"},
		{"a data_loc string without a NUL is its whole length",
			func(p *payload) { p.dyn("name", []byte("abc")) }, "name", "abc"},
		{"a zero-length data_loc string is empty",
			func(p *payload) { p.loc("name", decodeFixed, 0) }, "name", ""},
		{"a rel_loc string counts its offset from the end of the locator",
			func(p *payload) { p.dyn("rname", []byte("relative\x00")) }, "rname", "relative"},
		{"a rel_loc and a data_loc in one payload each find their own data",
			func(p *payload) { p.dyn("name", []byte("first\x00")).dyn("rname", []byte("second\x00")) }, "rname", "second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPayload(t, f, decodeFixed)
			tt.build(p)
			fld := f.Field(tt.field)
			got, ok := fld.Str(p.raw)
			if !ok || string(got) != tt.want {
				t.Errorf("Str = %q, %v; want %q, true", got, ok, tt.want)
			}
			data, ok := fld.Data(p.raw)
			if !ok || !bytes.HasPrefix(data, got) {
				t.Errorf("Data = %q, %v; want it to start with %q", data, ok, got)
			}
		})
	}
}

func TestRelLocOffsetIsRelativeToTheLocatorEnd(t *testing.T) {
	f := parseDecodeFormat(t)
	// "rname"'s locator is at 60..64; an offset of 4 means byte 68, which is
	// inside "args" (64..88).
	p := newPayload(t, f, decodeFixed).bytes("args", []byte("....here\x00")).loc("rname", 4, 5)
	got, ok := f.Field("rname").Str(p.raw)
	if !ok || string(got) != "here" {
		t.Errorf("Str = %q, %v; want \"here\", true", got, ok)
	}
	// The same locator read as a data_loc means byte 4, inside the header.
	p.loc("name", 4, 4)
	data, _ := f.Field("name").Data(p.raw)
	if want := p.raw[4:8]; !bytes.Equal(data, want) {
		t.Errorf("data_loc Data = %x, want %x", data, want)
	}
}

func TestBadLocatorsReadAsAbsent(t *testing.T) {
	f := parseDecodeFormat(t)
	tests := []struct {
		name  string
		field string
		build func(p *payload)
	}{
		{"a data_loc running past the payload end is absent", "name",
			func(p *payload) { p.dyn("name", []byte("abcd")).loc("name", decodeFixed, 5) }},
		{"a data_loc starting past the payload end is absent", "name",
			func(p *payload) { p.loc("name", decodeFixed+1, 0) }},
		{"a data_loc at the 64 KiB limit of a short payload is absent", "name",
			func(p *payload) { p.loc("name", 0xffff, 0xffff) }},
		{"a rel_loc running past the payload end is absent", "rname",
			func(p *payload) { p.dyn("rname", []byte("abcd")).loc("rname", decodeFixed-64, 5) }},
		{"a rel_loc that would be in bounds as a data_loc is absent", "rname",
			func(p *payload) { p.loc("rname", decodeFixed-4, 4) }},
		{"a data_loc u32 array running past the end is absent", "ids",
			func(p *payload) { p.loc("ids", decodeFixed-8, 12) }},
		{"a rel_loc s16 array running past the end is absent", "deltas",
			func(p *payload) { p.loc("deltas", 0, 2) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPayload(t, f, decodeFixed)
			tt.build(p)
			fld := f.Field(tt.field)
			if b, ok := fld.Data(p.raw); ok {
				t.Errorf("Data = %q, true; want false", b)
			}
			if b, ok := fld.Str(p.raw); ok {
				t.Errorf("Str = %q, true; want false", b)
			}
			if n := fld.Len(p.raw); n != 0 {
				t.Errorf("Len = %d, want 0", n)
			}
			if v, ok := fld.Index(p.raw, 0); ok {
				t.Errorf("Index(0) = %d, true; want false", v)
			}
		})
	}
}

func TestTruncatedPayloadsReadAsAbsent(t *testing.T) {
	f := parseDecodeFormat(t)
	p := newPayload(t, f, decodeFixed).
		dyn("name", []byte("n\x00")).dyn("rname", []byte("r\x00")).
		dyn("ids", make([]byte, 8)).dyn("deltas", make([]byte, 4))
	for i := range f.Fields {
		fld := &f.Fields[i]
		t.Run(fld.Name, func(t *testing.T) {
			end := fld.Offset + fld.Size
			if !decodes(fld, p.raw) {
				t.Fatalf("%s does not decode from the whole payload", fld.Name)
			}
			for n := range end {
				if decodes(fld, p.raw[:n]) {
					t.Errorf("%s (bytes %d..%d) decodes from a %d-byte payload", fld.Name, fld.Offset, end, n)
				}
			}
		})
	}
	// Cutting a payload inside the dynamic data loses that data too.
	if _, ok := f.Field("deltas").Data(p.raw[:len(p.raw)-1]); ok {
		t.Error("deltas decodes with its last byte cut off")
	}
}

// decodes reports whether the accessor of fld's kind succeeds.
func decodes(fld *Field, raw []byte) bool {
	switch fld.Kind {
	case Scalar, Pointer:
		_, ok := fld.Uint(raw)
		return ok
	}
	_, ok := fld.Data(raw)
	return ok
}

func TestAccessorsRefuseTheWrongKind(t *testing.T) {
	f := parseDecodeFormat(t)
	p := newPayload(t, f, decodeFixed).dyn("name", []byte("x\x00")).dyn("ids", make([]byte, 4))
	for _, name := range []string{"comm", "name", "rname", "args", "ids", "mac"} {
		if v, ok := f.Field(name).Uint(p.raw); ok {
			t.Errorf("Uint of %s = %d, true; want false", name, v)
		}
		if v, ok := f.Field(name).Int(p.raw); ok {
			t.Errorf("Int of %s = %d, true; want false", name, v)
		}
	}
	for _, name := range []string{"u8v", "s64v", "ptr", "common_pid"} {
		fld := f.Field(name)
		if b, ok := fld.Data(p.raw); ok {
			t.Errorf("Data of %s = %x, true; want false", name, b)
		}
		if b, ok := fld.Str(p.raw); ok {
			t.Errorf("Str of %s = %q, true; want false", name, b)
		}
		if n := fld.Len(p.raw); n != 0 {
			t.Errorf("Len of %s = %d, want 0", name, n)
		}
		if v, ok := fld.Index(p.raw, 0); ok {
			t.Errorf("Index of %s = %d, true; want false", name, v)
		}
	}
	// Integers of sizes no machine loads are not integers.
	odd := &Field{Name: "x", Offset: 0, Size: 3, Kind: Scalar, ElemSize: 3}
	if v, ok := odd.Uint(p.raw); ok {
		t.Errorf("Uint of a 3-byte scalar = %d, true; want false", v)
	}
	oddArray := &Field{Name: "x", Offset: 0, Size: 6, Kind: Array, ElemSize: 3}
	if v, ok := oddArray.Index(p.raw, 0); ok {
		t.Errorf("Index of a 3-byte element = %d, true; want false", v)
	}
	if n := oddArray.Len(p.raw); n != 2 {
		t.Errorf("Len of two 3-byte elements = %d, want 2", n)
	}
}

func TestIndexAndLenWalkArrays(t *testing.T) {
	f := parseDecodeFormat(t)
	ids := []byte{1, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 4, 0, 0, 0, 5, 0, 0, 0}
	deltas := []byte{0xff, 0xff, 2, 0}
	p := newPayload(t, f, decodeFixed).
		bytes("args", binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(
			binary.LittleEndian.AppendUint64(nil, 10), 1<<63), 30)).
		bytes("mac", []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}).
		dyn("ids", ids).
		dyn("deltas", deltas)
	tests := []struct {
		name  string
		field string
		want  []uint64
	}{
		{"an unsigned long array has 3 8-byte elements", "args", []uint64{10, 1 << 63, 30}},
		{"a MAC address has 6 bytes, leading zero included", "mac", []uint64{0, 0x11, 0x22, 0x33, 0x44, 0x55}},
		{"a data_loc u32 array has as many elements as its length allows", "ids", []uint64{1, 2, 0xffffffff, 4, 5}},
		{"a signed rel_loc s16 array sign-extends its elements", "deltas", []uint64{math.MaxUint64, 2}},
		{"a char array indexes its bytes", "comm", bytes16(0xa5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fld := f.Field(tt.field)
			if n := fld.Len(p.raw); n != len(tt.want) {
				t.Errorf("Len = %d, want %d", n, len(tt.want))
			}
			for i, want := range tt.want {
				if got, ok := fld.Index(p.raw, i); !ok || got != want {
					t.Errorf("Index(%d) = %#x, %v; want %#x, true", i, got, ok, want)
				}
			}
			for _, i := range []int{len(tt.want), len(tt.want) + 1, -1, math.MinInt, math.MaxInt, 1 << 61, 1 << 62, 1 << 63 / 3} {
				if got, ok := fld.Index(p.raw, i); ok {
					t.Errorf("Index(%d) = %#x, true; want false", i, got)
				}
			}
		})
	}
	// A dynamic array whose length is not a multiple of its element size
	// has only the whole elements.
	p.loc("ids", decodeFixed, 7)
	if n := f.Field("ids").Len(p.raw); n != 1 {
		t.Errorf("Len of 7 bytes of u32 = %d, want 1", n)
	}
	if v, ok := f.Field("ids").Index(p.raw, 1); ok {
		t.Errorf("Index(1) of 7 bytes of u32 = %d, true; want false", v)
	}
}

func bytes16(b byte) []uint64 {
	s := make([]uint64, 16)
	for i := range s {
		s[i] = uint64(b)
	}
	return s
}

func TestDecodingRealFormats(t *testing.T) {
	formats, _ := readFormats(t)

	sw := formats["sched:sched_switch"]
	p := newPayload(t, sw, 64).
		put("common_type", 372).put("common_pid", 0).
		bytes("prev_comm", []byte("swapper/3")).put("prev_pid", 0).put("prev_prio", 120).put("prev_state", 0).
		bytes("next_comm", []byte("kworker/3:1H")).put("next_pid", 4321).put("next_prio", 100)
	wantStr(t, sw, p.raw, "prev_comm", "swapper/3")
	wantStr(t, sw, p.raw, "next_comm", "kworker/3:1H")
	wantInt(t, sw, p.raw, "next_pid", 4321)
	wantInt(t, sw, p.raw, "prev_prio", 120)
	wantInt(t, sw, p.raw, "common_type", 372)

	exec := formats["sched:sched_process_exec"]
	p = newPayload(t, exec, 20).put("pid", 77).put("old_pid", 76).dyn("filename", []byte("/usr/bin/env\x00"))
	wantStr(t, exec, p.raw, "filename", "/usr/bin/env")
	wantInt(t, exec, p.raw, "old_pid", 76)

	enter := formats["raw_syscalls:sys_enter"]
	args := []byte{}
	for _, a := range []uint64{3, 0x7ffd0000, 4096, 0, 0, math.MaxUint64} {
		args = binary.LittleEndian.AppendUint64(args, a)
	}
	p = newPayload(t, enter, 64).put("id", 0).bytes("args", args)
	if n := enter.Field("args").Len(p.raw); n != 6 {
		t.Errorf("sys_enter args Len = %d, want 6", n)
	}
	if v, _ := enter.Field("args").Index(p.raw, 5); v != math.MaxUint64 {
		t.Errorf("sys_enter args[5] = %#x, want all ones", v)
	}

	exit := formats["raw_syscalls:sys_exit"]
	p = newPayload(t, exit, 24).put("id", 257).put("ret", uint64(1<<64-2)) // -ENOENT
	wantInt(t, exit, p.raw, "ret", -2)

	sg := formats["dma:dma_map_sg"]
	p = newPayload(t, sg, 48).put("truncated", 1).
		dyn("device", []byte("0000:00:1f.2\x00")).
		dyn("phys_addrs", binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 0x1000), 0x2000)).
		dyn("lengths", []byte{0, 16, 0, 0, 0, 32, 0, 0})
	wantStr(t, sg, p.raw, "device", "0000:00:1f.2")
	wantInt(t, sg, p.raw, "truncated", 1)
	if n := sg.Field("phys_addrs").Len(p.raw); n != 2 {
		t.Errorf("phys_addrs Len = %d, want 2", n)
	}
	if v, _ := sg.Field("lengths").Index(p.raw, 1); v != 0x2000 {
		t.Errorf("lengths[1] = %#x, want 0x2000", v)
	}

	kvm := formats["kvm:kvm_pvclock_update"]
	p = newPayload(t, kvm, 40).put("tsc_shift", 0xfe).put("flags", 0xfe)
	wantInt(t, kvm, p.raw, "tsc_shift", -2)
	wantInt(t, kvm, p.raw, "flags", 0xfe)
}

func wantStr(t *testing.T, f *Format, raw []byte, name, want string) {
	t.Helper()
	got, ok := f.Field(name).Str(raw)
	if !ok || string(got) != want {
		t.Errorf("%s:%s %s = %q, %v; want %q", f.System, f.Name, name, got, ok, want)
	}
}

func wantInt(t *testing.T, f *Format, raw []byte, name string, want int64) {
	t.Helper()
	got, ok := f.Field(name).Int(raw)
	if !ok || got != want {
		t.Errorf("%s:%s %s = %d, %v; want %d", f.System, f.Name, name, got, ok, want)
	}
}

// Sinks keep the compiler from dropping the calls under measurement.
var (
	sinkU64   uint64
	sinkI64   int64
	sinkBytes []byte
	sinkInt   int
	sinkBool  bool
	sinkField *Field
)

func TestAccessorsDoNotAllocate(t *testing.T) {
	f := parseDecodeFormat(t)
	p := newPayload(t, f, decodeFixed).
		bytes("comm", []byte("bash\x00")).
		dyn("name", []byte("/bin/sh\x00")).dyn("rname", []byte("rel\x00")).
		dyn("ids", make([]byte, 12)).dyn("deltas", make([]byte, 4))
	raw := p.raw
	u32, s8, ptr := f.Field("u32v"), f.Field("s8v"), f.Field("ptr")
	comm, name, rname := f.Field("comm"), f.Field("name"), f.Field("rname")
	args, ids, deltas := f.Field("args"), f.Field("ids"), f.Field("deltas")
	tests := []struct {
		name string
		call func()
	}{
		{"Uint of a scalar", func() { sinkU64, sinkBool = u32.Uint(raw) }},
		{"Uint of a pointer", func() { sinkU64, sinkBool = ptr.Uint(raw) }},
		{"Int of a signed byte", func() { sinkI64, sinkBool = s8.Int(raw) }},
		{"Data of a char array", func() { sinkBytes, sinkBool = comm.Data(raw) }},
		{"Data of a data_loc", func() { sinkBytes, sinkBool = name.Data(raw) }},
		{"Str of a char array", func() { sinkBytes, sinkBool = comm.Str(raw) }},
		{"Str of a data_loc", func() { sinkBytes, sinkBool = name.Str(raw) }},
		{"Str of a rel_loc", func() { sinkBytes, sinkBool = rname.Str(raw) }},
		{"Len of an array", func() { sinkInt = args.Len(raw) }},
		{"Len of a data_loc array", func() { sinkInt = ids.Len(raw) }},
		{"Index of an array", func() { sinkU64, sinkBool = args.Index(raw, 2) }},
		{"Index of a data_loc array", func() { sinkU64, sinkBool = ids.Index(raw, 2) }},
		{"Index of a rel_loc array", func() { sinkU64, sinkBool = deltas.Index(raw, 1) }},
		{"Index out of range", func() { sinkU64, sinkBool = ids.Index(raw, 99) }},
		{"Format.Field by name", func() { sinkField = f.Field("ptr") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, tt.call); n != 0 {
				t.Errorf("%v allocations per call, want 0", n)
			}
		})
	}
}

func BenchmarkFieldInt(b *testing.B) {
	f := testdataFormat(b, "sched:sched_switch")
	p := newPayload(b, f, 64).put("next_pid", 4321)
	fld, raw := f.Field("next_pid"), p.raw
	b.ReportAllocs()
	for b.Loop() {
		sinkI64, sinkBool = fld.Int(raw)
	}
}

func BenchmarkFieldStr(b *testing.B) {
	b.Run("char_array", func(b *testing.B) {
		f := testdataFormat(b, "sched:sched_switch")
		p := newPayload(b, f, 64).bytes("next_comm", []byte("kworker/3:1H"))
		fld, raw := f.Field("next_comm"), p.raw
		b.ReportAllocs()
		for b.Loop() {
			sinkBytes, sinkBool = fld.Str(raw)
		}
	})
	b.Run("data_loc", func(b *testing.B) {
		f := testdataFormat(b, "sched:sched_process_exec")
		p := newPayload(b, f, 20).dyn("filename", []byte("/usr/lib/systemd/systemd-journald\x00"))
		fld, raw := f.Field("filename"), p.raw
		b.ReportAllocs()
		for b.Loop() {
			sinkBytes, sinkBool = fld.Str(raw)
		}
	})
}
