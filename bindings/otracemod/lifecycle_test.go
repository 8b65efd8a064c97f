package otracemod_test

import (
	"errors"
	"strings"
	"testing"

	"otrace/runtime/event"
)

func TestBeginEveryAndEndRunAroundTheEvents(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.mustLoad(`
otrace.end(func() { otrace.printf("end\n") })
otrace.every("10ms", func() { otrace.printf("tick\n") })
otrace.on("sched:sched_switch", func(e) { otrace.printf("event %d\n", e.time) })
otrace.begin(func() { otrace.printf("begin\n") })
`)
	// The clock starts at the first record: ticks fall due at 11, 21 and
	// 31 ms, and each runs before the first record at or after it.
	for _, ms := range []uint64{1, 5, 12, 25, 31} {
		r.src.record(t, "sched:sched_switch", ms*1e6, nil)
	}
	r.run()
	want := `begin
event 1000000
event 5000000
tick
event 12000000
tick
event 25000000
tick
event 31000000
end
`
	if got := r.out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s\nstderr: %s", got, want, r.stderr.String())
	}
	var probes []string
	for _, a := range r.sess.Attachments() {
		probes = append(probes, a.Probe+"@"+a.Where)
	}
	wantProbes := "end@t.tengo:2:21,every 10ms@t.tengo:3:31,sched:sched_switch@t.tengo:4:43,begin@t.tengo:5:23"
	if got := strings.Join(probes, ","); got != wantProbes {
		t.Errorf("attachments %s, want %s", got, wantProbes)
	}
}

func TestLifecycleRegistrationRefusesBadArguments(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"every with a zero interval", `otrace.every("0s", func() {})`, `otrace.every: bad interval "0s": want a duration of at least 1ms like "1s" or "250ms"`},
		{"every with a negative interval", `otrace.every("-1s", func() {})`, `bad interval "-1s"`},
		{"every with an interval under a millisecond", `otrace.every("500us", func() {})`, `bad interval "500us"`},
		{"every with a word", `otrace.every("abc", func() {})`, `bad interval "abc"`},
		{"every with a number", `otrace.every(5, func() {})`, `otrace.every: the interval must be a string like "1s" or "250ms", not int`},
		{"every without a function", `otrace.every("1s")`, "otrace.every(interval, func() {...}): want 2 arguments, got 1"},
		{"every with a function of one parameter", `otrace.every("1s", func(e) {})`, "otrace.every: the function must take no parameters, it takes 1"},
		{"every with a number for a function", `otrace.every("1s", 1)`, "otrace.every: want a function, got int"},
		{"begin without a function", `otrace.begin()`, "otrace.begin(func() {...}): want 1 argument, got 0"},
		{"begin with two functions", `otrace.begin(func() {}, func() {})`, "want 1 argument, got 2"},
		{"begin with a string", `otrace.begin("x")`, "otrace.begin: want a function, got string"},
		{"end with a function of one parameter", `otrace.end(func(e) {})`, "otrace.end: the function must take no parameters, it takes 1"},
		{"exit with a string", `otrace.exit("1")`, `otrace.exit(status): the status must be an int from 0 to 255, not "1"`},
		{"exit with two arguments", `otrace.exit(1, 2)`, "otrace.exit([status]): want at most 1 argument, got 2"},
		{"exit with a status too large", `otrace.exit(256)`, "the status must be an int from 0 to 255, not 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, rigConfig{})
			err := r.load(tt.src)
			var he *event.HandlerError
			if !errors.As(err, &he) {
				t.Fatalf("load: %v, want a *event.HandlerError", err)
			}
			if !strings.Contains(he.Msg, tt.want) {
				t.Errorf("Msg %q does not contain %q", he.Msg, tt.want)
			}
			if n := len(r.sess.Attachments()); n != 0 {
				t.Errorf("%d handlers attached, want none", n)
			}
		})
	}
}

func TestExitStopsTheRunAndEndHandlersStillRun(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.mustLoad(`
n := 0
otrace.on("sched:sched_switch", func(e) {
	n += 1
	otrace.printf("event %d\n", n)
	if n == 2 { otrace.exit() }
})
otrace.end(func() { otrace.printf("end after %d\n", n) })
`)
	for i := uint64(1); i <= 5; i++ {
		r.src.record(t, "sched:sched_switch", i*1000, nil)
	}
	r.run()
	if got, want := r.out.String(), "event 1\nevent 2\nend after 2\n"; got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	if got := r.sess.Stats().Reason; got != "otrace.exit() called" {
		t.Errorf("Reason %q", got)
	}
}

func TestExitAtTheTopLevelTracesNothing(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.mustLoad(`otrace.on("sched:sched_switch", func(e) { otrace.printf("event\n") }); otrace.exit()`)
	queue(t, r)
	r.run()
	if got := r.out.String(); got != "" {
		t.Errorf("output %q, want none", got)
	}
}
