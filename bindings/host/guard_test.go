package host_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/d5/tengo/v2"

	"otrace/bindings/host"
)

// The script for the failure tests: each kept function fails in its own
// way when called with 0 and returns 1 otherwise, so a test can check that
// the call after a failure runs normally on a fresh VM.
const failing = `
keep("ok", func(x) { return 1 })
keep("runtime", func(x) {
	if x == 0 { return 1 + "s" }
	return 1
})
keep("divide", func(x) {
	return 1 / (x == 0 ? 0 : 1)
})
keep("modulo", func(x) {
	return 1 % (x == 0 ? 0 : 2)
})
recurse := func() { return 1 + recurse() }
keep("recurse", func(x) {
	if x == 0 { return recurse() }
	return 1
})
recurse3 := func(a, b, c) { x := a; y := b; return 1 + recurse3(x, y, c) }
keep("recurse_wide", func(x) {
	if x == 0 { return recurse3(1, 2, 3) }
	return 1
})
keep("loop", func(x) {
	for x == 0 {}
	return 1
})
keep("alloc", func(x) {
	a := []
	for x == 0 { a = append(a, [1]) }
	return 1
})
keep("strings", func(x) {
	s := "x"
	for x == 0 { s += "x" }
	return 1
})
`

func TestAFailedCallIsReportedAndTheNextCallRuns(t *testing.T) {
	tests := []struct {
		name string
		fn   string
		msg  string // substring of the HandlerError's Msg
		pos  string // its Pos, or "" to skip
	}{
		{"a runtime error gives its position", "runtime", "invalid operation: int + string", "t.tengo:4:21"},
		{"integer division by zero is recovered", "divide", "integer division by zero", "t.tengo:8:9"},
		{"integer modulo by zero is recovered", "modulo", "integer division by zero", "t.tengo:11:9"},
		{"infinite recursion is recovered", "recurse", "stack overflow", ""},
		{"infinite recursion with locals is recovered", "recurse_wide", "stack overflow", ""},
		{"an endless loop is stopped by the watchdog", "loop", "ran longer than 50ms and was stopped (raise --handler-timeout)", "t.tengo:24:6"},
		{"an allocation bomb stops at MaxAllocs", "alloc", "allocated more than 1000 objects in one call and was stopped (raise --max-allocs)", ""},
		{"a growing string stops at MaxAllocs", "strings", "(raise --max-allocs)", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Only the endless loop should meet the watchdog: the others get
			// time to fail their own way, even under the race detector.
			timeout := time.Minute
			if tt.fn == "loop" {
				timeout = 50 * time.Millisecond
			}
			s, fns := load(t, failing, host.Options{Timeout: timeout, MaxAllocs: 1000})
			zero, one := &tengo.Int{Value: 0}, &tengo.Int{Value: 1}
			// A successful call first: the failing call then runs on a VM
			// that has already been used.
			if _, err := s.Call1(fns[tt.fn], one); err != nil {
				t.Fatalf("first call: %v", err)
			}
			start := time.Now()
			_, err := s.Call1(fns[tt.fn], zero)
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("the failing call took %v", took)
			}
			he := handlerError(t, err)
			if !strings.Contains(he.Msg, tt.msg) {
				t.Errorf("Msg %q does not contain %q", he.Msg, tt.msg)
			}
			if tt.pos != "" && he.Pos != tt.pos {
				t.Errorf("Pos %q, want %q", he.Pos, tt.pos)
			}
			if !strings.HasPrefix(he.Pos, "t.tengo:") {
				t.Errorf("Pos %q is not in the script", he.Pos)
			}
			// Tengo errors are sticky and an abort skips the next run: the
			// next calls must get a VM that runs them.
			for i := 0; i < 3; i++ {
				for _, fn := range []string{tt.fn, "ok"} {
					got, err := s.Call1(fns[fn], one)
					if err != nil {
						t.Fatalf("call %d of %s after the failure: %v", i, fn, err)
					}
					if got.String() != "1" {
						t.Fatalf("call %d of %s after the failure returned %s, want 1", i, fn, got)
					}
				}
			}
			// And the failure happens again, the same way.
			_, err = s.Call1(fns[tt.fn], zero)
			if he := handlerError(t, err); !strings.Contains(he.Msg, tt.msg) {
				t.Errorf("second failure: Msg %q does not contain %q", he.Msg, tt.msg)
			}
		})
	}
}

