package event

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseFormat feeds ParseFormat mutated format text and decodes a
// mutated payload with every field it finds. Neither may panic, a failure
// must be a *FormatError naming a line of the text, and the accessors must
// agree with each other.
func FuzzParseFormat(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "formats", "*", "*.format"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no testdata formats (%v)", err)
	}
	pattern := make([]byte, 256)
	for i := range pattern {
		pattern[i] = byte(i)
	}
	for _, p := range paths {
		text, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(text, pattern)
	}
	dec := parseDecodeFormat(f)
	p := newPayload(f, dec, decodeFixed).
		bytes("comm", []byte("bash\x00")).
		dyn("name", []byte("/bin/sh\x00")).dyn("rname", []byte("rel\x00")).
		dyn("ids", make([]byte, 12)).dyn("deltas", make([]byte, 4))
	f.Add([]byte(decodeFormat), p.raw)
	f.Add([]byte(formatText("x", fieldLine("__u8 saddr[sizeof(struct sockaddr_in6)]", 8, 28, false))), pattern)
	f.Add([]byte(formatText("x", "field:char comm[16;\toffset:8;\tsize:16;\tsigned:0;")), pattern)

	f.Fuzz(func(t *testing.T, text, raw []byte) {
		fm, err := ParseFormat("fuzz", text)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is a %T, want *FormatError", err, err)
			}
			if lines := bytes.Count(text, []byte("\n")) + 1; fe.Line < 1 || fe.Line > lines {
				t.Fatalf("error on line %d of a %d-line text: %v", fe.Line, lines, err)
			}
			if fm != nil {
				t.Fatal("a Format along with an error")
			}
			return
		}
		if fm.Name == "" || len(fm.Fields) == 0 {
			t.Fatalf("parsed a format with name %q and %d fields", fm.Name, len(fm.Fields))
		}
		if n := len(fm.FieldNames()); n > len(fm.Fields) {
			t.Fatalf("FieldNames has %d names for %d fields", n, len(fm.Fields))
		}
		for i := range fm.Fields {
			fld := &fm.Fields[i]
			if fm.Field(fld.Name) != fld {
				t.Fatalf("Field(%q) does not find field %d", fld.Name, i)
			}
			if fld.Offset > 1<<16 || fld.Size > 1<<16 || fld.Offset < 0 || fld.Size < 0 {
				t.Fatalf("%s: offset %d, size %d", fld.Name, fld.Offset, fld.Size)
			}
			for _, n := range []int{len(raw), len(raw) / 2, 0} {
				checkAccessors(t, fld, raw[:n])
			}
		}
	})
}

// FuzzFieldDecode decodes payloads with Fields built by hand, including
// ones no parser would produce (negative offsets, odd sizes, unknown kinds).
func FuzzFieldDecode(f *testing.F) {
	dec := parseDecodeFormat(f)
	p := newPayload(f, dec, decodeFixed).
		dyn("name", []byte("/bin/sh\x00")).dyn("rname", []byte("rel\x00")).
		dyn("ids", make([]byte, 12)).dyn("deltas", make([]byte, 4))
	for _, fld := range dec.Fields {
		f.Add(uint8(fld.Kind), fld.Offset, fld.Size, fld.ElemSize, fld.Signed, p.raw)
	}
	f.Add(uint8(Array), -1, 8, 8, false, p.raw)
	f.Add(uint8(RelLoc), math.MaxInt-2, 4, 1, false, p.raw)
	f.Add(uint8(Scalar), 0, math.MaxInt, 8, true, p.raw)

	f.Fuzz(func(t *testing.T, kind uint8, offset, size, elem int, signed bool, raw []byte) {
		fld := &Field{Name: "f", Offset: offset, Size: size, ElemSize: elem, Signed: signed, Kind: Kind(kind)}
		checkAccessors(t, fld, raw)
	})
}

// checkAccessors calls every accessor of fld on raw and checks that they
// agree: Int is Uint's bits, Str is Data up to a NUL, Data aliases raw, Len
// counts whole elements and Index succeeds exactly for 0 <= i < Len.
func checkAccessors(t *testing.T, fld *Field, raw []byte) {
	t.Helper()
	u, uok := fld.Uint(raw)
	i, iok := fld.Int(raw)
	if uok != iok || int64(u) != i {
		t.Fatalf("%+v: Uint %#x, %v but Int %d, %v", fld, u, uok, i, iok)
	}
	if uok && fld.Kind != Scalar && fld.Kind != Pointer {
		t.Fatalf("%+v: Uint of a %s succeeds", fld, fld.Kind)
	}

	data, dok := fld.Data(raw)
	str, sok := fld.Str(raw)
	if dok != sok {
		t.Fatalf("%+v: Data ok %v, Str ok %v", fld, dok, sok)
	}
	if dok && fld.Kind != Array && fld.Kind != DataLoc && fld.Kind != RelLoc {
		t.Fatalf("%+v: Data of a %s succeeds", fld, fld.Kind)
	}
	if !bytes.HasPrefix(data, str) || bytes.IndexByte(str, 0) >= 0 {
		t.Fatalf("%+v: Str %q is not Data %q up to a NUL", fld, str, data)
	}
	if len(data) > 0 {
		start := cap(raw) - cap(data)
		if start < 0 || start+len(data) > len(raw) || &raw[start] != &data[0] {
			t.Fatalf("%+v: Data does not alias the payload", fld)
		}
	}

	n := fld.Len(raw)
	want := 0
	if dok && fld.ElemSize > 0 {
		want = len(data) / fld.ElemSize
	}
	if n != want {
		t.Fatalf("%+v: Len %d, want %d", fld, n, want)
	}
	indexable := dok && intSize(fld.ElemSize)
	for _, k := range []int{-1, 0, 1, n - 1, n, n + 1, math.MaxInt, math.MinInt, 1 << 61, 1 << 62} {
		_, ok := fld.Index(raw, k)
		if wantOK := indexable && k >= 0 && k < n; ok != wantOK {
			t.Fatalf("%+v: Index(%d) ok %v, want %v (Len %d)", fld, k, ok, wantOK, n)
		}
	}
}
