package perfdata

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// scriptedSource is a session.Source that delivers a list of records
// (event.Record, process.* and session.Lost values), then io.EOF.
type scriptedSource struct {
	events map[string]*event.Event
	recs   []any
	done   bool
}

func (s *scriptedSource) Catalog() session.Catalog { return s }
func (s *scriptedSource) Names() []string {
	var n []string
	for k := range s.events {
		n = append(n, k)
	}
	return n
}
func (s *scriptedSource) Lookup(name string) (*event.Event, error) {
	if ev, ok := s.events[name]; ok {
		return ev, nil
	}
	return nil, fmt.Errorf("%w %q", session.ErrUnknownEvent, name)
}
func (s *scriptedSource) Enable([]*event.Event) error { return nil }
func (s *scriptedSource) Interrupt()                  {}
func (s *scriptedSource) Close() error                { return nil }
func (s *scriptedSource) Read(sink session.Sink) error {
	if s.done {
		return io.EOF
	}
	s.done = true
	for _, r := range s.recs {
		switch v := r.(type) {
		case event.Record:
			sink.Sample(&v)
		case process.Comm:
			sink.Comm(v)
		case process.Fork:
			sink.Fork(v)
		case process.Exit:
			sink.Exit(v)
		case process.Mmap:
			sink.Mmap(v)
		case session.Lost:
			sink.Lost(v)
		}
	}
	return nil
}

func TestTeeWritesTheSessionsSamplesAndEveryProcessRecordAfterTheScan(t *testing.T) {
	ev := newWriterEvents(t)
	src := &scriptedSource{events: map[string]*event.Event{ev.sw.Name: ev.sw, ev.prof.Name: ev.prof, ev.enter.Name: ev.enter}}
	sample := func(e *event.Event, time uint64, pid int32) event.Record {
		r := event.Record{Event: e, Time: time, PID: pid, TID: pid, CPU: 1}
		if e.Stack != event.NoStack {
			r.Callchain = []uint64{event.ContextUser, 0x401000}
		} else {
			r.Raw = append(switchPayload("x"), 0, 0, 0, 0)
		}
		return r
	}
	src.recs = []any{
		// What the source found in /proc at the start, stamped with the
		// time of the scan.
		process.Comm{Time: 50, PID: 100, TID: 100, Comm: "traced"},
		process.Comm{Time: 50, PID: 200, TID: 200, Comm: "other"},
		process.Mmap{Time: 50, PID: 100, Start: 0x400000, Len: 0x1000, Prot: protRead | protExec, Path: "/usr/bin/traced"},
		// The kernel's records, from before the scan on.
		process.Fork{Time: 40, PID: 101, TID: 101, PPID: 100, PTID: 100},
		sample(ev.sw, 60, 100),
		sample(ev.sw, 61, 200),
		sample(ev.prof, 62, 101),
		sample(ev.prof, 63, 200),
		session.Lost{Time: 64, CPU: 1, Count: 3},
		process.Exit{Time: 65, PID: 101, TID: 101},
	}
	path := filepath.Join(t.TempDir(), "tee.data")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, writerMeta)
	if err != nil {
		t.Fatal(err)
	}
	tee := NewTee(src, w)
	sess := session.New(session.Config{Source: tee, PIDs: []int32{100}, FollowChildren: true})
	// sys_enter is enabled but never sampled; profile is attached twice.
	for _, e := range []*event.Event{ev.sw, ev.prof, ev.prof, ev.enter} {
		sess.Attach([]*event.Event{e}, &event.Attachment{Probe: e.Name, Handler: tee.Handler()})
	}
	if err := sess.Run(); err != nil {
		t.Fatal(err)
	}
	if err := tee.Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	r, s := readFile(t, path, Options{Notice: func(n string) { t.Error(n) }})
	got := s.items
	if k, ok := hostKernel(); ok {
		if len(got) == 0 || !reflect.DeepEqual(got[0], k) {
			t.Fatalf("the file does not start with this machine's kernel mapping %+v: %+v", k, got)
		}
		got = got[1:]
	}
	// The scan is written with time 0, as perf writes what it synthesizes,
	// so that it comes before the fork it predates. The handler attached
	// twice to profile:hz:999 writes its sample once.
	scan := []any{src.recs[0], src.recs[1], src.recs[2]}
	for i, r := range scan {
		switch v := r.(type) {
		case process.Comm:
			v.Time = 0
			scan[i] = v
		case process.Mmap:
			v.Time = 0
			scan[i] = v
		}
	}
	want := wantDelivered(append(scan, src.recs[3], src.recs[4], src.recs[6], src.recs[8], src.recs[9]))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the file holds\n%#v\nwant the samples of the traced process and its child, and every process record:\n%#v", got, want)
	}
	if names := r.Catalog().Names(); strings.Join(names, " ") != "profile:hz:999 raw_syscalls:sys_enter sched:sched_switch" {
		t.Errorf("events %q, want the three enabled", names)
	}
}

func TestTeeRefusesAFilteredProbe(t *testing.T) {
	ev := newWriterEvents(t)
	filtered := &event.Event{ID: -1, Name: ev.sw.Name, Format: ev.sw.Format, Filter: "prev_pid == 1"}
	src := &scriptedSource{events: map[string]*event.Event{ev.sw.Name: filtered}}
	w, err := NewWriter(&memFile{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = NewTee(src, w).Enable([]*event.Event{filtered})
	if err == nil || !strings.Contains(err.Error(), "filter when you run the script") {
		t.Errorf("Enable: %v, want an error that says to filter when the script runs", err)
	}
}
