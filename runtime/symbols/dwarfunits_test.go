package symbols

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	hexenc "encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Units read alone (indexed by .debug_aranges) must name every address as
// the whole section does: the same inlined frames, functions and lines.
func TestUnitsReadAloneAgreeWithTheWholeSection(t *testing.T) {
	needLinux(t)
	needTool(t, "gcc")
	type input struct {
		name, path string
		wantWhole  bool // some units refer across units: those go through the whole section
	}
	dir := t.TempDir()
	var inputs []input
	for _, b := range []struct {
		name      string
		cflags    []string
		wantWhole bool
	}{
		{"gcc -O2 -g", []string{"-O2", "-g"}, false},
		{"gcc -O0 -g -gdwarf-4", []string{"-O0", "-g", "-gdwarf-4"}, false},
		{"gcc -O2 -g -flto (DW_FORM_ref_addr between units)", []string{"-O2", "-g", "-flto"}, true},
	} {
		bin := filepath.Join(dir, "fixture"+string(rune('a'+len(inputs))))
		run(t, dir, "gcc", append(append([]string{}, b.cflags...), "-o", bin, testdata(t, "fixture.c"))...)
		inputs = append(inputs, input{b.name, bin, b.wantWhole})
	}
	// libc's debug file, when libc6-dbg is installed: 2063 units.
	if p := libcDebugFile(); p != "" {
		inputs = append(inputs, input{name: "libc's debug file", path: p})
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			ef, err := elf.Open(in.path)
			if err != nil {
				t.Fatal(err)
			}
			defer ef.Close()
			secs, release, err := readDwarfSections(ef, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			alone := indexAranges(secs)
			if alone == nil {
				t.Fatal("no usable .debug_aranges")
			}
			whole, err := newDwarfLinesFrom(func() (*dwarf.Data, error) { return secs.data(secs.info) }, secs)
			if err != nil {
				t.Fatal(err)
			}
			text := ef.Section(".text")
			step := max(text.Size/20000, 1)
			looked, named, inlined := 0, 0, 0
			for pc := text.Addr; pc < text.Addr+text.Size; pc += step {
				a, w := alone.frames(pc), whole.frames(pc)
				if !reflect.DeepEqual(a, w) {
					t.Fatalf("at %#x: read alone %+v, whole %+v", pc, a, w)
				}
				looked++
				if len(a) > 0 && a[len(a)-1].Func != "" {
					named++
				}
				if len(a) > 1 {
					inlined++
				}
			}
			if named < looked/2 || inlined == 0 {
				t.Errorf("%d of %d addresses named, %d with inlined frames: the comparison saw too little", named, looked, inlined)
			}
			if alone.failed != 0 {
				t.Errorf("%d units failed to read alone", alone.failed)
			}
			if gotWhole := alone.whole != nil; gotWhole != in.wantWhole {
				t.Errorf("the whole section was built: %v, want %v", gotWhole, in.wantWhole)
			}
		})
	}
}

