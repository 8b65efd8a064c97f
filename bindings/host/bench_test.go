package host_test

import (
	"testing"

	"github.com/d5/tengo/v2"

	"otrace/bindings/host"
)

const handlers = `
counts := {}
keep("empty", func(e) {})
keep("count", func(e) { counts["k"] = (counts["k"] || 0) + 1 })
keep("total", func() { return counts["k"] })
`

func TestCallOfAnEmptyFunctionAllocatesNothing(t *testing.T) {
	s, fns := load(t, handlers, host.Options{})
	arg := &tengo.Int{Value: 1}
	fn := fns["empty"]
	for i := 0; i < 10; i++ { // build the trampoline
		if _, err := s.Call1(fn, arg); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := s.Call1(fn, arg); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Call1 of func(e) {} allocates %v times per call, want 0", allocs)
	}
}

func TestCountingHandlerCounts(t *testing.T) {
	s, fns := load(t, handlers, host.Options{})
	for i := 0; i < 100; i++ {
		if _, err := s.Call1(fns["count"], tengo.UndefinedValue); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Call0(fns["total"])
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != "100" {
		t.Errorf("count = %s, want 100", got)
	}
}

func benchCall(b *testing.B, name string) {
	s, fns := load(b, handlers, host.Options{})
	fn, arg := fns[name], &tengo.Int{Value: 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Call1(fn, arg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCall1Empty(b *testing.B) { benchCall(b, "empty") }

func BenchmarkCall1Count(b *testing.B) { benchCall(b, "count") }
