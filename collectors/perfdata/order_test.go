package perfdata

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"otrace/collectors/replay"
	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// times lists the times of the samples and comms delivered, and for
// samples the prev_comm.
func times(s *recSink) string {
	var parts []string
	for _, it := range s.items {
		switch v := it.(type) {
		case sample:
			parts = append(parts, fmt.Sprintf("%d:%s", v.Time, bytes.TrimRight(v.Raw[8:24], "\x00")))
		case process.Comm:
			parts = append(parts, fmt.Sprintf("%d:comm=%s", v.Time, v.Comm))
		case session.Lost:
			parts = append(parts, fmt.Sprintf("%d:lost=%d", v.Time, v.Count))
		}
	}
	return strings.Join(parts, " ")
}

func readSynth(t *testing.T, data []byte) (*Reader, *recSink, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	enableAll(t, r)
	s := &recSink{}
	return r, s, drain(t, r, s, len(data))
}

func TestRecordsAreDeliveredInTimeOrder(t *testing.T) {
	sw := func(id, time uint64, cpu uint32, comm string) []byte {
		return synthSample(id, time, cpu, 10, 10, switchPayload(comm))
	}
	tests := []struct {
		name    string
		records [][]byte
		want    string
		late    uint64 // records perf's rounds could not order
	}{
		{
			name: "two CPUs' rings copied one after the other in each round merge by time",
			records: [][]byte{
				sw(1, 10, 0, "a"), sw(1, 20, 0, "b"), sw(1, 30, 0, "c"),
				sw(2, 5, 1, "d"), sw(2, 15, 1, "e"), sw(2, 25, 1, "f"),
				finishedRound(),
				sw(1, 40, 0, "g"), sw(1, 50, 0, "h"),
				sw(2, 35, 1, "i"), sw(2, 45, 1, "j"),
				finishedRound(),
			},
			want: "5:d 10:a 15:e 20:b 25:f 30:c 35:i 40:g 45:j 50:h",
		},
		{
			name: "a record of the next round older than the previous round's newest still sorts in",
			records: [][]byte{
				sw(1, 100, 0, "a"),
				finishedRound(),
				sw(2, 50, 1, "b"), // cpu 1's ring had not been read yet
				finishedRound(),
				sw(1, 200, 0, "c"),
			},
			want: "50:b 100:a 200:c",
		},
		{
			name: "records of equal time keep their file order",
			records: [][]byte{
				sw(1, 7, 0, "a"), sw(2, 7, 1, "b"), sw(1, 7, 0, "c"), finishedRound(),
			},
			want: "7:a 7:b 7:c",
		},
		{
			name: "process records and loss sort among samples by their trailer's time",
			records: [][]byte{
				sw(1, 30, 0, "a"),
				synthComm(3, 20, 0, 11, 11, "worker", true),
				synthLost(3, 10, 1, 4),
				finishedRound(),
			},
			want: "10:lost=4 20:comm=worker 30:a",
		},
		{
			name: "without FINISHED_ROUND records the whole file is sorted at its end",
			records: [][]byte{
				sw(1, 3, 0, "a"), sw(2, 1, 1, "b"), sw(1, 2, 0, "c"),
			},
			want: "1:b 2:c 3:a",
		},
		{
			name: "a record older than what a closed round delivered comes late and is counted",
			records: [][]byte{
				sw(1, 10, 0, "a"), finishedRound(),
				sw(1, 20, 0, "b"), finishedRound(), // delivers a
				sw(2, 5, 1, "c"), finishedRound(), // too late: a is out
			},
			want: "10:a 5:c 20:b",
			late: 1,
		},
	}
	for _, tt := range tests {
		for _, mode := range []string{"file", "pipe"} {
			t.Run(mode+" mode: "+tt.name, func(t *testing.T) {
				data := schedFile(t, tt.records...)
				if mode == "pipe" {
					data = pipeBytes([]synthAttr{{typ: typeTracepoint, config: 0x174, period: 1, sampleType: synthSampleType, ids: []uint64{1, 2}},
						{typ: typeSoftware, config: swDummy, period: 1, sampleType: synthSampleType &^ sampleRaw, ids: []uint64{3, 4}}},
						tracingData(map[string][][]byte{"sched": {schedSwitchFormat(t)}}), tt.records...)
				}
				r, s, err := readSynth(t, data)
				if err != nil {
					t.Fatal(err)
				}
				if got := times(s); got != tt.want {
					t.Errorf("delivered %s\nwant      %s", got, tt.want)
				}
				if got := r.Stats().OutOfOrder; got != tt.late {
					t.Errorf("%d records out of order, want %d", got, tt.late)
				}
			})
		}
	}
}

func TestTheQueueBoundForcesDeliveryOfTheOlderHalf(t *testing.T) {
	var recs [][]byte
	for i := range 10 {
		recs = append(recs, synthSample(1, uint64(100-i), 0, 10, 10, switchPayload("x")))
	}
	data := schedFile(t, recs...)
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	r.q.maxN = 4
	enableAll(t, r)
	s := &recSink{}
	if err := drain(t, r, s, len(data)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.samples()); n != 10 {
		t.Fatalf("delivered %d samples, want 10", n)
	}
	st := r.Stats()
	if st.ForcedFlushes == 0 || st.OutOfOrder == 0 {
		t.Errorf("stats %+v: want forced flushes and, for a file in reverse order, late records", st)
	}
}

