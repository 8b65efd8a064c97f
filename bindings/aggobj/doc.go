// Package aggobj exposes runtime/aggregate to scripts: the constructors
// otrace.count, sum, min, max, avg, stats, hist and lhist, and the objects
// they return (c.inc(key), a.add(key, value), get, top, keys, len, clear,
// print, delete). An object is a handle on a Go aggregation: updating a
// key seen before allocates nothing in Go (the VM's argument slice aside),
// and the named aggregations print at the end of the run through
// Module.PrintAll.
//
// Keys are strings, ints, arrays of those (tuples such as [e.comm, e.pid]),
// stacks (any object implementing aggregate.Stack), or undefined / no key
// for the single unkeyed value.
package aggobj
