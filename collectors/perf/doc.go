// Package perf is otrace's Linux collector: it opens perf events
// (tracepoints, CPU sampling, software events, uprobes) on every CPU with
// perf_event_open, reads one ring per CPU into which all the events of that
// CPU are redirected, parses the kernel's records without allocating,
// merges the CPUs by timestamp and hands the records to the session as a
// session.Source. It also opens counting events (no ring) for scripts that
// only need totals.
//
// The record parser and the merge are portable and tested on recorded
// bytes; the system calls live in _linux.go files.
package perf