// libcDebugFile is the path of the running libc's detached debug file,
// or "".
func libcDebugFile() string {
	for _, lib := range []string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6"} {
		ef, err := elf.Open(lib)
		if err != nil {
			continue
		}
		id := buildIDOf(ef)
		ef.Close()
		if len(id) < 2 {
			continue
		}
		p := filepath.Join("/usr/lib/debug/.build-id", hexenc.EncodeToString(id[:1]), hexenc.EncodeToString(id[1:])+".debug")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func TestParseAranges(t *testing.T) {
	le := binary.LittleEndian
	set := func(unit uint32, addrSize byte, tuples ...uint64) []byte {
		var b []byte
		b = le.AppendUint32(b, 0) // length, patched below
		b = le.AppendUint16(b, 2)
		b = le.AppendUint32(b, unit)
		b = append(b, addrSize, 0)
		for len(b)%(2*int(addrSize)) != 0 {
			b = append(b, 0)
		}
		for _, v := range tuples {
			if addrSize == 4 {
				b = le.AppendUint32(b, uint32(v))
			} else {
				b = le.AppendUint64(b, v)
			}
		}
		le.PutUint32(b, uint32(len(b)-4))
		return b
	}
	two := append(set(0x10, 8, 0x1000, 0x100, 0x2000, 0x20, 0, 0), set(0x80, 4, 0x3000, 0x10, 0, 0)...)
	for _, tc := range []struct {
		name    string
		data    []byte
		want    []arange
		wantErr bool
	}{
		{"two sets of 8- and 4-byte addresses give every range with its unit", two,
			[]arange{{0x1000, 0x1100, 0x10}, {0x2000, 0x2020, 0x10}, {0x3000, 0x3010, 0x80}}, false},
		{"ranges at address 0 (dropped code) are left out", set(0x10, 8, 0, 0x40, 0x1000, 0x10, 0, 0),
			[]arange{{0x1000, 0x1010, 0x10}}, false},
		{"a range that wraps around is left out", set(0x10, 8, ^uint64(0)-1, 0x10, 0, 0), nil, false},
		{"a set without its terminator ends at its length", set(0x10, 8, 0x1000, 0x10),
			[]arange{{0x1000, 0x1010, 0x10}}, false},
		{"a length past the end is an error", two[:len(two)-3], nil, true},
		{"a 3-byte address is an error", set(0x10, 3, 0, 0), nil, true},
		{"a version other than 2 is an error", func() []byte { b := set(0x10, 8, 0, 0); b[4] = 3; return b }(), nil, true},
		{"a segment selector is an error", func() []byte { b := set(0x10, 8, 0, 0); b[11] = 8; return b }(), nil, true},
		{"a reserved length is an error", []byte{0xf0, 0xff, 0xff, 0xff, 0, 0}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseAranges(tc.data, le)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseUnitHeader(t *testing.T) {
	le := binary.LittleEndian
	v4 := le.AppendUint32(nil, 7+3)  // length: version, abbrev offset, address size, 3 bytes of DIEs
	v4 = le.AppendUint16(v4, 4)      // version
	v4 = le.AppendUint32(v4, 0x1234) // abbrev offset
	v4 = append(v4, 8, 1, 2, 3)
	v5 := le.AppendUint32(nil, 8+2)
	v5 = le.AppendUint16(v5, 5)
	v5 = append(v5, 1, 8) // compile unit, address size
	v5 = le.AppendUint32(v5, 0x40)
	v5 = append(v5, 1, 0)
	v5x64 := le.AppendUint32(nil, 0xffffffff)
	v5x64 = le.AppendUint64(v5x64, 12+1)
	v5x64 = le.AppendUint16(v5x64, 5)
	v5x64 = append(v5x64, 1, 8)
	v5x64 = le.AppendUint64(v5x64, 0x99)
	v5x64 = append(v5x64, 0)
	for _, tc := range []struct {
		name    string
		info    []byte
		off     uint64
		want    unitHeader
		wantErr bool
	}{
		{"DWARF 4: abbreviations, then the first DIE after the address size", v4, 0, unitHeader{die: 11, end: 14, abbrevOff: 0x1234}, false},
		{"DWARF 5: unit type and address size come first", v5, 0, unitHeader{die: 12, end: 14, abbrevOff: 0x40}, false},
		{"64-bit DWARF 5", v5x64, 0, unitHeader{die: 24, end: 25, abbrevOff: 0x99}, false},
		{"a unit after another", append(append([]byte{}, v4...), v5...), 14, unitHeader{die: 26, end: 28, abbrevOff: 0x40}, false},
		{"a length past the section is an error", v4[:12], 0, unitHeader{}, true},
		{"an offset past the section is an error", v4, 100, unitHeader{}, true},
		{"DWARF 6 is an error", func() []byte { b := append([]byte{}, v4...); b[4] = 6; return b }(), 0, unitHeader{}, true},
		{"a header longer than its unit is an error", func() []byte { b := append([]byte{}, v4...); b[0] = 2; return b }(), 0, unitHeader{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseUnitHeader(tc.info, tc.off, le)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestCrossUnitForms(t *testing.T) {
	// code, tag, children, (attribute, form)..., 0, 0; a table ends with code 0.
	local := []byte{1, 0x11, 1, 0x03, 0x08, 0x13, 0x0b, 0, 0, 2, 0x2e, 0, 0x31, 0x13, 0, 0, 0}
	for _, tc := range []struct {
		name    string
		abbrev  []byte
		off     uint64
		want    bool
		wantErr bool
	}{
		{"references within the unit (ref4) keep it alone", local, 0, false, false},
		{"DW_FORM_ref_addr refers across units", []byte{1, 0x1d, 0, 0x31, 0x10, 0, 0, 0}, 0, true, false},
		{"DW_FORM_indirect may hide a ref_addr", []byte{1, 0x1d, 0, 0x31, 0x16, 0, 0, 0}, 0, true, false},
		{"an implicit constant's value is skipped", []byte{1, 0x34, 0, 0x3a, 0x21, 0x90, 0x01, 0x31, 0x10, 0, 0, 0}, 0, true, false},
		{"the table at an offset is read, not the one before it", append([]byte{1, 0x1d, 0, 0x31, 0x10, 0, 0, 0}, local...), 8, false, false},
		{"a table without its end is an error", local[:len(local)-3], 0, false, true},
		{"an offset past the section is an error", local, 99, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := crossUnitForms(tc.abbrev, tc.off)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// GNU's older compression (.zdebug_*, gcc -gz=zlib-gnu) is read like
// the rest (aranges, units alone; it went through elf.File.DWARF whole),
// and a header that lies about the inflated size is an error, at once.
func TestZdebugSectionsAreInflatedWithoutTrustingTheirSize(t *testing.T) {
	needLinux(t)
	needTool(t, "gcc")
	dir := t.TempDir()
	plain, zbin := filepath.Join(dir, "plain"), filepath.Join(dir, "zdebug")
	run(t, dir, "gcc", "-O2", "-g", "-o", plain, testdata(t, "fixture.c"))
	run(t, dir, "gcc", "-O2", "-g", "-gz=zlib-gnu", "-o", zbin, testdata(t, "fixture.c"))
	open := func(path string) (*elf.File, *dwarfLines) {
		ef, err := elf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ef.Close() })
		dl, err := newDwarfLines(ef, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return ef, dl
	}
	zef, zdl := open(zbin)
	if zef.Section(".zdebug_info") == nil {
		t.Fatal("gcc -gz=zlib-gnu wrote no .zdebug_info")
	}
	_, pdl := open(plain)
	text := zef.Section(".text")
	inlined := 0
	for pc := text.Addr; pc < text.Addr+text.Size; pc++ {
		z, p := zdl.frames(pc), pdl.frames(pc)
		if !reflect.DeepEqual(z, p) {
			t.Fatalf("at %#x: from .zdebug_ %+v, from .debug_ %+v", pc, z, p)
		}
		if len(z) > 1 {
			inlined++
		}
	}
	if inlined == 0 {
		t.Error("no address had inlined frames: the comparison saw too little")
	}

	// Claim 2^40 bytes in .zdebug_info's header.
	data, err := os.ReadFile(zbin)
	if err != nil {
		t.Fatal(err)
	}
	info := zef.Section(".zdebug_info")
	binary.BigEndian.PutUint64(data[info.Offset+4:], 1<<40)
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := newDwarfLines(ef, nil, nil); err == nil || !strings.Contains(err.Error(), ".zdebug_info") {
		t.Errorf("a .zdebug_info claiming 2^40 bytes: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("refusing it took %v", took)
	}
}
