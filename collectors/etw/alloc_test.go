package etw

import (
	"testing"

	"otrace/runtime/event"
)

// hotSource is a source with the profile, cswitch and TraceLogging
// probes enabled, warmed up so that its caches and pools are full.
func hotSource(t testing.TB) (*Source, []*Record) {
	src := newSource(&capturePlatform{data: &captureData{}, stop: make(chan struct{})}, Options{Window: 1})
	var evs []*event.Event
	for _, name := range []string{"etw:kernel:profile", "etw:kernel:cswitch", "etw:My.Provider:Request"} {
		ev, err := src.Catalog().Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if _, err := src.ing.enable(evs); err != nil {
		t.Fatal(err)
	}
	src.ing.threads[5678] = 1234
	request := &Record{
		Header:   Header{Flags: FlagExtendedInfo, ThreadID: 5678, ProcessID: 1234, TimeStamp: 10, Provider: myProvider},
		UserData: requestPayload(), Extended: []ExtItem{{Type: ExtEventSchemaTL, Data: requestMeta()}},
	}
	recs := []*Record{
		kernelRec(PerfInfoGUID, opSampledProfile, 2, 10, 1, ^uint32(0), 5678, sampledProfilePayload(kAddr1, 5678)),
		kernelRec(StackWalkGUID, opStackWalk, 2, 10, 1, 1234, 5678, stackWalkPayload(10, 1234, 5678, kAddr1, kAddr2, uAddr1)),
		kernelRec(ThreadGUID, opCSwitch, 4, 10, 0, ^uint32(0), 5678, cswitchPayload(5678, 0, 6, 5)),
		request,
	}
	for i := 0; i < 3; i++ {
		cycle(src, recs)
	}
	return src, recs
}

// cycle ingests the records at a later time and delivers them.
func cycle(src *Source, recs []*Record) {
	for _, r := range recs {
		r.Header.TimeStamp += 100
		if r.Header.Provider == StackWalkGUID {
			// Its EventTimeStamp follows the sample's.
			putStamp(r.UserData, r.Header.TimeStamp)
		}
		src.ingest(r)
	}
	src.Drain(nopSink{})
}

func putStamp(b []byte, ts int64) {
	for i := 0; i < 8; i++ {
		b[i] = byte(ts >> (8 * i))
	}
}

func TestIngestAndDeliveryAllocateNothing(t *testing.T) {
	src, recs := hotSource(t)
	if n := testing.AllocsPerRun(200, func() { cycle(src, recs) }); n != 0 {
		t.Errorf("%.1f allocations per cycle of %d records", n, len(recs))
	}
	if st := src.Stats(); st.StacksMatched == 0 || st.Malformed != 0 {
		t.Errorf("stats %+v", st)
	}
}

func BenchmarkIngestAndDeliver(b *testing.B) {
	src, recs := hotSource(b)
	b.ReportAllocs()
	for b.Loop() {
		cycle(src, recs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}
