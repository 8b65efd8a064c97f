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
//   - captures: raw records saved live and replayed anywhere (capture.go);
//   - the .NET runtime's method events, which name the code it compiles
//     (dotnet.go): each becomes a session.JITCode that stacks resolve
//     like a perf map entry.
//
// Whenever a probe collects stacks, the sessions also enable the .NET
// runtime's provider (its loader and JIT keywords, at the informational
// level) and its rundown provider (the same, plus the start rundown that
// lists the methods compiled before the session began): without them a
// managed frame is a bare address, and with them a profile of a .NET
// process names its methods. Runs without stacks do not pay for them.
// Image loads record each image's CodeView identity (PDB GUID and age)
// as the mapping's build-id, read from the file once per path when the
// image is first seen (Options.ImageID; live sessions set it).
//
// The system calls (StartTraceW, ControlTraceW, EnableTraceEx2,
// OpenTraceW, ProcessTrace, CloseTrace, TraceSetInformation, TDH) live in
// the _windows.go files, on golang.org/x/sys/windows without cgo; other
// systems get ErrNeedsWindows from NewLive.
//
// It does not symbolize addresses (runtime/symbols does, from the
// mappings image events report and the JIT code .NET events announce)
// and does not order records from several sources (the session does).
package etw
