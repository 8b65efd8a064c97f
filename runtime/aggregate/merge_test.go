package aggregate

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// op is one Add.
type op struct {
	k Key
	x int64
}

// randomUpdates are n updates over a few keys of every kind, with values
// that include the int64 extremes (small non-negative ones for a count).
func randomUpdates(r *rand.Rand, kind Kind, n int) []op {
	stacks := []Stack{&fakeStack{1, "\ta\n"}, &fakeStack{2, "\tb\n\ta\n"}, &fakeStack{3, "\tc\n"}}
	keys := []Key{{}, Int(0), Int(-1), Str("a"), Str("b"), Tuple(Str("a"), Int(1)), Tuple(Str("b"), Int(1))}
	for _, s := range stacks {
		keys = append(keys, StackOf(s), Tuple(Str("a"), StackOf(s)))
	}
	edges := []int64{0, 1, -1, 2, 3, 1023, 1024, maxInt, minInt, 99, 100, -100}
	out := make([]op, n)
	for i := range out {
		var x int64
		switch {
		case kind == Count:
			x = r.Int64N(10)
		case r.IntN(3) == 0:
			x = edges[r.IntN(len(edges))]
		case r.IntN(2) == 0:
			x = r.Int64N(2000) - 500
		default:
			x = int64(r.Uint64())
		}
		out[i] = op{keys[r.IntN(len(keys))], x}
	}
	return out
}

// sortedByKey are a's entries in key order.
func sortedByKey(a *Agg) []Entry {
	out := slices.Clone(a.Entries())
	slices.SortFunc(out, func(x, y Entry) int { return CompareKeys(&x.Key, &y.Key) })
	return out
}

func TestMergingRandomPartsEqualsAggregatingTheWhole(t *testing.T) {
	opts := Options{Linear: Linear{-100, 100, 7}}
	for kind := Count; kind <= LHist; kind++ {
		for seed := range uint64(20) {
			t.Run(fmt.Sprintf("%s, seed %d", kind, seed), func(t *testing.T) {
				r := rand.New(rand.NewPCG(seed, uint64(kind)))
				ups := randomUpdates(r, kind, 500+r.IntN(1500))
				whole := mustNew(t, kind, "x", opts)
				parts := make([]*Agg, 1+r.IntN(6))
				for i := range parts {
					parts[i] = mustNew(t, kind, "x", opts)
				}
				for _, u := range ups {
					add(t, whole, u.k, u.x)
					add(t, parts[r.IntN(len(parts))], u.k, u.x)
				}
				merged := mustNew(t, kind, "x", opts)
				for _, p := range parts {
					if err := merged.Merge(p); err != nil {
						t.Fatal(err)
					}
				}
				if got, want := merged.String(), whole.String(); got != want {
					t.Fatalf("merged prints\n%s\nwhole prints\n%s", got, want)
				}
				if got, want := sortedByKey(merged), sortedByKey(whole); !reflect.DeepEqual(got, want) {
					t.Errorf("merged entries differ from the whole's:\n%+v\n%+v", got, want)
				}
			})
		}
	}
}

func TestMergeRejectsWhatDoesNotCombine(t *testing.T) {
	count := mustNew(t, Count, "a", Options{})
	sum := mustNew(t, Sum, "b", Options{})
	l1 := mustNew(t, LHist, "c", Options{Linear: Linear{0, 100, 10}})
	l2 := mustNew(t, LHist, "d", Options{Linear: Linear{0, 100, 20}})
	tests := []struct {
		name    string
		into, o *Agg
		want    string
	}{
		{"a sum into a count", count, sum, "cannot merge sum @b into count @a"},
		{"lhists of different steps", l1, l2, "the buckets differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.into.Merge(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Merge error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestMergeKeepsTheKeyCapAndItsDrops(t *testing.T) {
	var warned int
	a := mustNew(t, Count, "x", Options{MaxKeys: 2, Warn: func(string) { warned++ }})
	add(t, a, Str("a"), 1)
	add(t, a, Str("b"), 1)
	o := mustNew(t, Count, "x", Options{MaxKeys: 1})
	add(t, o, Str("a"), 4)
	k := Str("d")
	o.Add(&k, 3) // dropped in o
	o2 := mustNew(t, Count, "x", Options{})
	add(t, o2, Str("c"), 5) // dropped by the merge
	for _, p := range []*Agg{o, o2} {
		if err := a.Merge(p); err != nil {
			t.Fatal(err)
		}
	}
	want := "@x[b]: 1\n@x[a]: 5\n@x: 8 updates of new keys dropped (max_keys 2)\n"
	if got := a.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if warned != 1 {
		t.Errorf("warned %d times, want once", warned)
	}
}
