// Package export turns what a script collected into files people open.
//
// It owns two in-memory models and the formats that write them:
//
//   - Profile, an export machine for samples: values (one per
//     SampleType) summed by stacks and labels. Stacks stay interned ids of
//     a run's runtime/stacks table and are named only when written
//     (symbolize late).
//   - Timeline, slices, instants and counters on per-thread tracks.
//
// A Writer is one format; WriteFile chooses it by the file's ending and
// writes atomically (a temporary file, then a rename):
//
//	name       endings                       data      what
//	pprof      .pb.gz .pprof                 Profile   gzipped profile.proto (go tool pprof)
//	folded     .folded                       Profile   "comm;root;…;leaf N" (flamegraph.pl, inferno, speedscope)
//	jsonlines  .jsonl .json                  Profile   one JSON object per sample
//	text       .txt                          Profile   top functions, flat and cumulative
//	perfetto   .perfetto.json .trace.json    Timeline  Chrome trace-event JSON (ui.perfetto.dev, chrome://tracing)
//	           .json (for a Timeline)
//
// # JSON lines
//
// Each line is one distinct sample (its values summed over every Add with
// the same stacks and labels), in the order samples were first added:
//
//	{"stack":["main","work","leaf"],"kstack":["entry_SYSCALL_64","do_syscall_64"],"values":{"cpu":3000000,"samples":3},"labels":{"comm":"app","pid":42}}
//
// The fields are:
//
//   - stack: the user stack's function names, outermost first; [] when
//     none.
//   - kstack: the kernel stack's, outermost first; [] when none. The
//     kernel was entered from the last frame of stack.
//   - values: sample type → summed value.
//   - labels: key → string, or number for numeric labels (units are not
//     written).
//
// A frame whose function is unknown is named after its module in
// brackets ("[libc.so.6]"), or "[unknown]", in every text format.
//
// What the package does not do: collect (collectors, runtime/session),
// name addresses (runtime/symbols through runtime/stacks), or aggregate
// into tables and histograms (runtime/aggregate).
package export
