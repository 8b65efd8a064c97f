// Package tracefs owns otrace's view of the kernel's tracefs: finding it (and
// mounting it when it is missing and otrace runs as root), the catalogue of
// tracepoints ("system:event" names, globs over them, suggestions for typos),
// the parsed format of each event, and the dynamic uprobe events otrace
// creates in uprobe_events: finding the file a probe names ("libc" through
// the ldconfig cache and the library directories, "bash" through $PATH),
// resolving a function symbol of it to the file offset the kernel wants,
// naming the event, fetching the function's arguments or return value into
// it, and removing it again, including the groups a crashed otrace left
// behind.
//
// Every uprobe event this package creates lives in the group otrace_<pid>,
// so one process's events are easy to list and a dead process's easy to
// clean up.
//
// It does not open perf events or read rings (collectors/perf does), and it
// never enables events through tracefs itself: a tracepoint's ID and Format
// are what it hands on. Parsing the format text is runtime/event's job,
// parsing probe names runtime/probe's.
package tracefs
