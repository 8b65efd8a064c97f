package replay

import (
	"bytes"
	"testing"

	"otrace/runtime/process"
	"otrace/runtime/session"
)

func TestReadAllocatesNothingPerRecord(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, nil)
	sw := readFormat(t, "sched_switch")
	must(t, w.DefineEvent(1, "sched:sched_switch", "sched", sw))
	must(t, w.DefineEvent(2, "profile:hz:99", "", nil))
	raw := make([]byte, 64)
	chain := []uint64{0xffffffff81000000, 0x401000, 0x402000, 0x403000}
	for i := range uint64(20000) {
		must(t, w.Sample(uint32(1+i%2), 1000+i, uint32(i%4), 10, 11, 0, chain[:i%5], raw))
		if i%100 == 0 {
			must(t, w.Comm(process.Comm{Time: 1000 + i, PID: 10, TID: 11, Comm: "worker"}))
			must(t, w.Mmap(process.Mmap{Time: 1000 + i, PID: 10, Path: "/usr/lib/libc.so.6", BuildID: []byte{1, 2, 3}}))
			must(t, w.Fork(process.Fork{Time: 1000 + i, PID: 12, TID: 12, PPID: 10, PTID: 11}))
			must(t, w.Exit(process.Exit{Time: 1000 + i, PID: 12, TID: 12}))
			must(t, w.Lost(session.Lost{Time: 1000 + i, CPU: 1, Count: 3}))
		}
	}
	must(t, w.Close())
	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	enableAll(t, r)
	sink := &nopSink{}
	for range 4 {
		must(t, r.Read(sink))
	}
	allocs := testing.AllocsPerRun(50, func() {
		if err := r.Read(sink); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Read of %d records allocates %.1f times", batchSize, allocs)
	}
}

// BenchmarkReplayRead reads an in-memory recording of 100k sched_switch
// samples (and the fixture's wakeups, profile samples and process records)
// through a sink that does nothing.
func BenchmarkReplayRead(b *testing.B) {
	data := fixtureBytes(b, FixtureOptions{Switches: 100_000, Seed: 1})
	var records uint64
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
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
	b.ReportMetric(float64(records)/float64(b.N), "records/op")
}

// BenchmarkReplayWrite writes 100k sched_switch-sized samples.
func BenchmarkReplayWrite(b *testing.B) {
	raw := make([]byte, 64)
	chain := []uint64{1, 2, 3}
	b.ReportAllocs()
	w, _ := NewWriter(discard{}, nil)
	must(b, w.DefineEvent(1, "e:e", "", nil))
	b.ResetTimer()
	for i := range b.N {
		if err := w.Sample(1, uint64(i), 0, 1, 1, 0, chain, raw); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