func TestTheTopLevelIsGuardedToo(t *testing.T) {
	tests := []struct {
		name string
		src  string
		msg  string
	}{
		{"an endless loop at the top level is stopped", "for {}", "ran longer than 50ms"},
		{"division by zero at the top level is recovered", "x := 0\ny := 1 / x", "integer division by zero"},
		{"an allocation bomb at the top level stops", "a := []\nfor { a = append(a, [1]) }", "--max-allocs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := loadErr(t, tt.src, host.Options{InitTimeout: 50 * time.Millisecond, MaxAllocs: 1000})
			he := handlerError(t, err)
			if !strings.Contains(he.Msg, tt.msg) {
				t.Errorf("Msg %q does not contain %q", he.Msg, tt.msg)
			}
		})
	}
}

func TestNilGlobalsDoNotPanic(t *testing.T) {
	t.Run("a script whose compile failed half way is not run at all", func(t *testing.T) {
		_, err := host.Compile(host.Options{File: "t.tengo", Src: []byte("y := 1\nz := nope\n")})
		var ce *host.CompileError
		if !errors.As(err, &ce) {
			t.Fatalf("Compile: got %v, want a *host.CompileError", err)
		}
	})
	t.Run("a predefined global given as nil reads undefined", func(t *testing.T) {
		s, fns := load(t, `keep("f", func() { return [g, type_name(g)] })`,
			host.Options{Globals: map[string]tengo.Object{"g": nil}})
		got, err := s.Call0(fns["f"])
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != `[<undefined>, "undefined"]` {
			t.Errorf("f() = %s, want g undefined", got)
		}
	})
	t.Run("functions kept before a failing statement keep working", func(t *testing.T) {
		src := `
y := 1
f := func() { return y }
g := func() { return y + "s" }
keep("f", f)
keep("g", g)
x := {}.missing + 1
later := 5
keep("never", func() { return later })
`
		s, fns, err := loadErr(t, src, host.Options{})
		he := handlerError(t, err)
		if he.Pos != "t.tengo:7:6" {
			t.Errorf("top level failed at %q, want t.tengo:7:6", he.Pos)
		}
		if _, ok := fns["never"]; ok {
			t.Fatal("the top level ran past its failing line")
		}
		for i := 0; i < 2; i++ {
			if got, err := s.Call0(fns["f"]); err != nil || got.String() != "1" {
				t.Errorf("f() = %v, %v; want 1", got, err)
			}
			_, err := s.Call0(fns["g"])
			if he := handlerError(t, err); !strings.Contains(he.Msg, "invalid operation") {
				t.Errorf("g: Msg %q, want an invalid operation", he.Msg)
			}
		}
	})
}

func TestInterruptStopsTheRunningCall(t *testing.T) {
	s, fns := load(t, failing, host.Options{Timeout: time.Hour})
	// Nothing runs: a stray interrupt must not skip the next call.
	s.Interrupt()
	if got, err := s.Call1(fns["ok"], &tengo.Int{Value: 1}); err != nil || got.String() != "1" {
		t.Fatalf("call after an idle Interrupt = %v, %v; want 1", got, err)
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Interrupt is a no-op until the call runs; keep trying.
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				s.Interrupt()
			}
		}
	}()
	start := time.Now()
	_, err := s.Call1(fns["loop"], &tengo.Int{Value: 0})
	close(done)
	wg.Wait()
	he := handlerError(t, err)
	if he.Msg != "interrupted" {
		t.Errorf("Msg %q, want interrupted", he.Msg)
	}
	if he.Pos != "t.tengo:24:6" {
		t.Errorf("Pos %q, want the loop function's first statement t.tengo:24:6", he.Pos)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the interrupt took %v", took)
	}
	if got, err := s.Call1(fns["loop"], &tengo.Int{Value: 1}); err != nil || got.String() != "1" {
		t.Errorf("call after the interrupt = %v, %v; want 1", got, err)
	}
}

