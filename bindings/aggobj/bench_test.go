package aggobj

import (
	"fmt"
	"testing"

	"github.com/d5/tengo/v2"
)

// The benchmarks run end to end: a compiled script handler, called per
// event through host's trampoline (as the dispatch loop calls it), calls
// the aggregation's method. The empty handler is the floor.
const benchScript = `
c := otrace.count("calls")
h := otrace.hist("lat")
l := otrace.lhist("pct", 0, 100, 10)
s := otrace.stats("st")
m := {}
keep("empty", func(k) {})
keep("inc", func(k) { c.inc(k) })
keep("tuple", func(e) { c.inc([e.comm, e.pid]) })
keep("hist", func(v) { h.add(v) })
keep("lhist", func(v) { l.add(v) })
keep("stats", func(k) { s.add(k, 100) })
keep("tengo map", func(k) { m[k] = (m[k] || 0) + 1 })
`

// benchHandler calls the kept handler once per iteration with args in turn.
func benchHandler(b *testing.B, name string, args []tengo.Object) {
	r := mustLoad(b, benchScript)
	fn := r.kept[name]
	for _, a := range args { // first sight of every key
		if _, err := r.script.Call1(fn, a); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := r.script.Call1(fn, args[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(args) {
			i = 0
		}
	}
}

func comms() []tengo.Object {
	out := make([]tengo.Object, 64)
	for i := range out {
		out[i] = &tengo.String{Value: fmt.Sprintf("comm-%02d", i)}
	}
	return out
}

func ints(n int, f func(i int) int64) []tengo.Object {
	out := make([]tengo.Object, n)
	for i := range out {
		out[i] = &tengo.Int{Value: f(i)}
	}
	return out
}

func BenchmarkHandlerEmpty(b *testing.B) { benchHandler(b, "empty", comms()) }

func BenchmarkCountIncString(b *testing.B) { benchHandler(b, "inc", comms()) }

func BenchmarkCountIncInt(b *testing.B) {
	benchHandler(b, "inc", ints(64, func(i int) int64 { return int64(i * 7919) }))
}

func BenchmarkCountIncStack(b *testing.B) {
	var stacks []tengo.Object
	for i := range 64 {
		stacks = append(stacks, &fakeStack{id: uint64(i), text: fmt.Sprintf("\tf%d\n", i)})
	}
	benchHandler(b, "inc", stacks)
}

func BenchmarkCountIncTuple(b *testing.B) {
	var events []tengo.Object
	for i, c := range comms() {
		events = append(events, &tengo.ImmutableMap{Value: map[string]tengo.Object{"comm": c, "pid": &tengo.Int{Value: int64(1000 + i)}}})
	}
	benchHandler(b, "tuple", events)
}

func BenchmarkHistAdd(b *testing.B) {
	benchHandler(b, "hist", ints(64, func(i int) int64 { return int64(i*i*i) - 10 }))
}

func BenchmarkLHistAdd(b *testing.B) {
	benchHandler(b, "lhist", ints(64, func(i int) int64 { return int64(i*2 - 10) }))
}

func BenchmarkStatsAddString(b *testing.B) { benchHandler(b, "stats", comms()) }

// BenchmarkTengoMapCount is the same count in a Tengo map, for comparison.
func BenchmarkTengoMapCount(b *testing.B) { benchHandler(b, "tengo map", comms()) }
