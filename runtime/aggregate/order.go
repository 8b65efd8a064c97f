package aggregate

import (
	"cmp"
	"slices"
)

// compareValues orders two values of the aggregation's kind: counts,
// sums, minima and maxima by themselves, avg and stats by the mean, hist
// and lhist by how many values they hold.
func (a *Agg) compareValues(x, y *Value) int {
	switch a.kind {
	case Sum:
		return x.sum.cmp(y.sum)
	case Min:
		return cmp.Compare(x.Min, y.Min)
	case Max:
		return cmp.Compare(x.Max, y.Max)
	case Avg, Stats:
		return cmp.Compare(x.Avg(), y.Avg())
	}
	return cmp.Compare(x.Count, y.Count)
}

// Entries are the keys and values in no particular order; the slice is the
// aggregation's own, valid until the next change. Exporters read stack
// keys from here: Key.Stack, its AggKey and the Value.
func (a *Agg) Entries() []Entry { return a.entries }

// ByValue is a copy of the entries, smallest value first, ties by key:
// the order they print in, largest last, as bpftrace prints maps.
func (a *Agg) ByValue() []Entry {
	out := slices.Clone(a.entries)
	slices.SortFunc(out, func(x, y Entry) int {
		if c := a.compareValues(&x.Value, &y.Value); c != 0 {
			return c
		}
		return CompareKeys(&x.Key, &y.Key)
	})
	return out
}

// Top is the n entries with the largest values, largest first, ties by
// key; every entry when n < 0.
func (a *Agg) Top(n int) []Entry {
	out := slices.Clone(a.entries)
	slices.SortFunc(out, func(x, y Entry) int {
		if c := a.compareValues(&y.Value, &x.Value); c != 0 {
			return c
		}
		return CompareKeys(&x.Key, &y.Key)
	})
	if n >= 0 && n < len(out) {
		out = out[:n]
	}
	return out
}

// Keys are the keys in key order (CompareKeys).
func (a *Agg) Keys() []Key {
	out := make([]Key, len(a.entries))
	for i := range a.entries {
		out[i] = a.entries[i].Key
	}
	slices.SortFunc(out, func(x, y Key) int { return CompareKeys(&x, &y) })
	return out
}
