package symbols

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestPEDwarfIsReadWithoutTrustingZLIBSizes builds the Go fixture for
// Windows, whose DWARF sections are .zdebug_ (zlib, the inflated size in
// a header), and damages that size.
func TestPEDwarfIsReadWithoutTrustingZLIBSizes(t *testing.T) {
	t.Setenv("GOOS", "windows")
	t.Setenv("GOARCH", "amd64")
	bin := buildGoFixture(t, false)
	image, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	f, err := pe.NewFile(bytes.NewReader(image))
	if err != nil {
		t.Fatal(err)
	}
	zline := f.Section(".zdebug_line")
	if zline == nil {
		t.Fatal("no .zdebug_line: Go no longer compresses Windows DWARF?")
	}
	var outer uint64 // main.outer's RVA
	for _, s := range f.Symbols {
		if s.Name == "main.outer" {
			outer = uint64(f.Sections[s.SectionNumber-1].VirtualAddress) + uint64(s.Value)
		}
	}

	t.Run("the frames are those pe.File.DWARF gives", func(t *testing.T) {
		ours, err := newPEDwarfLines(f)
		if err != nil {
			t.Fatal(err)
		}
		secs, err := readPEDwarfSections(f)
		if err != nil {
			t.Fatal(err)
		}
		std, err := newDwarfLinesFrom(f.DWARF, secs)
		if err != nil {
			t.Fatal(err)
		}
		base := f.OptionalHeader.(*pe.OptionalHeader64).ImageBase
		text := f.Section(".text")
		lo := base + uint64(text.VirtualAddress)
		lines := 0
		for pc := lo; pc < lo+uint64(text.VirtualSize); pc += 7 {
			a, b := ours.frames(pc), std.frames(pc)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("at %#x: %+v, pe.File.DWARF's %+v", pc, a, b)
			}
			if len(a) > 0 && a[0].Line > 0 {
				lines++
			}
		}
		if lines == 0 {
			t.Error("no address has a line")
		}
	})

	for _, tc := range []struct {
		name string
		size uint64
		err  string
	}{
		{"a ZLIB header claiming a terabyte is an error, not an allocation", 1 << 40, "not the 1099511627776 its header says"},
		{"a ZLIB header claiming one byte more than inflates is an error", binary.BigEndian.Uint64(image[zline.Offset+4:]) + 1, "its header says"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Clone(image)
			binary.BigEndian.PutUint64(data[zline.Offset+4:], tc.size)
			bad, err := pe.NewFile(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := readPEDwarfSections(bad); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("readPEDwarfSections: %v, want %q", err, tc.err)
			}
			start := time.Now()
			r := New(Options{DebugDirs: []string{}})
			defer r.Close()
			obj := Object{PID: 1, Path: `C:\fuzz\fixture.exe`, Start: 0x7ff700000000}
			r.byMapping[mappingKey{pid: obj.PID, start: obj.Start, path: obj.Path}] = newBinary(bytes.NewReader(data), obj, "")
			fr := r.User(obj, obj.Start+outer+1)
			if d := time.Since(start); d > time.Second {
				t.Errorf("resolving took %v", d)
			}
			if last := fr[len(fr)-1]; last.Func != "main.outer" || r.Stats().Failures == 0 {
				t.Errorf("frames %+v, stats %+v: want main.outer from the COFF symbols and DWARF counted unusable", fr, r.Stats())
			}
		})
	}
}
