package eventobj_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"

	"otrace/bindings/eventobj"
	"otrace/runtime/event"
	"otrace/runtime/process"
)

// loadEvent parses testdata/NAME.format (real tracefs text) into an event
// named SYSTEM:NAME.
func loadEvent(t testing.TB, system, name string) *event.Event {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", name+".format"))
	if err != nil {
		t.Fatal(err)
	}
	return parseEvent(t, system, text)
}

func parseEvent(t testing.TB, system string, text []byte) *event.Event {
	t.Helper()
	f, err := event.ParseFormat(system, text)
	if err != nil {
		t.Fatal(err)
	}
	return &event.Event{ID: 0, Name: system + ":" + f.Name, Format: f}
}

// payload builds a raw record at a format's field offsets.
type payload struct {
	t   testing.TB
	f   *event.Format
	raw []byte
}

func newPayload(t testing.TB, ev *event.Event) *payload {
	end := 0
	for _, f := range ev.Format.Fields {
		end = max(end, f.Offset+f.Size)
	}
	return &payload{t: t, f: ev.Format, raw: make([]byte, end)}
}

func (p *payload) field(name string) *event.Field {
	f := p.f.Field(name)
	if f == nil {
		p.t.Fatalf("format %s has no field %s", p.f.Name, name)
	}
	return f
}

// int stores v in a scalar field, truncated to its size.
func (p *payload) int(name string, v int64) *payload {
	f := p.field(name)
	b := p.raw[f.Offset : f.Offset+f.Size]
	switch f.Size {
	case 1:
		b[0] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	case 8:
		binary.LittleEndian.PutUint64(b, uint64(v))
	default:
		p.t.Fatalf("field %s has size %d", name, f.Size)
	}
	return p
}

// ints stores the elements of a fixed array field.
func (p *payload) ints(name string, vs ...int64) *payload {
	f := p.field(name)
	for i, v := range vs {
		b := p.raw[f.Offset+i*f.ElemSize:]
		switch f.ElemSize {
		case 2:
			binary.LittleEndian.PutUint16(b, uint16(v))
		case 4:
			binary.LittleEndian.PutUint32(b, uint32(v))
		case 8:
			binary.LittleEndian.PutUint64(b, uint64(v))
		default:
			p.t.Fatalf("field %s has elements of %d bytes", name, f.ElemSize)
		}
	}
	return p
}

// chars fills a char array, NUL-padded when s is shorter.
func (p *payload) chars(name, s string) *payload {
	f := p.field(name)
	b := p.raw[f.Offset : f.Offset+f.Size]
	clear(b)
	copy(b, s)
	return p
}

// dyn appends data for a __data_loc or __rel_loc field and points the
// field's locator at it.
func (p *payload) dyn(name string, data []byte) *payload {
	f := p.field(name)
	off := len(p.raw)
	p.raw = append(p.raw, data...)
	if f.Kind == event.RelLoc {
		off -= f.Offset + 4
	}
	binary.LittleEndian.PutUint32(p.raw[f.Offset:], uint32(len(data))<<16|uint32(off))
	return p
}

func (p *payload) str(name, s string) *payload { return p.dyn(name, append([]byte(s), 0)) }

// env is an Env whose process table names thread 43 of process 42
// "worker".
func env() *eventobj.Env {
	procs := process.NewTable()
	procs.AddComm(process.Comm{PID: 42, TID: 43, Comm: "worker"})
	procs.AddComm(process.Comm{PID: 42, TID: 42, Comm: "main"})
	return &eventobj.Env{Values: eventobj.NewValues(), Procs: procs}
}

func record(ev *event.Event, raw []byte) *event.Record {
	return &event.Record{Event: ev, Time: 123456789, CPU: 3, PID: 42, TID: 43, Raw: raw, Lost: 7}
}

// show renders a Tengo value with its type, so that "5" and 5 differ.
func show(o tengo.Object) string {
	switch v := o.(type) {
	case *tengo.Int:
		return fmt.Sprintf("int %d", v.Value)
	case *tengo.String:
		return fmt.Sprintf("string %q", v.Value)
	case *tengo.Bytes:
		return fmt.Sprintf("bytes %v", v.Value)
	case *tengo.ImmutableArray:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = strings.TrimPrefix(strings.TrimPrefix(show(e), "int "), "string ")
		}
		return "array [" + strings.Join(parts, " ") + "]"
	case nil:
		return "nil"
	}
	return o.TypeName() + " " + o.String()
}

// get reads e[key] as the VM does.
func get(t testing.TB, o *eventobj.Event, key string) tengo.Object {
	t.Helper()
	v, err := o.IndexGet(&tengo.String{Value: key})
	if err != nil {
		t.Fatalf("e.%s: %v", key, err)
	}
	return v
}

// method returns e.NAME as a function.
func method(t testing.TB, o *eventobj.Event, name string) func(...tengo.Object) (tengo.Object, error) {
	t.Helper()
	f, ok := get(t, o, name).(*tengo.UserFunction)
	if !ok {
		t.Fatalf("e.%s is not a function", name)
	}
	return f.Value
}

func str(s string) *tengo.String { return &tengo.String{Value: s} }
