package aggregate

import (
	"fmt"
	"io"
)

// Registry holds one script's aggregations in creation order; the named
// ones print at the end of a run.
type Registry struct {
	aggs  []*Agg
	names map[string]bool
}

// New makes an aggregation and registers it. A name is unique within the
// registry; "" makes an unnamed aggregation, which PrintAll skips.
func (r *Registry) New(kind Kind, name string, opts Options) (*Agg, error) {
	if name != "" && r.names[name] {
		return nil, fmt.Errorf("an aggregation named %q exists already", name)
	}
	a, err := New(kind, name, opts)
	if err != nil {
		return nil, err
	}
	if name != "" {
		if r.names == nil {
			r.names = map[string]bool{}
		}
		r.names[name] = true
	}
	r.aggs = append(r.aggs, a)
	return a, nil
}

// All are the aggregations, named or not, in creation order.
func (r *Registry) All() []*Agg { return r.aggs }

// PrintAll prints the named aggregations that hold something (or dropped
// something), in creation order, a blank line between two.
func (r *Registry) PrintAll(w io.Writer) error {
	first := true
	for _, a := range r.aggs {
		if a.name == "" || (len(a.entries) == 0 && a.dropped == 0) {
			continue
		}
		if !first {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		first = false
		if err := a.Print(w); err != nil {
			return err
		}
	}
	return nil
}

// Merge merges each of o's aggregations into r's made in the same place:
// the registries of several instances of one script (one per worker or
// CPU) hold the same aggregations in the same order.
func (r *Registry) Merge(o *Registry) error {
	if len(o.aggs) != len(r.aggs) {
		return fmt.Errorf("aggregate: cannot merge registries of %d and %d aggregations", len(o.aggs), len(r.aggs))
	}
	for i, a := range r.aggs {
		b := o.aggs[i]
		if a.name != b.name {
			return fmt.Errorf("aggregate: aggregation %d is %s in one registry and %s in the other", i, a.label(), b.label())
		}
		if err := a.Merge(b); err != nil {
			return err
		}
	}
	return nil
}
