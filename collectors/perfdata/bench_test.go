package perfdata

import (
	"bytes"
	"testing"
)

// BenchmarkReadSynthetic reads an in-memory file of 200k sched_switch
// samples on two CPUs, in rounds, through a sink that does nothing.
func BenchmarkReadSynthetic(b *testing.B) {
	var recs [][]byte
	for i := range uint64(200_000) {
		recs = append(recs, synthSample(1+i%2, 1000+i, uint32(i%2), 10, 11, switchPayload("worker")))
		if i%1000 == 999 {
			recs = append(recs, finishedRound())
		}
	}
	data := schedFile(b, recs...)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	var records uint64
	for range b.N {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		enableAll(b, r)
		if err := drain(b, r, &nopSink{}, len(data)); err != nil {
			b.Fatal(err)
		}
		records += r.Stats().Records
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
}
