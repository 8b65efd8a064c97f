package perfdata

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"otrace/collectors/replay"
	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// sysEnterFormat is raw_syscalls:sys_enter's format on the test machine.
const sysEnterFormat = `name: sys_enter
ID: 443
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:long id;	offset:8;	size:8;	signed:1;
	field:unsigned long args[6];	offset:16;	size:48;	signed:0;

print fmt: "NR %ld (%lx, %lx, %lx, %lx, %lx, %lx)", REC->id, REC->args[0], REC->args[1], REC->args[2], REC->args[3], REC->args[4], REC->args[5]
`

// writerEvents are the events of the synthetic files: two tracepoints of
// two systems, a profile with both stacks, a software event without
// stacks and one with the kernel's stack only.
type writerEvents struct {
	sw, enter, prof, faults, kclock *event.Event
}

func newWriterEvents(t testing.TB) writerEvents {
	t.Helper()
	parse := func(sys string, text []byte) *event.Format {
		f, err := event.ParseFormat(sys, text)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	plain := func(name string, stack event.StackMode) *event.Event {
		return &event.Event{ID: -1, Name: name, Format: &event.Format{Name: name}, Stack: stack}
	}
	return writerEvents{
		sw:     &event.Event{ID: -1, Name: "sched:sched_switch", Format: parse("sched", schedSwitchFormat(t))},
		enter:  &event.Event{ID: -1, Name: "raw_syscalls:sys_enter", Format: parse("raw_syscalls", []byte(sysEnterFormat))},
		prof:   plain("profile:hz:999", event.BothStacks),
		faults: plain("software:page-faults", event.NoStack),
		kclock: plain("software:cpu-clock", event.KernelStack),
	}
}

func (e writerEvents) all() []*event.Event {
	return []*event.Event{e.sw, e.enter, e.prof, e.faults, e.kclock}
}

// writerMeta is the host of the synthetic files.
var writerMeta = map[string]string{
	replay.MetaHostname:      "synth-host",
	replay.MetaKernelRelease: "6.18.0-synth",
	replay.MetaArch:          "amd64",
	replay.MetaNumCPU:        "4",
	replay.MetaCommandLine:   "otrace record -o synth.data -e sched:sched_switch",
	replay.MetaOtraceVersion: "1.2.3",
}

// synthRecords is a recording's worth of records in time order, of the
// types a Writer takes: samples of every event (with n sched_switch and
// sys_enter samples, enough for several rounds), and process and loss
// records. Samples are event.Records; the rest are process.* and
// session.Lost values.
func synthRecords(ev writerEvents, n int) []any {
	kernelID := bytes.Repeat([]byte{0x4a}, 20)
	shID := bytes.Repeat([]byte{0xbe}, 20)
	shortID := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	var recs []any
	time := uint64(1_000_000_000)
	next := func() uint64 { time += 50_000; return time } // 20,000 records a second
	recs = append(recs,
		process.Mmap{Time: next(), PID: -1, Start: 0xffffffff81000000, Len: 0x120bb08, Pgoff: 0xffffffff81000000,
			Prot: protRead | protExec, Path: "[kernel.kallsyms]_text", BuildID: kernelID},
		process.Comm{Time: next(), PID: 100, TID: 100, Comm: "sh"},
		process.Mmap{Time: next(), PID: 100, Start: 0x5600_0000_0000, Len: 0x13000, Pgoff: 0x4000, Prot: protRead | protExec, Path: "/usr/bin/dash", BuildID: shID},
		process.Mmap{Time: next(), PID: 100, Start: 0x7f00_0000_0000, Len: 0x1000, Prot: protRead | protExec, Path: "/usr/lib/libshort.so", BuildID: shortID},
		process.Mmap{Time: next(), PID: 100, Start: 0x7f00_1000_0000, Len: 0x2000, Prot: protRead | protExec, Path: "/usr/lib/libnoid.so"},
		process.Mmap{Time: next(), PID: 100, Start: 0x5600_1000_0000, Len: 0x21000, Prot: protRead | 2, Path: "[heap]"},
		process.Fork{Time: next(), PID: 101, TID: 101, PPID: 100, PTID: 100},
		process.Fork{Time: next(), PID: 101, TID: 102, PPID: 101, PTID: 101},
		process.Comm{Time: next(), PID: 101, TID: 101, Comm: "worker", Exec: true},
		process.Comm{Time: next(), PID: 101, TID: 102, Comm: "worker thread"},
	)
	for i := range n {
		sw := switchPayload([]string{"sh", "worker", "swapper/1"}[i%3])
		sw = append(sw, 0, 0, 0, 0) // the kernel's padding: 4+68 is a multiple of 8
		enter := make([]byte, 68)
		le.PutUint16(enter, 443)
		le.PutUint64(enter[8:], uint64(i%300))
		le.PutUint64(enter[16:], uint64(i)*0x1000)
		recs = append(recs,
			event.Record{Event: ev.sw, Time: next(), CPU: uint32(i % 4), PID: 100, TID: 100, Raw: sw},
			event.Record{Event: ev.enter, Time: next(), CPU: uint32(i % 2), PID: 101, TID: 101 + int32(i%2), Raw: enter})
		if i%50 == 0 {
			recs = append(recs,
				// In the kernel, then in user space.
				event.Record{Event: ev.prof, Time: next(), CPU: 1, PID: 101, TID: 101, Callchain: []uint64{
					event.ContextKernel, 0xffffffff81336000, 0xffffffff81000c82,
					event.ContextUser, 0x5600_0000_1234, 0x5600_0000_2345}},
				// In user space only.
				event.Record{Event: ev.prof, Time: next(), CPU: 0, PID: 100, TID: 100, Callchain: []uint64{
					event.ContextUser, 0x7f00_1000_0100, 0x5600_0000_3456}},
				event.Record{Event: ev.faults, Time: next(), CPU: 2, PID: 101, TID: 102},
				event.Record{Event: ev.kclock, Time: next(), CPU: 3, PID: 100, TID: 100, Callchain: []uint64{event.ContextKernel, 0xffffffff81336100}},
				// A user-mode sample of a kernel-stack event has no chain.
				event.Record{Event: ev.kclock, Time: next(), CPU: 3, PID: 100, TID: 100},
			)
		}
	}
	recs = append(recs,
		session.Lost{Time: next(), CPU: 1, Count: 7},
		event.Record{Event: ev.sw, Time: next(), CPU: 1, PID: 100, TID: 100, Raw: append(switchPayload("sh"), 0, 0, 0, 0), Lost: 7},
		process.Mmap{Time: next(), PID: 101, Start: 0x7f00_2000_0000, Len: 0x1000, Prot: protRead | protExec, Path: "/usr/lib/libwide.so", BuildID: bytes.Repeat([]byte{9}, 24)},
		process.Exit{Time: next(), PID: 101, TID: 102},
		process.Exit{Time: next(), PID: 101, TID: 101},
	)
	return recs
}

// writeRecords writes recs through w.
func writeRecords(t testing.TB, w *Writer, recs []any) {
	t.Helper()
	for _, r := range recs {
		var err error
		switch v := r.(type) {
		case event.Record:
			err = w.Sample(&v)
		case process.Comm:
			err = w.Comm(v)
		case process.Fork:
			err = w.Fork(v)
		case process.Exit:
			err = w.Exit(v)
		case process.Mmap:
			err = w.Mmap(v)
		case session.Lost:
			err = w.Lost(v)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// writeSynthFile writes the events and recs into a new perf.data.
func writeSynthFile(t testing.TB, events []*event.Event, recs []any) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "synth.data")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, writerMeta)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if err := w.DefineEvent(ev); err != nil {
			t.Fatal(err)
		}
	}
	writeRecords(t, w, recs)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantDelivered is what a Reader should deliver of recs: the same records,
// except that a build id MMAP2 cannot carry is dropped.
func wantDelivered(recs []any) []any {
	var out []any
	for _, r := range recs {
		switch v := r.(type) {
		case event.Record:
			out = append(out, sample{Event: v.Event.Name, Time: v.Time, CPU: v.CPU, PID: v.PID, TID: v.TID,
				Lost: v.Lost, Callchain: v.Callchain, Raw: v.Raw})
		case process.Mmap:
			if len(v.BuildID) > maxBuildID {
				v.BuildID = nil
			}
			out = append(out, v)
		default:
			out = append(out, v)
		}
	}
	return out
}

func TestWrittenFilesReadBackAsWritten(t *testing.T) {
	ev := newWriterEvents(t)
	recs := synthRecords(ev, 3000)
	path := writeSynthFile(t, ev.all(), recs)
	r, s := readFile(t, path, Options{Notice: func(n string) { t.Error(n) }})

	t.Run("every sample and process record comes back with its fields, in order", func(t *testing.T) {
		want := wantDelivered(recs)
		if len(s.items) != len(want) {
			t.Errorf("read %d records, wrote %d", len(s.items), len(want))
		}
		for i := range min(len(s.items), len(want)) {
			if !reflect.DeepEqual(s.items[i], want[i]) {
				t.Fatalf("record %d:\n got %#v\nwant %#v", i, s.items[i], want[i])
			}
		}
		st := r.Stats()
		if st.Malformed+st.Unknown+st.UnknownIDs+st.NotEnabled+st.OutOfOrder+st.ForcedFlushes != 0 {
			t.Errorf("stats %+v: want nothing malformed, unknown, out of order or forced", st)
		}
		if st.Rounds < 2 || st.Lost != 7 {
			t.Errorf("stats %+v: want several rounds and the 7 lost", st)
		}
	})
	t.Run("the events keep their names, stacks and formats", func(t *testing.T) {
		want := []string{"profile:hz:999", "raw_syscalls:sys_enter", "sched:sched_switch", "software:cpu-clock", "software:page-faults"}
		if got := r.Catalog().Names(); !reflect.DeepEqual(got, want) {
			t.Errorf("events %q, want %q", got, want)
		}
		for _, orig := range ev.all() {
			got, err := r.Catalog().Lookup(orig.Name)
			if err != nil {
				t.Fatal(err)
			}
			if orig.Stack == event.NoStack && got.Stack != event.NoStack || orig.Stack != event.NoStack && got.Stack == event.NoStack {
				t.Errorf("%s: stack %v, written as %v", orig.Name, got.Stack, orig.Stack)
			}
			if len(orig.Format.Fields) > 0 && !bytes.Equal(got.Format.Text, orig.Format.Text) {
				t.Errorf("%s: format text differs:\n%s", orig.Name, got.Format.Text)
			}
		}
		names := map[string]bool{}
		for _, a := range r.Attrs() {
			names[a.Name] = true
			if !a.SampleIDAll || a.SampleType&sampleIdentifier == 0 {
				t.Errorf("attr %q: sample_id_all %v, sample_type %#x: want sample_id_all and IDENTIFIER", a.Name, a.SampleIDAll, a.SampleType)
			}
		}
		for _, n := range []string{"sched:sched_switch", "raw_syscalls:sys_enter", "cpu-clock", "page-faults"} {
			if !names[n] {
				t.Errorf("no attr named %q in EVENT_DESC (have %v)", n, names)
			}
		}
	})
	t.Run("the host and command line are in the feature sections", func(t *testing.T) {
		m := r.Meta()
		for k, v := range writerMeta {
			if k == replay.MetaOtraceVersion {
				k, v = MetaPerfVersion, "otrace "+v
			}
			if m[k] != v {
				t.Errorf("meta %s = %q, want %q", k, m[k], v)
			}
		}
	})
	t.Run("the build ids of the mappings are in the BUILD_ID feature", func(t *testing.T) {
		ids := r.BuildIDs()
		want := map[string][]byte{
			"[kernel.kallsyms]":    bytes.Repeat([]byte{0x4a}, 20),
			"/usr/bin/dash":        bytes.Repeat([]byte{0xbe}, 20),
			"/usr/lib/libshort.so": {1, 2, 3, 4, 5, 6, 7, 8},
		}
		if !reflect.DeepEqual(ids, want) {
			t.Errorf("build ids %x, want %x", ids, want)
		}
	})
}

func TestAFileWithoutEventsKeepsItsProcessRecords(t *testing.T) {
	recs := []any{
		process.Comm{Time: 10, PID: 7, TID: 7, Comm: "init"},
		process.Fork{Time: 20, PID: 8, TID: 8, PPID: 7, PTID: 7},
		process.Exit{Time: 30, PID: 8, TID: 8},
	}
	path := writeSynthFile(t, nil, recs)
	r, s := readFile(t, path, Options{Notice: func(n string) { t.Error(n) }})
	if names := r.Catalog().Names(); len(names) != 0 {
		t.Errorf("events %q, want none", names)
	}
	if !reflect.DeepEqual(s.items, recs) {
		t.Errorf("read %#v, want %#v", s.items, recs)
	}
}

func TestTheSameRecordsGiveTheSameBytes(t *testing.T) {
	ev := newWriterEvents(t)
	recs := synthRecords(ev, 200)
	a, err := os.ReadFile(writeSynthFile(t, ev.all(), recs))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(writeSynthFile(t, ev.all(), recs))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two writes of the same records differ")
	}
}

