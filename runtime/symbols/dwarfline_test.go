package symbols

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"strings"
	"testing"
	"time"
)

// tinyLineTable returns tiny.elf and the file offset of its .debug_line,
// one DWARF 5 table (readelf --debug-dump=rawline): the directory format
// count at 0x1e, its form at 0x20 and the directory count at 0x21; the
// file name format count at 0x26 and the file name count at 0x2b.
func tinyLineTable(t *testing.T) ([]byte, int) {
	t.Helper()
	tiny := mustRead(t, "tiny.elf")
	ef, err := elf.NewFile(bytes.NewReader(tiny))
	if err != nil {
		t.Fatal(err)
	}
	at := int(ef.Section(".debug_line").Offset)
	want := []byte{1, 1, 0x1f, 1, 0, 0, 0, 0, 2, 1, 0x1f, 2, 0x0f, 2}
	if got := tiny[at+0x1e : at+0x2c]; !bytes.Equal(got, want) {
		t.Fatalf("tiny.elf's line table header changed: % x, want % x", got, want)
	}
	return tiny, at
}

// checkTinyLineTable runs checkHeader on the one unit of data.
func checkTinyLineTable(t *testing.T, data []byte) error {
	t.Helper()
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	d, err := ef.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	cu, err := d.Reader().Next()
	if err != nil || cu == nil || cu.Tag != dwarf.TagCompileUnit {
		t.Fatalf("first entry %+v, %v", cu, err)
	}
	raw, release, err := readDwarfSections(ef, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	return raw.debugLine().checkHeader(cu)
}

func TestLineTablesCountingMoreEntriesThanBytesAreRefusedQuickly(t *testing.T) {
	tiny, at := tinyLineTable(t)
	for _, tc := range []struct {
		name  string
		patch map[int][]byte // by offset in .debug_line
		err   string
	}{
		{
			// FuzzELF's find, testdata/fuzz/FuzzELF/dwarf5-directory-count-2e36:
			// dwarf.LineReader allocated a terabyte, a fatal error.
			"a directory count of 2^36 is refused, not allocated",
			map[int][]byte{0x21: {0xfc, 0xff, 0xff, 0xff, 0xff, 0x01}},
			"68719476732 directories of 4 bytes or more each in",
		},
		{
			// Each string past the end read as empty: 16 s and 5 GB.
			"2^28 directories in DW_FORM_string past the end of the table are refused",
			map[int][]byte{0x20: {formString}, 0x21: {0x80, 0x80, 0x80, 0x80, 0x01}},
			"268435456 directories of 1 bytes or more each in",
		},
		{
			// No format: entries of no bytes, 36 s and 11 GB.
			"2^28 file names of no bytes each are refused",
			map[int][]byte{0x26: {0, 0x80, 0x80, 0x80, 0x80, 0x01}},
			"268435456 file names of no bytes each",
		},
		{
			// 77 bytes hold 15 entries of a line_strp and a udata.
			"a file name count one more than the table's bytes hold is refused",
			map[int][]byte{0x2b: {16}},
			"16 file names of 5 bytes or more each in 77 bytes",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Clone(tiny)
			for off, b := range tc.patch {
				copy(data[at+off:], b)
			}
			err := checkTinyLineTable(t, data)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("checkHeader: %v, want %q", err, tc.err)
			}
			start := time.Now()
			r, fr := resolveBytes(data)
			if d := time.Since(start); d > time.Second {
				t.Errorf("resolving took %v", d)
			}
			if st := r.Stats(); st.Failures == 0 || fr[len(fr)-1].Func == "" {
				t.Errorf("the unit was not counted as a failure, or the symbol table no longer names the frame: %+v, %+v", st, fr)
			}
		})
	}
	t.Run("as many file names as the table's bytes hold pass", func(t *testing.T) {
		data := bytes.Clone(tiny)
		data[at+0x2b] = 15
		if err := checkTinyLineTable(t, data); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("tiny.elf's own table passes and gives lines", func(t *testing.T) {
		if err := checkTinyLineTable(t, tiny); err != nil {
			t.Fatal(err)
		}
		r, _ := resolveBytes(tiny)
		fr := r.User(Object{Path: "/fuzz/bin", Start: 0x400000}, 0x401000)
		if st := r.Stats(); st.Failures != 0 || fr[0].File == "" || fr[0].Line == 0 {
			t.Errorf("frames %+v, stats %+v", fr, st)
		}
	})
}
