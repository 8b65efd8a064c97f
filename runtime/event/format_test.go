package event

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"text/tabwriter"
)

var update = flag.Bool("update", false, "rewrite testdata/formats.golden")

// commonFields is the header every tracepoint payload starts with.
const commonFields = "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" +
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n" +
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" +
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"

// formatText writes a format file the way tracefs does: the common fields,
// then the given field lines (without the leading tab and trailing newline).
func formatText(name string, fields ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nID: 42\nformat:\n%s", name, commonFields)
	for _, f := range fields {
		b.WriteString("\t" + f + "\n")
	}
	b.WriteString("\nprint fmt: \"\"\n")
	return b.String()
}

// fieldLine writes one tracefs field line.
func fieldLine(decl string, offset, size int, signed bool) string {
	s := 0
	if signed {
		s = 1
	}
	return fmt.Sprintf("field:%s;\toffset:%d;\tsize:%d;\tsigned:%d;", decl, offset, size, s)
}

// readFormats parses every testdata/formats/SYSTEM/EVENT.format, keyed by
// "SYSTEM:EVENT", and returns the paths in a stable order.
func readFormats(t testing.TB) (map[string]*Format, []string) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "formats", "*", "*.format"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata formats (%v)", err)
	}
	formats := make(map[string]*Format, len(paths))
	for _, p := range paths {
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		system := filepath.Base(filepath.Dir(p))
		f, err := ParseFormat(system, text)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		formats[system+":"+strings.TrimSuffix(filepath.Base(p), ".format")] = f
	}
	return formats, paths
}

func testdataFormat(t testing.TB, name string) *Format {
	t.Helper()
	formats, _ := readFormats(t)
	f := formats[name]
	if f == nil {
		t.Fatalf("no testdata format %s", name)
	}
	return f
}

