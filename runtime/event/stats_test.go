package event

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestErrorLogCountsDistinctErrors(t *testing.T) {
	boomAt := func(pos string) error { return &HandlerError{Msg: "boom", Pos: pos} }
	tests := []struct {
		name       string
		errs       []error
		wantFirst  []bool
		wantCounts []uint64
		wantOther  uint64
	}{
		{"each distinct error is kept once with its count",
			[]error{errors.New("a"), errors.New("b"), errors.New("a"), errors.New("a")},
			[]bool{true, true, false, false}, []uint64{3, 1}, 0},
		{"errors with the same message at different positions are distinct",
			[]error{boomAt("t.tengo:1:1"), boomAt("t.tengo:2:1"), boomAt("t.tengo:1:1")},
			[]bool{true, true, false}, []uint64{2, 1}, 0},
		{"a wrapped error is told apart by its whole message",
			[]error{errors.New("x"), fmt.Errorf("ctx: %w", errors.New("x"))},
			[]bool{true, true}, []uint64{1, 1}, 0},
		{"errors past KeepErrors count as Other, and kept ones still count",
			[]error{errors.New("1"), errors.New("2"), errors.New("3"), errors.New("4"), errors.New("5"),
				errors.New("6"), errors.New("7"), errors.New("1"), errors.New("6")},
			[]bool{true, true, true, true, true, false, false, false, false}, []uint64{2, 1, 1, 1, 1}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l ErrorLog
			var firsts []bool
			for _, err := range tt.errs {
				firsts = append(firsts, l.Add(err, nil))
			}
			if !reflect.DeepEqual(firsts, tt.wantFirst) {
				t.Errorf("Add reported first %v, want %v", firsts, tt.wantFirst)
			}
			var counts []uint64
			for _, e := range l.Entries {
				counts = append(counts, e.Count)
			}
			if !reflect.DeepEqual(counts, tt.wantCounts) {
				t.Errorf("entry counts %v, want %v", counts, tt.wantCounts)
			}
			if l.Other != tt.wantOther || l.Total != uint64(len(tt.errs)) {
				t.Errorf("Other %d, Total %d; want %d, %d", l.Other, l.Total, tt.wantOther, len(tt.errs))
			}
			if len(l.Entries) > KeepErrors {
				t.Errorf("%d entries kept, want at most %d", len(l.Entries), KeepErrors)
			}
		})
	}
}

func TestErrorLogRemembersTheFirstOccurrence(t *testing.T) {
	ev := &Event{Name: "sched:sched_switch"}
	var l ErrorLog
	first := errors.New("first")
	l.Add(first, &Record{Event: ev, Time: 100})
	l.Add(errors.New("first"), &Record{Event: &Event{Name: "other"}, Time: 200})
	l.Add(errors.New("no event"), &Record{Time: 300})
	l.Add(errors.New("no record"), nil)
	want := []ErrorEntry{
		{Err: first, Count: 2, Event: "sched:sched_switch", Time: 100},
		{Err: l.Entries[1].Err, Count: 1, Event: "", Time: 300},
		{Err: l.Entries[2].Err, Count: 1},
	}
	if !reflect.DeepEqual(l.Entries, want) {
		t.Errorf("entries\n%+v\nwant\n%+v", l.Entries, want)
	}
}

func TestAttachmentCallCountsCallsAndErrors(t *testing.T) {
	odd := &HandlerError{Msg: "odd tid", Pos: "t.tengo:3:5"}
	a := &Attachment{Handler: HandlerFunc(func(rec *Record) error {
		if rec.TID%2 == 1 {
			return odd
		}
		return nil
	})}
	ev := &Event{Name: "raw_syscalls:sys_enter"}
	var firsts int
	for tid := int32(0); tid < 10; tid++ {
		err, first := a.Call(&Record{Event: ev, TID: tid, Time: uint64(tid)})
		switch {
		case tid%2 == 0 && (err != nil || first):
			t.Errorf("tid %d: Call = %v, %v; want nil, false", tid, err, first)
		case tid%2 == 1 && err != odd:
			t.Errorf("tid %d: Call returned %v, want the handler's error", tid, err)
		}
		if first {
			firsts++
		}
	}
	s := &a.Stats
	if s.Calls != 10 || s.Errors.Total != 5 || firsts != 1 {
		t.Errorf("Calls %d, errors %d, first %d times; want 10, 5, 1", s.Calls, s.Errors.Total, firsts)
	}
	if len(s.Errors.Entries) != 1 || s.Errors.Entries[0].Count != 5 || s.Errors.Entries[0].Time != 1 {
		t.Errorf("error entries %+v, want one with count 5 first at time 1", s.Errors.Entries)
	}
}

func TestHandlerStatsTimeScalesSampledCalls(t *testing.T) {
	const nap = 50 * time.Microsecond
	a := &Attachment{Handler: HandlerFunc(func(*Record) error {
		time.Sleep(nap)
		return nil
	})}
	if d := a.Stats.Time(); d != 0 {
		t.Fatalf("Time before any call = %v, want 0", d)
	}
	a.Call(&Record{})
	if d := a.Stats.Time(); d < nap {
		t.Errorf("Time after the first call = %v, want at least %v: the first call is timed", d, nap)
	}
	for range 2*timeEvery - 1 {
		a.Call(&Record{})
	}
	// Calls 1 and 17 were timed; each took at least nap, so the estimate
	// for all 32 is at least 32 naps.
	if a.Stats.timed != 2 {
		t.Errorf("%d of %d calls timed, want 2", a.Stats.timed, a.Stats.Calls)
	}
	if d, want := a.Stats.Time(), time.Duration(a.Stats.Calls)*nap; d < want {
		t.Errorf("Time after %d calls = %v, want at least %v", a.Stats.Calls, d, want)
	}
}

func TestHandlerErrorNamesItsPosition(t *testing.T) {
	tests := []struct {
		name string
		err  *HandlerError
		want string
	}{
		{"an error with a position starts with it", &HandlerError{Msg: "index out of range", Pos: "t.tengo:4:2"}, "t.tengo:4:2: index out of range"},
		{"an error without a position is its message", &HandlerError{Msg: "index out of range"}, "index out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if he, ok := AsHandlerError(fmt.Errorf("handler 2: %w", tt.err)); !ok || he != tt.err {
				t.Errorf("AsHandlerError of the wrapped error = %v, %v", he, ok)
			}
		})
	}
	if he, ok := AsHandlerError(errors.New("plain")); ok || he != nil {
		t.Errorf("AsHandlerError of a plain error = %v, %v; want nil, false", he, ok)
	}
}

func TestEventDetachLeavesARunningDispatchAlone(t *testing.T) {
	a, b, c := &Attachment{ID: 0}, &Attachment{ID: 1}, &Attachment{ID: 2}
	ev := &Event{}
	ev.Attach(a)
	ev.Attach(b)
	ev.Attach(c)
	running := ev.Handlers // what a dispatch loop ranging over Handlers holds
	ev.Detach(b)
	ev.Detach(&Attachment{}) // not attached: a no-op
	if want := []*Attachment{a, c}; !reflect.DeepEqual(ev.Handlers, want) {
		t.Errorf("Handlers after Detach = %v, want %v", ev.Handlers, want)
	}
	if want := []*Attachment{a, b, c}; !reflect.DeepEqual(running, want) {
		t.Errorf("Detach changed the slice a dispatch loop holds: %v", running)
	}
}