// memFile is an in-memory io.WriteSeeker; fail makes writes fail after
// that many bytes.
type memFile struct {
	b    []byte
	off  int64
	fail int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if m.fail > 0 && m.off+int64(len(p)) > m.fail {
		return 0, errors.New("no space left on device")
	}
	if need := m.off + int64(len(p)); need > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, need-int64(len(m.b)))...)
	}
	copy(m.b[m.off:], p)
	m.off += int64(len(p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		m.off = off
	case io.SeekCurrent:
		m.off += off
	case io.SeekEnd:
		m.off = int64(len(m.b)) + off
	}
	return m.off, nil
}

// noSeek is a writer that cannot seek, like a pipe.
type noSeek struct{ io.Writer }

func (noSeek) Seek(int64, int) (int64, error) { return 0, errors.New("illegal seek") }

func TestAFileAfterOtherBytesIsReadableFromItsStart(t *testing.T) {
	ev := newWriterEvents(t)
	m := &memFile{}
	m.Write([]byte("prefix--"))
	w, err := NewWriter(m, writerMeta)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.DefineEvent(ev.sw); err != nil {
		t.Fatal(err)
	}
	rec := event.Record{Event: ev.sw, Time: 5, CPU: 1, PID: 3, TID: 3, Raw: switchPayload("x")}
	if err := w.Sample(&rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(m.b[8:]))
	if err != nil {
		t.Fatal(err)
	}
	enableAll(t, r)
	s := &recSink{}
	if err := drain(t, r, s, len(m.b)); err != nil {
		t.Fatal(err)
	}
	if got := s.samples(); len(got) != 1 || got[0].Time != 5 {
		t.Errorf("read %+v, want the one sample", got)
	}
}

