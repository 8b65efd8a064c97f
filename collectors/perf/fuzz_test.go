package perf

import (
	"testing"

	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// FuzzParseRecord feeds arbitrary bytes to the parser as one record. It
// must not panic; every record must end in exactly one sink call or one
// count of Unknown, Malformed or Self; and when Parse delivers something,
// Time must give the same timestamp (the merge orders by Time, handlers
// see Parse's).
func FuzzParseRecord(f *testing.F) {
	for _, rec := range validRecords() {
		f.Add(rec)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := newTestParser()
		var sink timeSink
		tm, ok := p.Time(b)
		p.Parse(b, &sink)
		dropped := p.Stats.Unknown + p.Stats.Malformed + p.Stats.Self
		if sink.calls+int(dropped) != 1 {
			t.Fatalf("%d sink calls and %d dropped for one record (stats %+v)", sink.calls, dropped, p.Stats)
		}
		if sink.calls == 1 && (!ok || tm != sink.time) {
			t.Fatalf("Parse delivered time %d, Time says %d, %v", sink.time, tm, ok)
		}
	})
}

// timeSink counts calls and keeps the last one's time.
type timeSink struct {
	calls int
	time  uint64
}

func (s *timeSink) at(t uint64)            { s.calls++; s.time = t }
func (s *timeSink) Sample(r *event.Record) { s.at(r.Time) }
func (s *timeSink) Comm(c process.Comm)    { s.at(c.Time) }
func (s *timeSink) Fork(f process.Fork)    { s.at(f.Time) }
func (s *timeSink) Exit(e process.Exit)    { s.at(e.Time) }
func (s *timeSink) Mmap(m process.Mmap)    { s.at(m.Time) }
func (s *timeSink) Lost(l session.Lost)    { s.at(l.Time) }
func (s *timeSink) Tick(now uint64)        { s.at(now) }
