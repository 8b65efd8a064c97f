package replay

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// roundTrip is what the round-trip tests write, in order, and expect back.
type roundTrip struct {
	meta  map[string]string
	items []any
	data  []byte
}

func writeRoundTrip(t testing.TB) roundTrip {
	t.Helper()
	meta := map[string]string{
		MetaHostname:    "host-1",
		MetaNumCPU:      "4",
		MetaCommandLine: "otrace record -e 'sched:*' -- make -j4",
		"empty":         "",
		"binary\x00key": "value\xff",
	}
	switchRaw := make([]byte, 64)
	copy(switchRaw[8:], "bash")
	items := []any{
		process.Comm{Time: 10, PID: 1, TID: 1, Comm: "systemd"},
		process.Mmap{Time: 11, PID: 1, Start: 0x400000, Len: 0x1000, Pgoff: 0x2000, Prot: 5, Path: "/usr/lib/systemd/systemd", BuildID: []byte{1, 2, 3, 4}},
		process.Mmap{Time: 11, PID: 1, Start: 0x7f0000, Len: 0x1000, Prot: 3, Path: "//anon"},
		sample{Event: "sched:sched_switch", Time: 20, CPU: 3, PID: 100, TID: 101, Lost: 0, Callchain: []uint64{0xffffffff81000000, 0x401234}, Raw: switchRaw},
		process.Fork{Time: 30, PID: 200, TID: 200, PPID: 100, PTID: 101},
		process.Comm{Time: 31, PID: 200, TID: 200, Comm: "ls", Exec: true},
		sample{Event: "profile:hz:99", Time: 40, CPU: 0, PID: -1, TID: 0, Lost: 7, Callchain: []uint64{1, 2, 3}},
		session.Lost{Time: 50, CPU: 2, Count: 99},
		sample{Event: "sched:sched_process_exec", Time: 60, CPU: 1, PID: 200, TID: 200, Raw: []byte{1, 2, 3}},
		process.Exit{Time: 70, PID: 200, TID: 200},
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, meta)
	if err != nil {
		t.Fatal(err)
	}
	defs := []struct {
		id           uint32
		name, system string
		format       []byte
	}{
		{7, "sched:sched_switch", "sched", readFormat(t, "sched_switch")},
		{9000, "sched:sched_process_exec", "sched", readFormat(t, "sched_process_exec")},
		{0, "profile:hz:99", "", nil},
	}
	ids := map[string]uint32{}
	for _, d := range defs {
		if err := w.DefineEvent(d.id, d.name, d.system, d.format); err != nil {
			t.Fatal(err)
		}
		ids[d.name] = d.id
	}
	for _, it := range items {
		switch v := it.(type) {
		case sample:
			err = w.Sample(ids[v.Event], v.Time, v.CPU, v.PID, v.TID, v.Lost, v.Callchain, v.Raw)
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
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Exit(process.Exit{}); err == nil {
		t.Error("write after Close succeeded")
	}
	return roundTrip{meta: meta, items: items, data: buf.Bytes()}
}

func TestRoundTripDeliversEveryRecordKind(t *testing.T) {
	rt := writeRoundTrip(t)
	if len(rt.data)%align != 0 {
		t.Errorf("recording of %d bytes is not 8-byte aligned", len(rt.data))
	}
	for _, tc := range []struct {
		name string
		src  func() io.Reader
	}{
		{"from memory", func() io.Reader { return bytes.NewReader(rt.data) }},
		{"one byte per read", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(rt.data)) }},
		{"with the last bytes and io.EOF together", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(rt.data)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, sink, err := readAll(t, tc.src(), len(rt.data))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Meta(); !reflect.DeepEqual(got, rt.meta) {
				t.Errorf("Meta() = %q, want %q", got, rt.meta)
			}
			if !reflect.DeepEqual(sink.items, rt.items) {
				t.Errorf("delivered\n%s\nwant\n%s", dump(sink.items, nil), dump(rt.items, nil))
			}
			want := Stats{Records: uint64(len(rt.items)) + 3 + uint64(len(rt.meta)), Samples: 3}
			if got := r.Stats(); got != want {
				t.Errorf("Stats() = %+v, want %+v", got, want)
			}
			if err := r.Read(sink); err != io.EOF {
				t.Errorf("Read after END = %v, want io.EOF", err)
			}
		})
	}
}