func TestWriterErrorsSayWhatWentWrong(t *testing.T) {
	ev := newWriterEvents(t)
	tests := []struct {
		name string
		do   func(w *Writer) error
		want string
	}{
		{"a tracepoint without a format is refused", func(w *Writer) error {
			return w.DefineEvent(&event.Event{Name: "sched:sched_waking", Format: &event.Format{Name: "sched_waking"}})
		}, "no tracefs format"},
		{"an ETW event is refused", func(w *Writer) error {
			return w.DefineEvent(&event.Event{Name: "etw:Microsoft-Windows-Kernel-Process"})
		}, "no perf equivalent"},
		{"an event defined twice is refused", func(w *Writer) error {
			w.DefineEvent(ev.sw)
			return w.DefineEvent(&event.Event{Name: ev.sw.Name, Format: ev.sw.Format})
		}, "defined twice"},
		{"a probe with a filter is refused", func(w *Writer) error {
			return w.DefineEvent(&event.Event{Name: ev.sw.Name, Format: ev.sw.Format, Filter: "prev_pid == 1"})
		}, "filter"},
		{"a sample of an undefined event is refused", func(w *Writer) error {
			return w.Sample(&event.Record{Event: ev.enter})
		}, "not defined"},
		{"a sample larger than a record is refused", func(w *Writer) error {
			w.DefineEvent(ev.prof)
			return w.Sample(&event.Record{Event: ev.prof, Callchain: make([]uint64, 9000)})
		}, "does not fit"},
		{"a write after Close fails", func(w *Writer) error {
			w.Close()
			return w.Comm(process.Comm{PID: 1, TID: 1, Comm: "x"})
		}, "after Close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWriter(&memFile{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = tt.do(w)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	t.Run("a writer that cannot seek is refused", func(t *testing.T) {
		if _, err := NewWriter(noSeek{io.Discard}, nil); err == nil || !strings.Contains(err.Error(), "seek") {
			t.Errorf("got %v, want an error about seeking", err)
		}
	})
	t.Run("a full disk fails the write and Close", func(t *testing.T) {
		w, err := NewWriter(&memFile{fail: 1 << 20}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.DefineEvent(ev.sw); err != nil {
			t.Fatal(err)
		}
		var werr error
		for i := 0; i < 100_000 && werr == nil; i++ {
			werr = w.Sample(&event.Record{Event: ev.sw, Time: uint64(i), Raw: switchPayload("x")})
		}
		if werr == nil || !strings.Contains(werr.Error(), "no space") {
			t.Errorf("writing: %v, want the disk's error", werr)
		}
		if err := w.Close(); !errors.Is(err, werr) && fmt.Sprint(err) != fmt.Sprint(werr) {
			t.Errorf("Close: %v, want the first error %v", err, werr)
		}
	})
}

func TestSampleDoesNotAllocate(t *testing.T) {
	ev := newWriterEvents(t)
	w, err := NewWriter(discardSeeker{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev.all() {
		if err := w.DefineEvent(e); err != nil {
			t.Fatal(err)
		}
	}
	prof := event.Record{Event: ev.prof, Time: 1, Callchain: []uint64{event.ContextKernel, 0xffffffff81000000, event.ContextUser, 0x400000}}
	sw := event.Record{Event: ev.sw, Time: 2, Raw: switchPayload("sh")}
	allocs := testing.AllocsPerRun(10_000, func() {
		w.Sample(&prof)
		w.Sample(&sw)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per two samples, want 0", allocs)
	}
}

// discardSeeker drops what is written and seeks anywhere.
type discardSeeker struct{}

func (discardSeeker) Write(p []byte) (int, error)    { return len(p), nil }
func (discardSeeker) Seek(int64, int) (int64, error) { return 0, nil }

func TestRecordsLateByLessThanARoundAreDeliveredInOrder(t *testing.T) {
	ev := newWriterEvents(t)
	// A second of samples 1 ms apart, each tenth written 50 ms late (after
	// newer ones), as a CPU's records may reach the merge late.
	var recs []any
	for i := range 1000 {
		tm := uint64(1e9 + i*1e6)
		if i%10 == 5 && i >= 50 {
			tm -= 50e6
		}
		recs = append(recs, event.Record{Event: ev.sw, Time: tm, CPU: uint32(i % 2), PID: 1, TID: 1, Raw: append(switchPayload("x"), 0, 0, 0, 0)})
	}
	path := writeSynthFile(t, []*event.Event{ev.sw}, recs)
	r, s := readFile(t, path, Options{})
	st := r.Stats()
	if st.Rounds < 5 || st.OutOfOrder != 0 || st.ForcedFlushes != 0 {
		t.Errorf("stats %+v: want rounds every 100 ms and nothing out of order", st)
	}
	got := s.samples()
	if len(got) != len(recs) {
		t.Fatalf("read %d samples, wrote %d", len(got), len(recs))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Time < got[i-1].Time {
			t.Fatalf("sample %d at %d comes after one at %d", i, got[i].Time, got[i-1].Time)
		}
	}
}

// BenchmarkWriteSamples writes sched_switch samples and profile samples
// with 20-frame callchains, alternately.
func BenchmarkWriteSamples(b *testing.B) {
	ev := newWriterEvents(b)
	w, err := NewWriter(discardSeeker{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range ev.all() {
		if err := w.DefineEvent(e); err != nil {
			b.Fatal(err)
		}
	}
	chain := []uint64{event.ContextKernel}
	for i := range 19 {
		chain = append(chain, 0xffffffff81000000+uint64(i)*64)
	}
	recs := [2]event.Record{
		{Event: ev.sw, Raw: append(switchPayload("sh"), 0, 0, 0, 0)},
		{Event: ev.prof, Callchain: chain},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := &recs[i&1]
		r.Time = uint64(i) * 1000
		if err := w.Sample(r); err != nil {
			b.Fatal(err)
		}
	}
}
