// Package aggregate owns otrace's aggregations, the bpftrace/DTrace model:
// count, sum, min, max, avg, stats, hist (power-of-two buckets) and lhist
// (linear buckets), each keyed by nothing, an int, a string, a tuple of
// those, or a stack. It stores them natively (no per-update allocation for
// a key seen before), caps the number of keys per aggregation (updates of
// new keys past the cap are dropped, counted and reported, never silently),
// merges partial results exactly (per CPU, per window, per worker: every
// kind keeps only what combines, so there is no median), and prints them
// as bpftrace does.
//
// It knows nothing of Tengo: bindings/aggobj exposes aggregations to
// scripts. Stacks come in through the Stack interface, so symbolizing their
// text waits until something prints them. An Agg belongs to one goroutine.
package aggregate
