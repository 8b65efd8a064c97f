package session

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"otrace/runtime/event"
	"otrace/runtime/process"
)

// logWriter is a TeeWriter that logs what it writes and fails the write
// of the comm called "full".
type logWriter struct{ log *[]string }

var errFull = errors.New("disk full")

func (w *logWriter) Comm(c process.Comm) error {
	*w.log = append(*w.log, "write comm "+c.Comm)
	if c.Comm == "full" {
		return errFull
	}
	return nil
}
func (w *logWriter) Fork(process.Fork) error { *w.log = append(*w.log, "write fork"); return nil }
func (w *logWriter) Exit(process.Exit) error { *w.log = append(*w.log, "write exit"); return nil }
func (w *logWriter) Mmap(process.Mmap) error { *w.log = append(*w.log, "write mmap"); return nil }
func (w *logWriter) Lost(Lost) error         { *w.log = append(*w.log, "write lost"); return nil }

// watchingWriter is a logWriter told of samples.
type watchingWriter struct{ logWriter }

func (w *watchingWriter) SamplePassed() { *w.log = append(*w.log, "sample passed") }

// logSink logs what reaches the session.
type logSink struct{ log *[]string }

func (s logSink) add(what string) { *s.log = append(*s.log, what) }
func (s logSink) Sample(r *event.Record) {
	if r.Event.Filter != "" {
		s.add("got sample " + r.Event.Name + " if " + r.Event.Filter)
		return
	}
	s.add("got sample " + r.Event.Name)
}

func (s logSink) Comm(c process.Comm) { s.add("got comm " + c.Comm) }
func (s logSink) Fork(process.Fork)   { s.add("got fork") }
func (s logSink) Exit(process.Exit)   { s.add("got exit") }
func (s logSink) Mmap(process.Mmap)   { s.add("got mmap") }
func (s logSink) Lost(Lost)           { s.add("got lost") }
func (s logSink) Tick(now uint64)     { s.add(fmt.Sprint("got tick ", now)) }

func (f *fakeSource) comm(name string) {
	f.items = append(f.items, func(s Sink) { s.Comm(process.Comm{Comm: name}) })
}

func (f *fakeSource) other(do func(s Sink)) { f.items = append(f.items, do) }

func readAll(t *testing.T, tee *Tee, s Sink) {
	t.Helper()
	for {
		if err := tee.Read(s); err == io.EOF {
			return
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

func TestTeeWritesEachRecordBeforeTheSessionGetsIt(t *testing.T) {
	tests := []struct {
		name  string
		watch bool
		want  string
	}{
		{"a writer sees every record but samples", false,
			"write comm c|got comm c|got sample a:x|write fork|got fork|write exit|got exit|write mmap|got mmap|write lost|got lost|got tick 5"},
		{"a sample watcher is told of samples too", true,
			"write comm c|got comm c|sample passed|got sample a:x|write fork|got fork|write exit|got exit|write mmap|got mmap|write lost|got lost|got tick 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			src := newFake("a:x")
			src.comm("c")
			src.sample("a:x", 1, 1)
			src.other(func(s Sink) { s.Fork(process.Fork{}) })
			src.other(func(s Sink) { s.Exit(process.Exit{}) })
			src.other(func(s Sink) { s.Mmap(process.Mmap{}) })
			src.other(func(s Sink) { s.Lost(Lost{}) })
			src.other(func(s Sink) { s.Tick(5) })
			var w TeeWriter = &logWriter{log: &log}
			if tt.watch {
				w = &watchingWriter{logWriter{log: &log}}
			}
			tee := NewTee(src, w)
			if err := tee.Enable([]*event.Event{src.events["a:x"]}); err != nil || len(src.enabled) != 1 {
				t.Fatalf("Enable: %v, source enabled %d events", err, len(src.enabled))
			}
			readAll(t, tee, logSink{&log})
			if got := strings.Join(log, "|"); got != tt.want {
				t.Errorf("got\n %s\nwant\n %s", got, tt.want)
			}
		})
	}
}

func TestTeeEndsTheRunAtTheFirstWriteError(t *testing.T) {
	var log []string
	src := newFake("a:x")
	src.comm("full")
	src.comm("c")
	src.comm("full")
	tee := NewTee(src, &logWriter{log: &log})
	if err := tee.Read(logSink{&log}); err != errFull {
		t.Errorf("Read = %v, want %v", err, errFull)
	}
	tee.Keep(errors.New("a later sample write failed"))
	if err := tee.Err(); err != errFull {
		t.Errorf("Err = %v, want the first error, %v", err, errFull)
	}
	// The session still gets what was read: the records happened.
	if got := strings.Join(log, "|"); got != "write comm full|got comm full|write comm c|got comm c" {
		t.Errorf("log %s", got)
	}
}

func TestTeeKeepsTheRecordingsOwnWriteErrors(t *testing.T) {
	var log []string
	src := newFake("a:x")
	src.comm("c")
	src.comm("d")
	tee := NewTee(src, &logWriter{log: &log})
	errSample := errors.New("sample write failed")
	tee.Keep(nil)
	tee.Keep(errSample)
	if err := tee.Read(logSink{&log}); err != errSample {
		t.Errorf("Read = %v, want %v", err, errSample)
	}
}

// dueSink is a session stand-in that tells when its next timer is due.
type dueSink struct {
	logSink
	due uint64
}

func (s dueSink) NextDue() uint64 { return s.due }

// A live source under a Tee (otrace record) sleeps no longer than the
// session's next timer or deadline: the Tee's sink passes NextDue on.
func TestTeePassesOnWhenTheSessionIsNextDue(t *testing.T) {
	var log []string
	if got := NextDue(logSink{&log}); got != math.MaxUint64 {
		t.Errorf("a sink that does not tell: %d, want the largest uint64", got)
	}
	sink := &teeSink{w: &logWriter{&log}, next: dueSink{logSink{&log}, 12345}}
	if got := NextDue(sink); got != 12345 {
		t.Errorf("through the Tee: %d, want the session's 12345", got)
	}
}
