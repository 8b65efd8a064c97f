package etw

import (
	"bytes"
	"encoding/binary"
	"testing"
	"unicode/utf16"

	"otrace/runtime/event"
)

// pb builds payload bytes field by field, little-endian, packed as ETW
// packs them.
type pb struct{ b []byte }

func (p *pb) u8(v uint8) *pb   { p.b = append(p.b, v); return p }
func (p *pb) u16(v uint16) *pb { p.b = binary.LittleEndian.AppendUint16(p.b, v); return p }
func (p *pb) u32(v uint32) *pb { p.b = binary.LittleEndian.AppendUint32(p.b, v); return p }
func (p *pb) u64(v uint64) *pb { p.b = binary.LittleEndian.AppendUint64(p.b, v); return p }
func (p *pb) raw(b ...byte) *pb {
	p.b = append(p.b, b...)
	return p
}

// ptr writes a pointer of size 4 or 8.
func (p *pb) ptr(v uint64, size int) *pb {
	if size == 4 {
		return p.u32(uint32(v))
	}
	return p.u64(v)
}

// wstr writes NUL-terminated UTF-16.
func (p *pb) wstr(s string) *pb {
	for _, u := range utf16.Encode([]rune(s)) {
		p.u16(u)
	}
	return p.u16(0)
}

// astr writes a NUL-terminated 8-bit string.
func (p *pb) astr(s string) *pb { return p.raw(append([]byte(s), 0)...) }

// sid writes a SID: revision 1, authority, sub-authorities.
func (p *pb) sid(auth uint8, subs ...uint32) *pb {
	p.u8(1).u8(uint8(len(subs))).raw(0, 0, 0, 0, 0, auth)
	for _, s := range subs {
		p.u32(s)
	}
	return p
}

// kernelRec is a classic kernel record of class at opcode and version.
func kernelRec(class GUID, opcode, version uint8, ts int64, cpu uint16, pid, tid uint32, payload []byte) *Record {
	return &Record{
		Header: Header{Flags: FlagClassicHeader | Flag64BitHeader, ThreadID: tid, ProcessID: pid, TimeStamp: ts,
			Provider: class, Descriptor: Descriptor{Opcode: opcode, Version: version}},
		CPU: cpu, UserData: payload,
	}
}

// Payloads of the kernel classes, built to the MOF layouts (64-bit).

func sampledProfilePayload(ip uint64, tid uint32) []byte {
	return new(pb).u64(ip).u32(tid).u16(1).u16(0).b
}

func stackWalkPayload(stamp int64, pid, tid uint32, addrs ...uint64) []byte {
	p := new(pb).u64(uint64(stamp)).u32(pid).u32(tid)
	for _, a := range addrs {
		p.u64(a)
	}
	return p.b
}

func cswitchPayload(newTID, oldTID uint32, waitReason int8, state int8) []byte {
	return new(pb).u32(newTID).u32(oldTID).u8(8).u8(9).u8(0).u8(0).
		u8(uint8(waitReason)).u8(1).u8(uint8(state)).u8(0).u32(5).u32(0).b
}

func processV4Payload(pid, ppid uint32, image, cmd string) []byte {
	return new(pb).u64(0xffffa00012340000).u32(pid).u32(ppid).u32(1).u32(0).
		u64(0x1aa000).u32(0).           // DirectoryTableBase, Flags
		u64(0xffffa000aaaa0000).u64(0). // TOKEN_USER: Sid pointer, Attributes
		sid(5, 21, 1000, 2000, 3000, 1001).
		astr(image).wstr(cmd).wstr("").wstr("").b
}

func threadV3Payload(pid, tid uint32) []byte {
	p := new(pb).u32(pid).u32(tid)
	for i := 0; i < 7; i++ {
		p.u64(0x7ff000000000 + uint64(i)*0x1000)
	}
	return p.u32(0).u8(8).u8(5).u8(2).u8(0).b
}

func imageV3Payload(base, size uint64, pid uint32, name string) []byte {
	return new(pb).u64(base).u64(size).u32(pid).u32(0xabcd).u32(0x5f000000).
		u8(12).u8(1).u16(0).u64(base).u32(0).u32(0).u32(0).u32(0).wstr(name).b
}

// formatOf is the format a kernel event's probe has.
func kernelFormatOf(t testing.TB, name string) *event.Format {
	t.Helper()
	f, err := KernelFormat("etw:kernel:" + name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// fieldValue reads a field of a normalized payload: an int, a string or
// bytes.
func fieldValue(t testing.TB, f *event.Format, raw []byte, name string) any {
	t.Helper()
	fl := f.Field(name)
	if fl == nil {
		t.Fatalf("%s has no field %s; fields: %v", f.Name, name, f.FieldNames())
	}
	switch {
	case fl.Kind == event.Scalar || fl.Kind == event.Pointer:
		v, ok := fl.Int(raw)
		if !ok {
			t.Fatalf("field %s outside the payload", name)
		}
		return v
	case fl.String:
		b, ok := fl.Str(raw)
		if !ok {
			t.Fatalf("field %s outside the payload", name)
		}
		return string(b)
	case fl.ElemSize > 1:
		var out []int64
		for i := 0; i < fl.Len(raw); i++ {
			v, _ := fl.Index(raw, i)
			out = append(out, int64(v))
		}
		return out
	}
	b, ok := fl.Data(raw)
	if !ok {
		t.Fatalf("field %s outside the payload", name)
	}
	return bytes.Clone(b)
}

// captureBytes writes a capture of records, with a clock of 10 MHz
// starting at 1000 ticks and the given TDH schemas.
func captureBytes(t testing.TB, schemas map[*Record][]byte, recs ...*Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	cw, err := NewCaptureWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	cw.Clock(10_000_000, 1000)
	for r, info := range schemas {
		cw.EventInfo(r, info)
	}
	for _, r := range recs {
		cw.Record(r)
	}
	if cw.Err() != nil {
		t.Fatal(cw.Err())
	}
	return buf.Bytes()
}

// providerRec is a manifest provider's record: event id and version,
// 64-bit header.
func providerRec(provider GUID, id uint16, version uint8, ts int64, cpu uint16, pid, tid uint32, payload []byte) *Record {
	return &Record{
		Header: Header{Flags: Flag64BitHeader, ThreadID: tid, ProcessID: pid, TimeStamp: ts,
			Provider: provider, Descriptor: Descriptor{ID: id, Version: version, Level: 4, Keyword: 0x18}},
		CPU: cpu, UserData: payload,
	}
}

// methodLoadPayload is a MethodLoadVerbose (or MethodDC*Verbose) payload
// of version v, as ClrEtwAll.man lays it out.
func methodLoadPayload(v uint8, start uint64, size uint32, namespace, name, sig string) []byte {
	p := new(pb).u64(0x7ff7_0000_1000).u64(0x7ff7_0000_2000).u64(start).u32(size).u32(0x06000001).u32(0x8).
		wstr(namespace).wstr(name).wstr(sig)
	if v >= 1 {
		p.u16(7)
	}
	if v >= 2 {
		p.u64(3)
	}
	return p.b
}
