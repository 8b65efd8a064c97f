package otracemod_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/d5/tengo/v2"

	"otrace/bindings/host"
	"otrace/bindings/otracemod"
	"otrace/runtime/event"
	"otrace/runtime/session"
)

// fakeSource delivers a fixed list of records, then io.EOF. Its catalog
// holds the events parsed from testdata plus a few names without a
// format, for globs and suggestions.
type fakeSource struct {
	events  map[string]*event.Event
	names   []string
	recs    []*event.Record
	enabled []*event.Event
}

func newFakeSource(t testing.TB) *fakeSource {
	t.Helper()
	s := &fakeSource{events: map[string]*event.Event{}}
	for _, f := range []struct{ system, file string }{
		{"sched", "sched_switch"}, {"sched", "sched_process_exec"}, {"raw_syscalls", "sys_enter"},
	} {
		text, err := os.ReadFile(filepath.Join("testdata", f.file+".format"))
		if err != nil {
			t.Fatal(err)
		}
		format, err := event.ParseFormat(f.system, text)
		if err != nil {
			t.Fatal(err)
		}
		s.add(&event.Event{ID: -1, Name: f.system + ":" + f.file, Format: format})
	}
	// Events with an empty format, as a recording declares them.
	for _, name := range []string{"sched:sched_wakeup", "irq:irq_handler_entry"} {
		s.add(&event.Event{ID: -1, Name: name, Format: &event.Format{}})
	}
	return s
}

func (s *fakeSource) add(ev *event.Event) {
	s.events[ev.Name] = ev
	s.names = append(s.names, ev.Name)
	slices.Sort(s.names)
}

func (s *fakeSource) Catalog() session.Catalog { return s }

func (s *fakeSource) Names() []string { return s.names }

func (s *fakeSource) Lookup(name string) (*event.Event, error) {
	if ev, ok := s.events[name]; ok {
		return ev, nil
	}
	return nil, fmt.Errorf("%w %q", session.ErrUnknownEvent, name)
}

func (s *fakeSource) Enable(events []*event.Event) error {
	s.enabled = events
	return nil
}

func (s *fakeSource) Read(sink session.Sink) error {
	for _, r := range s.recs {
		sink.Sample(r)
	}
	s.recs = nil
	return io.EOF
}

func (s *fakeSource) Interrupt() {}

func (s *fakeSource) Close() error { return nil }

// record queues a record of event name at time ns with the given payload
// fields: ints for scalars, strings for char arrays and __data_loc strings.
func (s *fakeSource) record(t testing.TB, name string, ns uint64, fields map[string]any) {
	t.Helper()
	ev := s.events[name]
	if ev == nil {
		t.Fatalf("no event %s", name)
	}
	end := 0
	for _, f := range ev.Format.Fields {
		end = max(end, f.Offset+f.Size)
	}
	raw := make([]byte, end)
	for k, v := range fields {
		f := ev.Format.Field(k)
		if f == nil {
			t.Fatalf("%s has no field %s", name, k)
		}
		switch v := v.(type) {
		case int:
			b := raw[f.Offset:]
			switch f.Size {
			case 4:
				binary.LittleEndian.PutUint32(b, uint32(v))
			case 8:
				binary.LittleEndian.PutUint64(b, uint64(v))
			default:
				t.Fatalf("field %s has size %d", k, f.Size)
			}
		case string:
			if f.Kind == event.DataLoc {
				off := len(raw)
				raw = append(raw, v...)
				raw = append(raw, 0)
				binary.LittleEndian.PutUint32(raw[f.Offset:], uint32(len(v)+1)<<16|uint32(off))
			} else {
				copy(raw[f.Offset:f.Offset+f.Size], v)
			}
		}
	}
	s.recs = append(s.recs, &event.Record{Event: ev, Time: ns, CPU: 1, PID: 42, TID: 43, Raw: raw})
}

// rig is a script loaded against a real session on a fake source.
type rig struct {
	t      *testing.T
	src    *fakeSource
	sess   *session.Session
	mod    *otracemod.Module
	script *host.Script
	out    bytes.Buffer
	stderr bytes.Buffer

	lib     []string
	allowOS bool
}

type rigConfig struct {
	args    []string
	output  string
	allowOS bool
	lib     []string
	out     io.Writer // instead of the rig's buffer
}

func newRig(t *testing.T, cfg rigConfig) *rig {
	r := &rig{t: t, src: newFakeSource(t)}
	r.sess = session.New(session.Config{Source: r.src, Stderr: &r.stderr})
	out := io.Writer(&r.out)
	if cfg.out != nil {
		out = cfg.out
	}
	r.mod = otracemod.New(otracemod.Config{Session: r.sess, Out: out, Args: cfg.args, Output: cfg.output})
	r.lib, r.allowOS = cfg.lib, cfg.allowOS
	return r
}

// load compiles and runs the script's top level, as otrace run does.
func (r *rig) load(src string) error {
	s, err := host.Compile(host.Options{
		File:    "t.tengo",
		Src:     []byte(src),
		Globals: map[string]tengo.Object{"otrace": r.mod.Object()},
		Modules: r.mod.Modules(r.lib, r.allowOS),
	})
	if err != nil {
		return err
	}
	r.t.Cleanup(s.Close)
	r.script = s
	r.mod.Bind(s)
	return s.RunMain()
}

func (r *rig) mustLoad(src string) {
	r.t.Helper()
	if err := r.load(src); err != nil {
		r.t.Fatalf("load: %v", err)
	}
}

func (r *rig) run() {
	r.t.Helper()
	if err := r.sess.Run(); err != nil {
		r.t.Fatalf("Run: %v", err)
	}
}

// sortFn is otrace.sort as a Go function.
func sortFn(t testing.TB) func(...tengo.Object) (tengo.Object, error) {
	s := session.New(session.Config{Source: newFakeSource(t)})
	m := otracemod.New(otracemod.Config{Session: s, Out: io.Discard})
	return m.Attrs()["sort"].(*tengo.UserFunction).Value
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
