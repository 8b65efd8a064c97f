package filter

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"otrace/runtime/event"
)

// systems maps the formats in testdata/formats to their tracefs system.
var systems = map[string]string{
	"sched_switch":       "sched",
	"sched_process_exec": "sched",
	"sys_enter":          "raw_syscalls",
}

// testFormat parses testdata/formats/NAME.format.
func testFormat(t testing.TB, name string) *event.Format {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", "formats", name+".format"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := event.ParseFormat(systems[name], text)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}

// oddFormat has the field layouts the real formats above lack: pointers,
// char pointers, a __rel_loc string, unsigned char and non-char arrays, a
// dynamic non-char array and an integer of an odd width.
func oddFormat(t testing.TB) *event.Format {
	t.Helper()
	lines := []string{
		"field:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;",
		"field:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;",
		"field:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;",
		"field:int common_pid;\toffset:4;\tsize:4;\tsigned:1;",
		"field:void * ptr;\toffset:8;\tsize:8;\tsigned:0;",
		"field:const char * name;\toffset:16;\tsize:8;\tsigned:0;",
		"field:__rel_loc char[] rel;\toffset:24;\tsize:4;\tsigned:0;",
		"field:unsigned char mac[6];\toffset:28;\tsize:6;\tsigned:0;",
		"field:s8 tiny;\toffset:34;\tsize:1;\tsigned:1;",
		"field:s16 small;\toffset:36;\tsize:2;\tsigned:1;",
		"field:u64 ids[2];\toffset:40;\tsize:16;\tsigned:0;",
		"field:__data_loc u64[] addrs;\toffset:56;\tsize:4;\tsigned:0;",
		"field:__int128 huge;\toffset:64;\tsize:16;\tsigned:1;",
	}
	text := "name: odd\nID: 7\nformat:\n\t" + strings.Join(lines, "\n\t") + "\n\nprint fmt: \"\"\n"
	f, err := event.ParseFormat("test", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// payload builds a raw payload for a format, field by field, at the
// offsets the format gives.
type payload struct {
	t   testing.TB
	f   *event.Format
	raw []byte
}

func newPayload(t testing.TB, f *event.Format) *payload {
	n := 0
	for i := range f.Fields {
		n = max(n, f.Fields[i].Offset+f.Fields[i].Size)
	}
	return &payload{t: t, f: f, raw: make([]byte, n)}
}

func (p *payload) field(name string) *event.Field {
	fld := p.f.Field(name)
	if fld == nil {
		p.t.Fatalf("no field %s in %s", name, p.f.Name)
	}
	return fld
}

// int stores v in an integer field, truncated to its width.
func (p *payload) int(name string, v int64) *payload {
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
		binary.LittleEndian.PutUint64(b, uint64(v))
	default:
		p.t.Fatalf("field %s is %d bytes", name, fld.Size)
	}
	return p
}

// bytes fills a fixed array with data, zero-padded.
func (p *payload) bytes(name string, data string) *payload {
	fld := p.field(name)
	if len(data) > fld.Size {
		p.t.Fatalf("%q does not fit %s", data, name)
	}
	b := p.raw[fld.Offset : fld.Offset+fld.Size]
	clear(b)
	copy(b, data)
	return p
}

// dyn appends data to the payload and points a __data_loc or __rel_loc
// field at it. Strings as the kernel writes them end in a NUL: pass it.
func (p *payload) dyn(name string, data string) *payload {
	fld := p.field(name)
	off := len(p.raw)
	p.raw = append(p.raw, data...)
	if fld.Kind == event.RelLoc {
		off -= fld.Offset + 4
	}
	binary.LittleEndian.PutUint32(p.raw[fld.Offset:], uint32(len(data))<<16|uint32(off))
	return p
}

// compile compiles expr for the format or fails the test.
func compile(t testing.TB, expr string, f *event.Format) *Filter {
	t.Helper()
	flt, err := Compile(expr, f)
	if err != nil {
		t.Fatalf("Compile(%q): %v", expr, err)
	}
	return flt
}

func (p *payload) String() string { return fmt.Sprintf("% x", p.raw) }
