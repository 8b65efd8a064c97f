// Package session owns a tracing run: the source it reads, the probes
// resolved against the source's catalog, the dispatch loop that hands every
// record to its event's handlers on one goroutine in time order, the
// lifecycle (begin handlers, run until end of input, duration, exit(),
// signal or command exit, end handlers), timers, the process model it
// feeds, and the statistics every run reports: events, lost, handler errors
// and handler time. An interactive owner can change a session while it
// runs (live.go): tasks run on the dispatch goroutine between batches,
// handlers attach and detach, delivery pauses, and a stopped session runs
// again.
//
// For the sources that read recorded files (otrace recordings, perf.data)
// it holds what they share: RecordedCatalog, the file's events with their
// filtered and stack variants, and Tee, a source that writes what another
// source reads (otrace record) through a format's TeeWriter.
//
// It knows nothing of scripts: handlers are event.Handler values.
package session