func TestParseFormatClassifiesFields(t *testing.T) {
	tests := []struct {
		name   string
		decl   string
		offset int
		size   int
		signed bool
		want   Field
	}{
		{"an int is a signed 4-byte scalar", "int prev_prio", 28, 4, true,
			Field{Name: "prev_prio", Type: "int", Offset: 28, Size: 4, Signed: true, Kind: Scalar, ElemSize: 4}},
		{"a pid_t keeps its typedef name", "pid_t pid", 12, 4, true,
			Field{Name: "pid", Type: "pid_t", Offset: 12, Size: 4, Signed: true, Kind: Scalar, ElemSize: 4}},
		{"an unsigned long is an unsigned 8-byte scalar", "unsigned long call_site", 8, 8, false,
			Field{Name: "call_site", Type: "unsigned long", Offset: 8, Size: 8, Kind: Scalar, ElemSize: 8}},
		{"a short is a signed 2-byte scalar", "short oom_score_adj", 28, 2, true,
			Field{Name: "oom_score_adj", Type: "short", Offset: 28, Size: 2, Signed: true, Kind: Scalar, ElemSize: 2}},
		{"a signed char is a signed 1-byte scalar", "signed char u", 35, 1, true,
			Field{Name: "u", Type: "signed char", Offset: 35, Size: 1, Signed: true, Kind: Scalar, ElemSize: 1}},
		{"a bool is a 1-byte scalar", "bool was_armed", 44, 1, false,
			Field{Name: "was_armed", Type: "bool", Offset: 44, Size: 1, Kind: Scalar, ElemSize: 1}},
		{"an enum keeps its whole type", "enum hrtimer_mode mode", 40, 4, false,
			Field{Name: "mode", Type: "enum hrtimer_mode", Offset: 40, Size: 4, Kind: Scalar, ElemSize: 4}},
		{"a syscall int argument widened to 8 bytes keeps the format's size", "int dfd", 16, 8, false,
			Field{Name: "dfd", Type: "int", Offset: 16, Size: 8, Kind: Scalar, ElemSize: 8}},
		{"a void pointer is a pointer", "void * hrtimer", 8, 8, false,
			Field{Name: "hrtimer", Type: "void *", Offset: 8, Size: 8, Kind: Pointer, ElemSize: 8}},
		{"a const void pointer is a pointer", "const void * ptr", 16, 8, false,
			Field{Name: "ptr", Type: "const void *", Offset: 16, Size: 8, Kind: Pointer, ElemSize: 8}},
		{"a pointer written without a space before the name is a pointer", "const void *ptr", 16, 8, false,
			Field{Name: "ptr", Type: "const void *", Offset: 16, Size: 8, Kind: Pointer, ElemSize: 8}},
		{"a char pointer is an address, not a string", "const char * filename", 24, 8, false,
			Field{Name: "filename", Type: "const char *", Offset: 24, Size: 8, Kind: Pointer, ElemSize: 8}},
		{"a char array is a string", "char prev_comm[16]", 8, 16, false,
			Field{Name: "prev_comm", Type: "char[16]", Offset: 8, Size: 16, Kind: Array, ElemSize: 1, String: true}},
		{"an unsigned long array has 8-byte elements", "unsigned long args[6]", 16, 48, false,
			Field{Name: "args", Type: "unsigned long[6]", Offset: 16, Size: 48, Kind: Array, ElemSize: 8}},
		{"a u8 array sized like a MAC address is bytes, not a string", "__u8 grpmac[6]", 50, 6, false,
			Field{Name: "grpmac", Type: "__u8[6]", Offset: 50, Size: 6, Kind: Array, ElemSize: 1}},
		{"an array sized by sizeof takes its element size from the type", "__u8 saddr[sizeof(struct sockaddr_in6)]", 8, 28, false,
			Field{Name: "saddr", Type: "__u8[sizeof(struct sockaddr_in6)]", Offset: 8, Size: 28, Kind: Array, ElemSize: 1}},
		{"a char array sized by a macro is a string", "char comm[TASK_COMM_LEN]", 8, 16, false,
			Field{Name: "comm", Type: "char[TASK_COMM_LEN]", Offset: 8, Size: 16, Kind: Array, ElemSize: 1, String: true}},
		{"a u32 array sized by a macro has 4-byte elements", "u32 regs[NR_REGS]", 8, 32, false,
			Field{Name: "regs", Type: "u32[NR_REGS]", Offset: 8, Size: 32, Kind: Array, ElemSize: 4}},
		{"a flexible char array has no size but is a string", "char buf[]", 16, 0, false,
			Field{Name: "buf", Type: "char[]", Offset: 16, Size: 0, Kind: Array, ElemSize: 1, String: true}},
		{"a flexible unsigned long array has 8-byte elements", "unsigned long args[]", 24, 0, false,
			Field{Name: "args", Type: "unsigned long[]", Offset: 24, Size: 0, Kind: Array, ElemSize: 8}},
		{"an empty counted array still has its element size", "unsigned long caller[8]", 16, 0, false,
			Field{Name: "caller", Type: "unsigned long[8]", Offset: 16, Size: 0, Kind: Array, ElemSize: 8}},
		{"a data_loc char array is a dynamic string", "__data_loc char[] filename", 8, 4, false,
			Field{Name: "filename", Type: "char[]", Offset: 8, Size: 4, Kind: DataLoc, ElemSize: 1, String: true}},
		{"a data_loc u64 array has 8-byte elements", "__data_loc u64[] phys_addrs", 24, 4, false,
			Field{Name: "phys_addrs", Type: "u64[]", Offset: 24, Size: 4, Kind: DataLoc, ElemSize: 8}},
		{"a data_loc unsigned int array has 4-byte elements", "__data_loc unsigned int[] lengths", 32, 4, false,
			Field{Name: "lengths", Type: "unsigned int[]", Offset: 32, Size: 4, Kind: DataLoc, ElemSize: 4}},
		{"a data_loc u8 array is bytes", "__data_loc u8[] buf", 52, 4, false,
			Field{Name: "buf", Type: "u8[]", Offset: 52, Size: 4, Kind: DataLoc, ElemSize: 1}},
		{"a data_loc written without brackets is still dynamic", "__data_loc cpumask_t cpumask", 8, 4, false,
			Field{Name: "cpumask", Type: "cpumask_t[]", Offset: 8, Size: 4, Kind: DataLoc, ElemSize: 1}},
		{"a rel_loc char array is a relative dynamic string", "__rel_loc char[] name", 8, 4, false,
			Field{Name: "name", Type: "char[]", Offset: 8, Size: 4, Kind: RelLoc, ElemSize: 1, String: true}},
		{"a rel_loc u32 array has 4-byte elements", "__rel_loc u32[] ids", 12, 4, false,
			Field{Name: "ids", Type: "u32[]", Offset: 12, Size: 4, Kind: RelLoc, ElemSize: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := formatText("ev", fieldLine(tt.decl, tt.offset, tt.size, tt.signed))
			f, err := ParseFormat("sys", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			got := f.Field(tt.want.Name)
			if got == nil {
				t.Fatalf("no field %q in %v", tt.want.Name, f.Fields)
			}
			if *got != tt.want {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseFormatReadsTheHeader(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		wantName  string
		wantID    uint32
		wantPrint string
	}{
		{"a tracefs format gives name, ID and print format",
			formatText("sched_switch"), "sched_switch", 42, `""`},
		{"a format with CRLF line ends parses like one with LF",
			strings.ReplaceAll(formatText("crlf"), "\n", "\r\n"), "crlf", 42, `""`},
		{"a format without an ID line has ID 0",
			"name: noid\nformat:\n" + commonFields + "print fmt: \"x\"", "noid", 0, `"x"`},
		{"a print format with a literal newline keeps both lines",
			"name: nl\nID: 7\nformat:\n" + commonFields + "print fmt: \"a %d\n\", REC->common_pid\n",
			"nl", 7, "\"a %d\n\", REC->common_pid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFormat("sys", []byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if f.System != "sys" || f.Name != tt.wantName || f.ID != tt.wantID || f.Print != tt.wantPrint {
				t.Errorf("got %q:%q ID %d print %q, want sys:%q ID %d print %q",
					f.System, f.Name, f.ID, f.Print, tt.wantName, tt.wantID, tt.wantPrint)
			}
			if len(f.Fields) != 4 {
				t.Errorf("got %d fields, want the 4 common ones", len(f.Fields))
			}
		})
	}
}

func TestParseFormatKeepsCommonFieldsButFieldNamesLeavesThemOut(t *testing.T) {
	f := testdataFormat(t, "sched:sched_switch")
	common := []Field{
		{Name: "common_type", Type: "unsigned short", Offset: 0, Size: 2, Kind: Scalar, ElemSize: 2},
		{Name: "common_flags", Type: "unsigned char", Offset: 2, Size: 1, Kind: Scalar, ElemSize: 1},
		{Name: "common_preempt_count", Type: "unsigned char", Offset: 3, Size: 1, Kind: Scalar, ElemSize: 1},
		{Name: "common_pid", Type: "int", Offset: 4, Size: 4, Signed: true, Kind: Scalar, ElemSize: 4},
	}
	for _, want := range common {
		if got := f.Field(want.Name); got == nil || *got != want {
			t.Errorf("Field(%q) = %+v, want %+v", want.Name, got, want)
		}
	}
	want := []string{"prev_comm", "prev_pid", "prev_prio", "prev_state", "next_comm", "next_pid", "next_prio"}
	if got := f.FieldNames(); !reflect.DeepEqual(got, want) {
		t.Errorf("FieldNames() = %q, want %q", got, want)
	}
	if f.Field("no_such_field") != nil {
		t.Error("Field of an unknown name is not nil")
	}
	var nilFormat *Format
	if nilFormat.Field("x") != nil || nilFormat.FieldNames() != nil {
		t.Error("a nil Format has fields")
	}
}

func TestIsCommon(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"common_pid", true},
		{"common_preempt_count", true},
		{"common_", false},
		{"common", false},
		{"commonpid", false},
		{"pid", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsCommon(tt.name); got != tt.want {
			t.Errorf("IsCommon(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseFormatRejectsBadText(t *testing.T) {
	// Line numbers: formatText puts the first non-common field on line 9.
	const first = 9
	fieldA := fieldLine("int a", 8, 4, true)
	tests := []struct {
		name     string
		text     string
		wantLine int
		wantMsg  string
	}{
		{"a format with no name line fails at line 1",
			"ID: 1\nformat:\n" + commonFields, 1, `no "name:" line`},
		{"a format with no fields fails at its last line",
			"name: x\nID: 1\nformat:\n\nprint fmt: \"\"", 5, "no fields"},
		{"a bad ID fails on the ID line",
			"name: x\nID: twelve\nformat:\n" + commonFields, 2, "bad ID"},
		{"an ID wider than 32 bits fails",
			"name: x\nID: 4294967296\nformat:\n" + commonFields, 2, "bad ID"},
		{"an offset that is not a number fails",
			formatText("x", "field:int a;\toffset:eight;\tsize:4;\tsigned:1;"), first, `bad offset "eight"`},
		{"a negative offset fails",
			formatText("x", fieldLine("int a", -8, 4, true)), first, "bad offset"},
		{"a size that is not a number fails",
			formatText("x", "field:int a;\toffset:8;\tsize:;\tsigned:1;"), first, "bad size"},
		{"a bad signed flag fails",
			formatText("x", "field:int a;\toffset:8;\tsize:4;\tsigned:yes;"), first, "bad signed"},
		{"a field appearing twice fails on its second line",
			formatText("x", fieldA, fieldLine("int b", 12, 4, true), fieldLine("long a", 16, 8, true)), first + 2, `field "a" appears twice`},
		{"a field repeating a common field fails",
			formatText("x", fieldLine("int common_pid", 8, 4, true)), first, `"common_pid" appears twice`},
		{"a field without a size fails",
			formatText("x", "field:int a;\toffset:8;\tsigned:1;"), first, "needs a declaration, offset and size"},
		{"a field without an offset fails",
			formatText("x", "field:int a;\tsize:4;\tsigned:1;"), first, "needs a declaration, offset and size"},
		{"a field without a declaration fails",
			formatText("x", "field:;\toffset:8;\tsize:4;\tsigned:1;"), first, "needs a declaration, offset and size"},
		{"an offset beyond 64 KiB fails",
			formatText("x", fieldLine("int a", 1<<17, 4, true)), first, "out of range"},
		{"a size beyond 64 KiB fails",
			formatText("x", fieldLine("char a[131072]", 8, 1<<17, false)), first, "out of range"},
		{"a garbage line fails",
			formatText("x", fieldA, "this is not a format line"), first + 1, `unexpected text "this is not a format line"`},
		{"a long garbage line is clipped in the message",
			formatText("x", strings.Repeat("z", 100)), first, strings.Repeat("z", 40) + "…"},
		{"a field line with a stray word fails",
			formatText("x", "field:int a;\toffset:8;\tsize:4;\tsigned:1;\tjunk;"), first, `unexpected "junk"`},
		{"an unclosed bracket fails",
			formatText("x", fieldLine("char comm[16", 8, 16, false)), first, "unbalanced ["},
		{"brackets in the wrong order fail",
			formatText("x", fieldLine("char comm]16[", 8, 16, false)), first, "unbalanced ["},
		{"a closing bracket alone fails",
			formatText("x", fieldLine("char comm16]", 8, 16, false)), first, "cannot find the field name"},
		{"a type with no name fails",
			formatText("x", fieldLine("int", 8, 4, true)), first, "cannot find the field name"},
		{"a name that is not an identifier fails",
			formatText("x", fieldLine("int 3d", 8, 4, true)), first, "cannot find the field name"},
		{"a data_loc with a 2-byte locator fails",
			formatText("x", fieldLine("__data_loc char[] name", 8, 2, false)), first, `data_loc field "name" has size 2, want 4`},
		{"a rel_loc with a 0-byte locator fails",
			formatText("x", fieldLine("__rel_loc char[] name", 8, 0, false)), first, `rel_loc field "name" has size 0, want 4`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFormat("sys", []byte(tt.text))
			if err == nil {
				t.Fatalf("parsed as %+v, want an error", f)
			}
			if f != nil {
				t.Errorf("got a Format along with the error")
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is a %T, want *FormatError", err, err)
			}
			if fe.Line != tt.wantLine || !strings.Contains(fe.Msg, tt.wantMsg) {
				t.Errorf("got line %d %q, want line %d containing %q", fe.Line, fe.Msg, tt.wantLine, tt.wantMsg)
			}
			if want := fmt.Sprintf("format line %d: ", tt.wantLine); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q, want it to start with %q", err.Error(), want)
			}
		})
	}
}

// TestTestdataFormatsMatchGolden pins how each real format file parses; run
// `go test -run Golden -update` after a deliberate change and read the diff.
func TestTestdataFormatsMatchGolden(t *testing.T) {
	formats, paths := readFormats(t)
	var b bytes.Buffer
	for _, p := range paths {
		system := filepath.Base(filepath.Dir(p))
		name := system + ":" + strings.TrimSuffix(filepath.Base(p), ".format")
		describe(&b, name, formats[name])
	}
	golden := filepath.Join("testdata", "formats.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("parsed formats differ from %s; rerun with -update and read the diff:\n%s", golden, b.Bytes())
	}
}

func describe(b *bytes.Buffer, name string, f *Format) {
	fmt.Fprintf(b, "%s id=%d names=%s\n", name, f.ID, strings.Join(f.FieldNames(), ","))
	var rows bytes.Buffer
	w := tabwriter.NewWriter(&rows, 0, 8, 1, ' ', 0)
	for _, fld := range f.Fields {
		sign, str := "unsigned", ""
		if fld.Signed {
			sign = "signed"
		}
		if fld.String {
			str = "string"
		}
		fmt.Fprintf(w, "%s\t%s\t@%d\t+%d\t%s\t%s\telem=%d\t%s\n",
			fld.Name, fld.Type, fld.Offset, fld.Size, sign, fld.Kind, fld.ElemSize, str)
	}
	w.Flush()
	for _, row := range strings.SplitAfter(rows.String(), "\n") {
		if row != "" {
			b.WriteString("  " + strings.TrimRight(row, " \n") + "\n")
		}
	}
	fmt.Fprintf(b, "  print fmt: %d bytes on %d lines\n\n", len(f.Print), strings.Count(f.Print, "\n")+1)
}

func TestKindString(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{Scalar, "scalar"}, {Pointer, "pointer"}, {Array, "array"},
		{DataLoc, "data_loc"}, {RelLoc, "rel_loc"}, {Kind(99), "unknown"},
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.want {
			t.Errorf("Kind(%d).String() = %q, want %q", tt.kind, got, tt.want)
		}
	}
}
