// Package etw is otrace's Windows collector: Event Tracing for Windows
// as a session.Source, so that the scripts that run on Linux perf events
// run on Windows kernel and provider events.
//
// It owns, portably (tested on any OS, on bytes built to the documented
// layouts):
//   - decoding EVENT_RECORD, EVENT_HEADER and the extended data items
//     (stack traces, TraceLogging metadata) as ProcessTrace delivers
//     them (record.go);
//   - the kernel's MOF classes otrace uses: SampledProfile, StackWalk,
//     CSwitch, ReadyThread, Process, Thread, Image (kernel.go);
//   - TRACE_EVENT_INFO from TDH and TraceLogging's self-describing
//     metadata, both turned into a Schema (tdh.go, tracelogging.go), and
//     the rewriting of any payload into a normalized layout that an
//     event.Format describes, so e.field works as on Linux (layout.go);
//   - probe names (catalog.go), ordering records across CPUs and
//     stitching stack walks to their events, feeding process, thread and
//     image events to the process model (source.go, ingest.go);
//   - captures: raw records saved live and replayed anywhere (capture.go).
//
// The system calls (StartTraceW, ControlTraceW, EnableTraceEx2,
// OpenTraceW, ProcessTrace, CloseTrace, TraceSetInformation, TDH) live in
// the _windows.go files, on golang.org/x/sys/windows without cgo; other
// systems get ErrNeedsWindows from NewLive.
//
// It does not symbolize addresses (runtime/symbols does, from the
// mappings image events report) and does not order records from several
// sources (the session does).
package etw
