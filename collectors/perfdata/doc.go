// Package perfdata reads the perf.data files Linux perf writes, in file
// mode (perf record -o FILE) and pipe mode (perf record -o -), and plays
// them back as a session.Source: samples of tracepoints, clocks and other
// perf events with their raw payloads and callchains, process records
// (COMM, FORK, EXIT, MMAP, MMAP2) and loss, in time order.
//
// A perf.data file holds a header, the perf_event_attr of every recorded
// event with the ids the kernel gave it, a data section of records as the
// kernel and perf wrote them, and feature sections (tracing data with the
// tracepoint formats, build ids, host name, kernel release, architecture,
// CPU count, command line, event names). The data is not in time order
// across CPUs: perf copies each CPU's ring in turn and marks the end of
// each pass with a FINISHED_ROUND record. The Reader sorts records the way
// perf report does: a record is delivered once a round has ended after
// which no record older than it can appear.
//
// Writer and Tee write otrace's events back out as a file-mode perf.data
// that perf script and perf report read (otrace record --format perf):
// tracepoints with their formats, samples with callchains, process
// records and the host's description.
//
// It does not unwind user stacks copied by --call-graph dwarf (it parses
// past them and counts them), decompress perf record -z data or read AUX
// area traces. The tracepoint formats it hands out come from the file,
// never from this machine's tracefs.
package perfdata
