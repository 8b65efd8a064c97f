package event

import (
	"errors"
	"time"
)

// KeepErrors is how many distinct errors a handler keeps for its report.
const KeepErrors = 5

// timeEvery is the sampling interval of handler timing: the clock is read
// around one call in timeEvery (a clock read is ~25 ns), so timing costs
// under 1 ns per call on average.
const timeEvery = 64

// HandlerStats is the accounting of one Attachment.
type HandlerStats struct {
	Calls  uint64
	Errors ErrorLog
	// timed and timedNs cover the sampled calls; Time scales them up.
	timed   uint64
	timedNs int64
}

// Time estimates the total time spent in the handler.
func (s *HandlerStats) Time() time.Duration {
	if s.timed == 0 {
		return 0
	}
	return time.Duration(float64(s.timedNs) / float64(s.timed) * float64(s.Calls))
}

// Call runs a's handler on rec, counting it, timing one call in 64, and
// logging its error. It reports whether the error (if any) is the first of
// its kind, which callers print at once.
func (a *Attachment) Call(rec *Record) (err error, first bool) {
	s := &a.Stats
	s.Calls++
	if s.Calls%timeEvery == 1 {
		t0 := time.Now()
		err = a.Handler.HandleEvent(rec)
		s.timedNs += int64(time.Since(t0))
		s.timed++
	} else {
		err = a.Handler.HandleEvent(rec)
	}
	if err != nil {
		first = s.Errors.Add(err, rec)
	}
	return err, first
}

// HandlerError is an error a handler returned. Script handlers return it
// with the script position where the error happened.
type HandlerError struct {
	Msg string // without position
	Pos string // "file:line:col", or empty
	// Trace lists the callers' positions, innermost first, after Pos.
	Trace []string
}

func (e *HandlerError) Error() string {
	if e.Pos == "" {
		return e.Msg
	}
	return e.Pos + ": " + e.Msg
}

// ErrorEntry is one distinct error (same position and message) with the
// number of times it happened and the first event it happened on.
type ErrorEntry struct {
	Err   error
	Count uint64
	Event string // name of the event of the first occurrence
	Time  uint64 // time of the first occurrence
}

// ErrorLog counts a handler's errors and keeps the first KeepErrors
// distinct ones. A handler error never stops collection by itself.
type ErrorLog struct {
	Total   uint64
	Entries []ErrorEntry
	// Other counts errors not matching a kept entry once the log is full.
	Other uint64
}

// Add counts err and reports whether it is new (not seen before).
func (l *ErrorLog) Add(err error, rec *Record) bool {
	l.Total++
	key := err.Error()
	for i := range l.Entries {
		if l.Entries[i].Err.Error() == key {
			l.Entries[i].Count++
			return false
		}
	}
	if len(l.Entries) >= KeepErrors {
		l.Other++
		return false
	}
	e := ErrorEntry{Err: err, Count: 1}
	if rec != nil {
		e.Time = rec.Time
		if rec.Event != nil {
			e.Event = rec.Event.Name
		}
	}
	l.Entries = append(l.Entries, e)
	return true
}

// AsHandlerError returns err as a *HandlerError if it is one.
func AsHandlerError(err error) (*HandlerError, bool) {
	var he *HandlerError
	ok := errors.As(err, &he)
	return he, ok
}