func TestCatalogResolvesRecordedEvents(t *testing.T) {
	rt := writeRoundTrip(t)
	r, err := NewReader(bytes.NewReader(rt.data))
	if err != nil {
		t.Fatal(err)
	}
	cat := r.Catalog()
	want := []string{"profile:hz:99", "sched:sched_process_exec", "sched:sched_switch"}
	if got := cat.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	sw, err := cat.Lookup("sched:sched_switch")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := cat.Lookup("sched:sched_switch"); again != sw {
		t.Error("Lookup twice gave two events")
	}
	if sw.ID != -1 || sw.Format.Name != "sched_switch" || sw.Format.System != "sched" || sw.Format.Field("prev_comm") == nil {
		t.Errorf("sched_switch = %+v, format %+v", sw, sw.Format)
	}
	prof, _ := cat.Lookup("profile:hz:99")
	if prof.Format == nil || prof.Format.Name != "profile:hz:99" || len(prof.Format.Fields) != 0 {
		t.Errorf("profile:hz:99 format = %+v, want a named format without fields", prof.Format)
	}
	_, err = cat.Lookup("sched:sched_wakeup")
	if !errors.Is(err, session.ErrUnknownEvent) || !strings.Contains(err.Error(), "sched:sched_wakeup") ||
		!strings.Contains(err.Error(), "the recording") || !strings.Contains(err.Error(), "sched:sched_switch") {
		t.Errorf("Lookup of an unrecorded event: %v", err)
	}
	if err := r.Enable([]*event.Event{{Name: "sched:sched_switch"}}); err == nil {
		t.Error("Enable accepted an event from elsewhere")
	}
}

func TestOpenReadsAFileAndNamesItInErrors(t *testing.T) {
	rt := writeRoundTrip(t)
	path := filepath.Join(t.TempDir(), "trace.otr")
	if err := os.WriteFile(path, rt.data[:len(rt.data)-24], 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Catalog().Lookup("nope"); err == nil || !strings.Contains(err.Error(), "recording "+path) {
		t.Errorf("Lookup error %v does not name %s", err, path)
	}
	enableAll(t, r)
	sink := &recSink{}
	err = drain(t, r, sink, len(rt.data))
	if !isTruncated(err) || !strings.Contains(err.Error(), path) {
		t.Errorf("reading a file without END: %v", err)
	}
	if len(sink.items) != len(rt.items) {
		t.Errorf("delivered %d records before the cut, want %d", len(sink.items), len(rt.items))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Read(sink); err == nil {
		t.Error("Read after Close succeeded")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.otr")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing file: %v", err)
	}
}

func TestSamplesOfEventsWithoutHandlersAreSkippedAndCounted(t *testing.T) {
	rt := writeRoundTrip(t)
	r, err := NewReader(bytes.NewReader(rt.data))
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := r.Catalog().Lookup("profile:hz:99")
	ev.ID = 0
	if err := r.Enable([]*event.Event{ev}); err != nil {
		t.Fatal(err)
	}
	sink := &recSink{}
	if err := drain(t, r, sink, len(rt.data)); err != nil {
		t.Fatal(err)
	}
	var samples []sample
	for _, it := range sink.items {
		if s, ok := it.(sample); ok {
			samples = append(samples, s)
		}
	}
	if len(samples) != 1 || samples[0].Event != "profile:hz:99" {
		t.Errorf("delivered samples %+v, want the profile sample only", samples)
	}
	if st := r.Stats(); st.Samples != 3 || st.NotEnabled != 2 {
		t.Errorf("Stats() = %+v, want 3 samples of which 2 not enabled", st)
	}
}

func TestReadDeliversInBatchesAndStopsWhenInterrupted(t *testing.T) {
	data := fixtureBytes(t, FixtureOptions{Switches: 1000})
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	enableAll(t, r)
	sink := &recSink{}
	if err := r.Read(sink); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.items); n == 0 || n > batchSize {
		t.Errorf("one Read delivered %d records, want 1 to %d", n, batchSize)
	}
	done := make(chan struct{})
	go func() { r.Interrupt(); close(done) }()
	<-done
	for range 2 {
		if err := r.Read(sink); err != session.ErrInterrupted {
			t.Errorf("Read after Interrupt = %v, want ErrInterrupted", err)
		}
	}
}