func TestAFastCallIsNotAbortedByAnEarlierTimeout(t *testing.T) {
	// The watchdog keys on call sequence numbers: many short calls, each
	// well under the limit, add up to more than it without an abort.
	s, fns := load(t, `keep("spin", func(x) { for i := 0; i < x; i++ {} })`, host.Options{Timeout: 100 * time.Millisecond})
	n := &tengo.Int{Value: 200}
	deadline := time.Now().Add(300 * time.Millisecond)
	calls := 0
	for time.Now().Before(deadline) {
		if _, err := s.Call1(fns["spin"], n); err != nil {
			t.Fatalf("call %d: %v", calls, err)
		}
		calls++
	}
}

// nested loads src with a global call(fn) that calls fn back through the
// script, as a Go builtin taking a callback would.
func nested(t *testing.T, src string, opts host.Options) (*host.Script, map[string]tengo.Object) {
	t.Helper()
	var s *host.Script
	opts.Globals = map[string]tengo.Object{"call": &tengo.UserFunction{Name: "call",
		Value: func(args ...tengo.Object) (tengo.Object, error) {
			if len(args) != 1 {
				return nil, tengo.ErrWrongNumArguments
			}
			return s.Call0(args[0])
		}}}
	s, fns := load(t, src, opts)
	return s, fns
}

func TestNestedCalls(t *testing.T) {
	const src = `
keep("sum", func() { return call(func() { return 1 }) + call(func() { return call(func() { return 2 }) }) })
keep("fail", func() { return call(func() { return 1 + "s" }) })
keep("loop_inner", func() { call(func() { for {} }); for {} })
keep("loop_outer", func() { call(func() { return 1 }); for {} })
`
	t.Run("results come back through every level", func(t *testing.T) {
		s, fns := nested(t, src, host.Options{})
		for i := 0; i < 3; i++ {
			got, err := s.Call0(fns["sum"])
			if err != nil || got.String() != "3" {
				t.Fatalf("sum() = %v, %v; want 3", got, err)
			}
		}
	})
	t.Run("an error in the inner call fails the outer call", func(t *testing.T) {
		s, fns := nested(t, src, host.Options{})
		_, err := s.Call0(fns["fail"])
		he := handlerError(t, err)
		if !strings.Contains(he.Msg, "invalid operation: int + string") {
			t.Errorf("Msg %q, want the inner error", he.Msg)
		}
		if got, err := s.Call0(fns["sum"]); err != nil || got.String() != "3" {
			t.Errorf("sum() after the failure = %v, %v; want 3", got, err)
		}
	})
	for _, fn := range []string{"loop_inner", "loop_outer"} {
		t.Run("the watchdog stops "+fn, func(t *testing.T) {
			s, fns := nested(t, src, host.Options{Timeout: 50 * time.Millisecond})
			done := make(chan error, 1)
			go func() {
				_, err := s.Call0(fns[fn])
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				s.Interrupt()
				<-done
				t.Fatal("the watchdog did not stop the call in 10s")
			}
			he := handlerError(t, err)
			if !strings.Contains(he.Msg, "ran longer than 50ms") {
				t.Errorf("Msg %q, want a timeout", he.Msg)
			}
			if got, err := s.Call0(fns["sum"]); err != nil || got.String() != "3" {
				t.Errorf("sum() after the timeout = %v, %v; want 3", got, err)
			}
		})
	}
}

func TestACallAfterAnIdleSpellIsStillAborted(t *testing.T) {
	// An idle watchdog parks its ticker: the first call after it must wake
	// it, or a runaway handler would never be stopped.
	s, fns := load(t, failing, host.Options{Timeout: 50 * time.Millisecond})
	for round := 0; round < 3; round++ {
		time.Sleep(200 * time.Millisecond) // many ticks without a call
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			_, err := s.Call1(fns["loop"], &tengo.Int{Value: 0})
			done <- err
		}()
		select {
		case err := <-done:
			he := handlerError(t, err)
			if !strings.Contains(he.Msg, "ran longer than 50ms") {
				t.Errorf("round %d: %q, want it stopped for running longer than 50ms", round, he.Msg)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("round %d: aborted after %v, limit 50ms", round, took)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: a looping call after an idle spell was not aborted in 5 s", round)
		}
	}
}
