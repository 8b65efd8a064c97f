// Package procfs reads the processes that existed before a trace started
// from /proc, so that samples from them have names, parents and mappings.
//
// A live collector only sees the COMM, FORK and MMAP records of what
// happens after it starts; Scan supplies the rest once, at start: a Fork
// and a Comm for every process and thread, and, when asked, an Mmap for
// every executable mapping with its ELF build-id. It emits records through
// a Visitor, which a session.Sink satisfies.
//
// The package owns the parsing of /proc/PID/stat, /proc/PID/maps and the
// GNU build-id note of an ELF file. It does not keep a process model (that
// is package process) and does not symbolize.
//
// The parsers are portable; reading is tuned for Linux (raw open/read/close
// with one reused buffer) in files ending in _linux.go.
package procfs
