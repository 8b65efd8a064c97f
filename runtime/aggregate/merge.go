package aggregate

import "fmt"

// Merge adds o's keys and values into a, so that aggregating parts of the
// input (per CPU, per window, per worker) and merging gives what
// aggregating all of it would: counts and sums add, minima and maxima
// combine, means add their sums and counts, histograms their buckets. Keys
// of o that do not fit under a's MaxKeys are dropped and counted; o's own
// drops add to a's. The aggregations must be of the same kind, and lhists
// of the same bounds.
func (a *Agg) Merge(o *Agg) error {
	if a.kind != o.kind {
		return fmt.Errorf("aggregate: cannot merge %s %s into %s %s", o.kind, o.label(), a.kind, a.label())
	}
	if a.kind == LHist && a.lin != o.lin {
		return fmt.Errorf("aggregate: cannot merge lhist %s %+v into lhist %s %+v: the buckets differ",
			o.label(), o.lin, a.label(), a.lin)
	}
	for i := range o.entries {
		e := &o.entries[i]
		j, ok := a.find(&e.Key)
		if !ok {
			if j = a.insert(&e.Key); j < 0 {
				a.drop(uint64(max(e.Value.Count, 0)))
				continue
			}
		}
		a.entries[j].Value.merge(&e.Value)
	}
	if o.dropped > 0 {
		a.drop(o.dropped)
	}
	return nil
}
