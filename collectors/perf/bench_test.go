package perf

import (
	"testing"

	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// storm encodes about n records as a sched_switch + sys_enter storm on two
// CPUs would fill a ring: tracepoint samples with 64-byte payloads, and a
// COMM (one of a few names) every hundred records. It returns the buffer
// and the number of records in it.
func storm(p *Parser, n int) ([]byte, int) {
	evEnter := &event.Event{ID: 5, Name: "raw_syscalls:sys_enter"}
	type stream struct {
		id  uint64
		ev  *event.Event
		cpu uint32
	}
	var streams []stream
	for cpu := range uint32(2) {
		base := 0x2000 + uint64(cpu)*0x10
		p.Add(base, nil, idAll, int(cpu))
		streams = append(streams, stream{base + 1, evSwitch, cpu}, stream{base + 2, evEnter, cpu})
		p.Add(base+1, evSwitch, stTracepoint, int(cpu))
		p.Add(base+2, evEnter, stTracepoint, int(cpu))
	}
	names := []string{"dd", "bash", "kworker/0:1", "sshd", "systemd-journal", "go", "getppid-loop", "sleep"}
	var buf []byte
	count := 0
	for i := 0; count < n; i++ {
		pid := int32(1000 + i%37)
		t := uint64(1_000_000 + i*250)
		if i%100 == 99 {
			buf = append(buf, commRecord(i%300 == 299, pid, pid, names[i%len(names)],
				sampleID{pid: pid, tid: pid, time: t, cpu: uint32(i & 1), id: 0x2000})...)
			count++
			continue
		}
		// Mostly sys_enter, with a switch every fourth record, as dd
		// under load.
		s := streams[2*(i&1)+1]
		raw := sysEnterPayload(pid, 0)
		if i%4 == 0 {
			s = streams[2*(i&1)]
			raw = switchPayload(pid, pid+1)
		}
		buf = append(buf, sample{id: s.id, pid: pid, tid: pid, time: t, cpu: s.cpu, raw: raw}.encode(stTracepoint)...)
		count++
	}
	return buf, count
}

// parseAll parses buf record by record, the way the ring reader does.
func parseAll(p *Parser, buf []byte, sink session.Sink) {
	for off := 0; off+8 <= len(buf); {
		n := int(le.Uint16(buf[off+6:]))
		p.Parse(buf[off:off+n], sink)
		off += n
	}
}

func BenchmarkParseDispatch(b *testing.B) {
	p := newTestParser()
	buf, records := storm(p, 100_000)
	var sink session.Sink = discard{}
	parseAll(p, buf, sink) // interns the names
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		parseAll(p, buf, sink)
	}
	n := float64(records) * float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
}

func TestStormParsesWithoutLossOrAllocation(t *testing.T) {
	p := newTestParser()
	buf, records := storm(p, 10_000)
	var sink logSink
	parseAll(p, buf, &sink)
	comms := countOf[process.Comm](sink.got)
	if sink.samples()+comms != records || p.Stats.Samples != uint64(sink.samples()) || p.Stats.Malformed+p.Stats.Unknown != 0 {
		t.Fatalf("%d records gave %d samples and %d COMMs, stats %+v", records, sink.samples(), comms, p.Stats)
	}
	var discardSink session.Sink = discard{}
	if n := testing.AllocsPerRun(3, func() { parseAll(p, buf, discardSink) }); n != 0 {
		t.Errorf("parsing %d records allocates %v times", records, n)
	}
}