func TestOutOfOrderRecordsAreDeliveredAndCounted(t *testing.T) {
	data := recording(
		eventRec(1, "e:e", "", nil),
		sampleRec(1, 100, nil, nil),
		sampleRec(1, 50, nil, nil), // before the one above
		sampleRec(1, 100, nil, nil),
		sampleRec(1, 70, nil, nil), // still before 100
		sampleRec(1, 200, nil, nil),
	)
	r, sink, err := readAll(t, bytes.NewReader(data), len(data))
	if err != nil {
		t.Fatal(err)
	}
	var times []uint64
	for _, it := range sink.items {
		times = append(times, it.(sample).Time)
	}
	if want := []uint64{100, 50, 100, 70, 200}; !reflect.DeepEqual(times, want) {
		t.Errorf("times %v, want %v", times, want)
	}
	if got := r.Stats().OutOfOrder; got != 2 {
		t.Errorf("OutOfOrder = %d, want 2", got)
	}
}

func TestAnEventDefinedMidwayJoinsTheCatalog(t *testing.T) {
	data := recording(
		eventRec(1, "a:a", "", nil),
		sampleRec(1, 1, nil, nil),
		eventRec(2, "b:b", "", nil),
		sampleRec(2, 2, nil, nil),
	)
	r, sink, err := readAll(t, bytes.NewReader(data), len(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Catalog().Names(); !reflect.DeepEqual(got, []string{"a:a", "b:b"}) {
		t.Errorf("Names() = %q after reading", got)
	}
	if len(sink.items) != 1 || r.Stats().NotEnabled != 1 {
		t.Errorf("delivered %d samples, %d not enabled; want the one of a:a", len(sink.items), r.Stats().NotEnabled)
	}
}

func TestARecordLargerThanTheBufferIsRead(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, nil)
	raw := bytes.Repeat([]byte("0123456789abcdef"), (3*bufSize)/16+1)
	chain := make([]uint64, 1000)
	for i := range chain {
		chain[i] = uint64(i)
	}
	must(t, w.DefineEvent(1, "big:big", "", nil))
	must(t, w.Sample(1, 1, 0, 1, 1, 0, nil, []byte("small")))
	must(t, w.Sample(1, 2, 0, 1, 1, 0, chain, raw))
	must(t, w.Sample(1, 3, 0, 1, 1, 0, nil, []byte("after")))
	must(t, w.Close())
	// Hide Len so the reader starts with its usual buffer.
	_, sink, err := readAll(t, struct{ io.Reader }{&buf}, buf.Len())
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.items) != 3 || !bytes.Equal(sink.items[1].(sample).Raw, raw) ||
		!reflect.DeepEqual(sink.items[1].(sample).Callchain, chain) || string(sink.items[2].(sample).Raw) != "after" {
		t.Error("the large record or the ones around it came back wrong")
	}
}

func TestReadErrorsNameTheOffsetAndKeepTheCause(t *testing.T) {
	rt := writeRoundTrip(t)
	boom := errors.New("disk on fire")
	src := io.MultiReader(bytes.NewReader(rt.data[:200]), iotest.ErrReader(boom))
	_, _, err := readAll(t, src, len(rt.data))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "offset") {
		t.Errorf("err = %v, want one that wraps the read error and names the offset", err)
	}
}

func TestWriterRefusesInconsistentInput(t *testing.T) {
	sw := readFormat(t, "sched_switch")
	for _, tc := range []struct {
		name string
		do   func(w *Writer) error
		want string
	}{
		{"a sample of an undefined event", func(w *Writer) error {
			return w.Sample(5, 1, 0, 1, 1, 0, nil, nil)
		}, "not defined"},
		{"an event id defined twice", func(w *Writer) error {
			must(t, w.DefineEvent(1, "a:a", "", nil))
			return w.DefineEvent(1, "b:b", "", nil)
		}, "defined twice"},
		{"an event name defined twice", func(w *Writer) error {
			must(t, w.DefineEvent(1, "a:a", "", nil))
			return w.DefineEvent(2, "a:a", "", nil)
		}, "defined twice"},
		{"an event without a name", func(w *Writer) error {
			return w.DefineEvent(1, "", "", nil)
		}, "no name"},
		{"a format that does not parse", func(w *Writer) error {
			return w.DefineEvent(1, "sched:sched_switch", "sched", sw[:40])
		}, "format line"},
		{"a payload over the record limit", func(w *Writer) error {
			must(t, w.DefineEvent(1, "a:a", "", nil))
			return w.Sample(1, 1, 0, 1, 1, 0, nil, make([]byte, MaxRecordSize))
		}, "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := NewWriter(io.Discard, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.do(w)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if again := w.Close(); again != err {
				t.Errorf("Close after an error = %v, want the first error", again)
			}
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
