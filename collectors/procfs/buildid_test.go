package procfs

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	le = binary.LittleEndian
	be = binary.BigEndian
	id = []byte{0x93, 0xac, 0x61, 0xec, 0x5a, 0x8e, 0xb1, 0x39, 0x6f, 0x9f, 0xbd, 0x35, 0x0e, 0x31, 0x69, 0xa5, 0x58, 0x52, 0x8a, 0x40}
)

func TestReadBuildID(t *testing.T) {
	property := elfNote(le, "GNU\x00", 5, make([]byte, 16), 8) // NT_GNU_PROPERTY_TYPE_0
	abiTag := elfNote(le, "GNU\x00", 1, []byte{0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}, 4)
	cut := func(b []byte, n int) []byte { return b[:n] }
	tests := []struct {
		name string
		file []byte
		want []byte
		err  string // a substring of the error, "" for none
	}{
		{
			name: "a 64-bit file has its id after the property note, as from GNU ld",
			file: makeELF(true, le, noteSeg{8, property}, noteSeg{4, append(gnuBuildID(le, id), abiTag...)}),
			want: id,
		},
		{
			name: "a big-endian 32-bit file has its id",
			file: makeELF(false, be, noteSeg{4, gnuBuildID(be, id[:16])}),
			want: id[:16],
		},
		{
			name: "a note of another owner with type 3 is not a build-id",
			file: makeELF(true, le, noteSeg{4, elfNote(le, "Go\x00\x00", ntGNUBuildID, []byte("go build id"), 4)}),
		},
		{
			name: "a Go binary has its id in a section outside any PT_NOTE",
			file: withNoteSection(makeELF(true, le, noteSeg{4, elfNote(le, "Go\x00\x00", 4, []byte("go build id"), 4)}), true, le, gnuBuildID(le, id)),
			want: id,
		},
		{
			name: "a 32-bit file has its id in a section",
			file: withNoteSection(makeELF(false, be), false, be, append(elfNote(be, "GNU\x00", 1, make([]byte, 16), 4), gnuBuildID(be, id)...)),
			want: id,
		},
		{
			name: "a build-id in a PT_NOTE wins over the section table",
			file: withNoteSection(makeELF(true, le, noteSeg{4, gnuBuildID(le, id)}), true, le, gnuBuildID(le, id[:16])),
			want: id,
		},
		{
			name: "a broken section table is rejected when the segments have no id",
			file: func() []byte {
				b := withNoteSection(makeELF(true, le), true, le, gnuBuildID(le, id))
				le.PutUint16(b[0x3a:], 8)
				return b
			}(),
			err: "implausible section headers",
		},
		{name: "a file without notes has none", file: makeELF(true, le)},
		{name: "a file that is not ELF has none", file: []byte("#!/bin/sh\necho hello\n")},
		{name: "an empty file has none", file: nil},
		{name: "a file cut inside the ELF header is rejected", file: makeELF(true, le)[:40], err: "inside the ELF header"},
		{
			name: "a file cut inside the program headers is rejected",
			file: cut(makeELF(true, le, noteSeg{4, gnuBuildID(le, id)}), 100),
			err:  "program headers run past the end",
		},
		{
			name: "a file cut inside a note segment is rejected",
			file: cut(makeELF(true, le, noteSeg{4, gnuBuildID(le, id)}), 64+2*56+20),
			err:  "notes run past the end",
		},
		{
			name: "a note longer than its segment is rejected",
			file: makeELF(true, le, noteSeg{4, gnuBuildID(le, id)[:30]}),
			err:  "runs past the notes",
		},
		{
			name: "a segment with a partial note header is rejected",
			file: makeELF(true, le, noteSeg{4, append(abiTag, 1, 2, 3)}),
			err:  "note header runs past the notes",
		},
		{
			name: "an empty build-id is rejected",
			file: makeELF(true, le, noteSeg{4, gnuBuildID(le, nil)}),
			err:  "build-id of 0 bytes",
		},
		{
			name: "an unknown class is rejected",
			file: func() []byte { b := makeELF(true, le); b[elf.EI_CLASS] = 9; return b }(),
			err:  "unknown class 9",
		},
		{
			name: "an unknown byte order is rejected",
			file: func() []byte { b := makeELF(true, le); b[elf.EI_DATA] = 0; return b }(),
			err:  "unknown data encoding 0",
		},
		{
			name: "too many program headers are rejected",
			file: func() []byte { b := makeELF(true, le); le.PutUint16(b[0x38:], 0xffff); return b }(),
			err:  "implausible program headers",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readBuildID(bytes.NewReader(tt.file))
			if tt.err != "" {
				var fe *FormatError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want a FormatError saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got %x, want %x", got, tt.want)
			}
		})
	}
}

// TestReadBuildIDAgreesWithDebugElf compares the program-header walk with
// debug/elf's reading of the .note.gnu.build-id section on the system's
// own binaries and libraries.
func TestReadBuildIDAgreesWithDebugElf(t *testing.T) {
	var files []string
	for _, pattern := range []string{"/usr/bin/*", "/usr/lib/*/libc.so*", "/usr/lib/*/ld-linux*", "/usr/lib64/*.so*"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	if len(files) > 200 {
		files = files[:200]
	}
	checked := 0
	for _, path := range files {
		want, ok := sectionBuildID(path)
		if !ok {
			continue
		}
		got, err := fileBuildID(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: got %x, want %x", path, got, want)
		}
		checked++
	}
	if checked == 0 {
		t.Skip("no ELF files with a .note.gnu.build-id section here")
	}
	t.Logf("%d files agree", checked)
}

// sectionBuildID reads the build-id of path through debug/elf, the slow
// way: section headers and section data.
func sectionBuildID(path string) ([]byte, bool) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return nil, false
	}
	f, err := elf.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		return nil, false
	}
	data, err := s.Data()
	if err != nil || len(data) < 16 {
		return nil, false
	}
	namesz := f.ByteOrder.Uint32(data)
	descsz := f.ByteOrder.Uint32(data[4:])
	off := 12 + (namesz+3)&^3
	if int(off+descsz) > len(data) {
		return nil, false
	}
	return data[off : off+descsz], true
}
