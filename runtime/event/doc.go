// Package event owns otrace's event model: the Format of an event's raw
// payload and its Fields (parsed from tracefs "format" text, the common
// language of tracefs, perf.data and otrace recordings), the Event a
// collector delivers with its ordered list of handlers, the Record a handler
// receives, and the per-handler accounting of calls, time and errors.
//
// It does not read events (collectors do), order them (the session does) or
// know about scripts (bindings do). Decoding a field from a Record never
// allocates.
package event
