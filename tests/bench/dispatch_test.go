package bench

import (
	"bytes"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/d5/tengo/v2"

	"otrace/bindings/host"
	"otrace/bindings/otracemod"
	"otrace/collectors/replay"
	"otrace/runtime/event"
	"otrace/runtime/session"
)

const switches = 100_000

func recording(b *testing.B) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := replay.WriteSchedFixture(&buf, replay.FixtureOptions{Switches: switches}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// pass runs one session over the recording; attach wires the handlers.
func pass(b *testing.B, data []byte, attach func(*session.Session)) uint64 {
	r, err := replay.NewReader(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	s := session.New(session.Config{Source: r})
	attach(s)
	if err := s.Run(); err != nil {
		b.Fatal(err)
	}
	return s.Stats().Events
}

// measure runs passes until b.N events were dispatched and reports the
// cost per event.
func measure(b *testing.B, data []byte, attach func(*session.Session)) {
	pass(b, data, attach) // warm up: interned strings, VMs
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	t0 := time.Now()
	var events uint64
	for events < uint64(b.N) {
		events += pass(b, data, attach)
	}
	el := time.Since(t0)
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(el.Nanoseconds())/float64(events), "ns/event")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(events), "allocs/event")
}

func switchEvent(b *testing.B, s *session.Session) []*event.Event {
	evs, err := s.Resolve("sched:sched_switch")
	if err != nil {
		b.Fatal(err)
	}
	return evs
}

// BenchmarkDispatchNative: read, decode and dispatch to a Go handler that
// decodes one field.
func BenchmarkDispatchNative(b *testing.B) {
	data := recording(b)
	var sum int64
	measure(b, data, func(s *session.Session) {
		evs := switchEvent(b, s)
		f := evs[0].Format.Field("next_pid")
		s.Attach(evs, &event.Attachment{Probe: "sched:sched_switch", Handler: event.HandlerFunc(func(rec *event.Record) error {
			v, _ := f.Int(rec.Raw)
			sum += v
			return nil
		})})
	})
}

// BenchmarkDispatchTengoCount: the same through a Tengo handler counting
// switches by the next task's name.
func BenchmarkDispatchTengoCount(b *testing.B) {
	benchScript(b, `counts := {}
otrace.on("sched:sched_switch", func(e) {
	counts[e.next_comm] = (counts[e.next_comm] || 0) + 1
})`)
}

// BenchmarkDispatchTengoEmpty: the floor of a script handler.
func BenchmarkDispatchTengoEmpty(b *testing.B) {
	benchScript(b, `otrace.on("sched:sched_switch", func(e) {})`)
}

func benchScript(b *testing.B, src string) {
	data := recording(b)
	var scripts []*host.Script
	defer func() {
		for _, s := range scripts {
			s.Close()
		}
	}()
	measure(b, data, func(s *session.Session) {
		mod := otracemod.New(otracemod.Config{Session: s, Out: io.Discard})
		sc, err := host.Compile(host.Options{File: "bench.tengo", Src: []byte(src),
			Globals: map[string]tengo.Object{"otrace": mod.Object()}, Modules: mod.Modules(nil, false)})
		if err != nil {
			b.Fatal(err)
		}
		scripts = append(scripts, sc)
		mod.Bind(sc)
		if err := sc.RunMain(); err != nil {
			b.Fatal(err)
		}
	})
}
