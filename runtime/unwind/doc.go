// Package unwind owns turning a copied user stack into return addresses:
// the DWARF call frame information (CFI) of ELF files (.eh_frame, its
// .eh_frame_hdr search table, and .debug_frame) parsed into per-address
// rules, and the unwinder that walks a stack copy with them.
//
// A sampling event with PERF_SAMPLE_REGS_USER and PERF_SAMPLE_STACK_USER
// gives the user registers and a copy of the stack from the stack pointer
// up. For each frame the unwinder finds the mapping that held the program
// counter at sample time (the process model), the binary behind it, the
// FDE covering the address, and the row of rules in force there: how to
// compute the canonical frame address (CFA) and where the caller's
// registers were saved. Rules are compiled once per FDE (a function's
// address range) and cached per binary, so a warm step is a few binary
// searches and loads. Code without CFI (JIT code, perf-map regions) is
// walked by frame pointers, and every frame says how it was recovered.
//
// It does not read events (collectors do), know where files are (it asks
// a Files, such as runtime/symbols' Resolver), name frames (symbols), or
// intern stacks (runtime/stacks). Nothing in it panics on bad input: a
// malformed table is a FormatError, a bad rule or an address outside the
// copy ends the stack cleanly with a Stop reason.
//
// x86-64 and arm64 are supported; the portable core has no platform code.
// An Unwinder is not safe for concurrent use: the session's dispatch
// goroutine owns it.
package unwind
