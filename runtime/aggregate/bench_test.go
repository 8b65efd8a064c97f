package aggregate

import (
	"fmt"
	"testing"
)

// benchAdd adds to keys in turn, every key seen before.
func benchAdd(b *testing.B, kind Kind, keys []Key) {
	a := mustNew(b, kind, "x", Options{Linear: Linear{0, 1000, 10}})
	for i := range keys {
		a.Add(&keys[i], int64(i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		a.Add(&keys[i], int64(i*37))
		if i++; i == len(keys) {
			i = 0
		}
	}
}

func manyKeys(f func(i int) Key) []Key {
	keys := make([]Key, 64)
	for i := range keys {
		keys[i] = f(i)
	}
	return keys
}

func BenchmarkAddCountString(b *testing.B) {
	benchAdd(b, Count, manyKeys(func(i int) Key { return Str(fmt.Sprintf("comm-%02d", i)) }))
}

func BenchmarkAddCountTuple(b *testing.B) {
	benchAdd(b, Count, manyKeys(func(i int) Key { return Tuple(Str(fmt.Sprintf("comm-%02d", i)), Int(int64(i))) }))
}

func BenchmarkAddHistUnkeyed(b *testing.B) { benchAdd(b, Hist, make([]Key, 64)) }

func BenchmarkAddStatsString(b *testing.B) {
	benchAdd(b, Stats, manyKeys(func(i int) Key { return Str(fmt.Sprintf("comm-%02d", i)) }))
}