func TestSamplesCarryWhatTheFileRecorded(t *testing.T) {
	data := schedFile(t,
		synthComm(3, 1, 0, 10, 11, "worker", true),
		synthLost(3, 2, 1, 7),
		synthSample(2, 3, 1, 10, 11, switchPayload("worker")),
		synthSample(2, 4, 1, 10, 11, switchPayload("worker")),
		finishedRound())
	r, s, err := readSynth(t, data)
	if err != nil {
		t.Fatal(err)
	}
	raw := append(switchPayload("worker"), 0, 0, 0, 0) // padded as the kernel pads it
	want := []any{
		process.Comm{Time: 1, PID: 10, TID: 11, Comm: "worker", Exec: true},
		session.Lost{Time: 2, CPU: 1, Count: 7},
		sample{Event: "sched:sched_switch", Time: 3, CPU: 1, PID: 10, TID: 11, Lost: 7, Raw: raw},
		sample{Event: "sched:sched_switch", Time: 4, CPU: 1, PID: 10, TID: 11, Raw: raw},
	}
	if got, w := fmt.Sprintf("%+v", s.items), fmt.Sprintf("%+v", want); got != w {
		t.Errorf("delivered\n%s\nwant\n%s", got, w)
	}
	if got := r.Meta()[replay.MetaHostname]; got != "synth" {
		t.Errorf("host name %q, want synth", got)
	}
	if got := r.Catalog().Names(); fmt.Sprint(got) != "[sched:sched_switch]" {
		t.Errorf("catalog %v, want only sched:sched_switch (the dummy event carries side-band only)", got)
	}
}

func TestCatalogNamesEventsAsOtraceProbes(t *testing.T) {
	tests := []struct {
		name string
		attr synthAttr
		want string
	}{
		{"a tracepoint is named by its system and event", synthAttr{typ: typeTracepoint, config: 0x174, period: 1}, "sched:sched_switch"},
		{"cpu-clock sampled at a frequency is a profile", synthAttr{typ: typeSoftware, config: 0, period: 999, freq: true}, "profile:hz:999"},
		{"task-clock sampled at a frequency is a profile", synthAttr{typ: typeSoftware, config: 1, period: 49, freq: true}, "profile:hz:49"},
		{"cpu-clock sampled by period is a software event", synthAttr{typ: typeSoftware, config: 0, period: 100000}, "software:cpu-clock"},
		{"other software events keep perf's name", synthAttr{typ: typeSoftware, config: 2, period: 1}, "software:page-faults"},
		{"hardware events keep perf's name", synthAttr{typ: typeHardware, config: 0, period: 4000, freq: true}, "hardware:cpu-cycles"},
		{"a hybrid CPU's hardware event drops the PMU in the high half", synthAttr{typ: typeHardware, config: 8<<32 | 1, period: 100}, "hardware:instructions"},
		{"a raw PMU event is named under perf:", synthAttr{typ: typeRaw, config: 0x1a8, period: 100}, "perf:type4_config0x1a8"},
		{"a tracepoint missing from the tracing data is named by its id", synthAttr{typ: typeTracepoint, config: 9999, period: 1}, "perf:tracepoint_9999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.attr.sampleType = synthSampleType
			tt.attr.ids = []uint64{1}
			var notices []string
			data := fileBytes([]synthAttr{tt.attr}, finishedRound(), map[int][]byte{
				featTracingData: tracingData(map[string][][]byte{"sched": {schedSwitchFormat(t)}})})
			r, err := Options{Notice: func(s string) { notices = append(notices, s) }}.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Catalog().Names(); len(got) != 1 || got[0] != tt.want {
				t.Fatalf("catalog %v, want [%s]", got, tt.want)
			}
			ev, err := r.Catalog().Lookup(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := r.Catalog().Lookup(tt.want); again != ev || r.Attrs()[0].Event != ev {
				t.Error("Lookup of one name gave different events")
			}
			if _, err := r.Catalog().Lookup("sched:nope"); !errors.Is(err, session.ErrUnknownEvent) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Lookup of an unknown name: %v", err)
			}
		})
	}
}

func TestVariantsGetTheSamplesTheirFilterMatches(t *testing.T) {
	data := schedFile(t,
		synthSample(1, 1, 0, 10, 10, switchPayload("bash")),
		synthSample(1, 2, 0, 10, 10, switchPayload("sshd")),
		synthSample(1, 3, 0, 10, 10, switchPayload("bash")))
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := r.Catalog().Lookup("sched:sched_switch")
	v := &event.Event{ID: 1, Name: ev.Name, Format: ev.Format, Filter: `prev_comm == "bash"`}
	if err := r.Enable([]*event.Event{v}); err != nil {
		t.Fatal(err)
	}
	s := &recSink{}
	if err := drain(t, r, s, len(data)); err != nil {
		t.Fatal(err)
	}
	if got := times(s); got != "1:bash 3:bash" {
		t.Errorf("the filtered variant got %s, want 1:bash 3:bash", got)
	}
	if err := r.Enable([]*event.Event{{Name: "sched:sched_switch"}}); err == nil {
		t.Error("Enable accepted an event that is not from the catalog")
	}
}

func TestReadAllocatesNothingPerRecord(t *testing.T) {
	var recs [][]byte
	for i := range uint64(20000) {
		recs = append(recs, synthSample(1+i%2, 1000+i, uint32(i%2), 10, 11, switchPayload("worker")))
		if i%100 == 0 {
			recs = append(recs, synthComm(3, 1000+i, 0, 10, 11, "worker", false), finishedRound())
		}
	}
	data := schedFile(t, recs...)
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	enableAll(t, r)
	sink := &nopSink{}
	for range 8 {
		if err := r.Read(sink); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(20, func() {
		if err := r.Read(sink); err != nil && err != io.EOF {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Read of %d records allocates %.1f times", batchSize, allocs)
	}
}
