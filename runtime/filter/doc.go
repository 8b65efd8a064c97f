// Package filter owns the kernel's tracepoint filter language
// (Documentation/trace/events.rst, "Event filtering"): it parses a filter
// such as
//
//	prev_state == 1 && next_comm ~ "post*"
//
// checks it against an event's Format, and evaluates it on raw payloads
// with the meaning the kernel gives it, so that a recording replays a
// filtered probe exactly as the kernel would have delivered it live.
//
// It does not hand filters to the kernel (collectors do, with the text of
// Filter.String) and it does not know about scripts.
//
// # The language
//
// A filter is predicates FIELD OP VALUE joined by && and ||, with ! and
// parentheses; && binds tighter than ||. Integer fields (and pointers,
// compared as addresses) take ==, !=, <, <=, >, >= and & (true when
// FIELD & VALUE is not zero); values are decimal, 0x hex or 0-prefixed
// octal, negative only for signed fields, and are truncated to the field's
// width before comparing, as the kernel does (common_flags == 256 tests
// for 0). Comparisons are signed for signed fields. String fields (char
// arrays and __data_loc/__rel_loc char strings) take == and != and the glob
// match ~, with the value in double or single quotes (no escapes).
//
// ~ follows the kernel: "abc*", "*abc*" and "*abc" are prefix, substring
// and suffix matches; a pattern with ?, [...], \ or an inner * is a full
// glob in which * matches any bytes, '/' included, a class is negated with
// [!...], not [^...], and an unclosed [ is a literal (unlike path.Match); a
// leading ! negates the match ("!kworker*").
//
// # Where otrace is stricter than the kernel
//
// Compile rejects, with a message saying why and what to write instead,
// some filters the kernel accepts but otrace cannot or should not evaluate:
//
//   - the kernel's pseudo-fields COMM, comm, CPU, cpu, common_cpu and
//     STACKTRACE (they read the current task and CPU, which a payload does
//     not carry) and the .function suffix (it needs the kernel's symbols);
//   - char * fields (the kernel reads the string they point to), arrays
//     other than char arrays, and integers that are not 1, 2, 4 or 8 bytes;
//   - a dangling && or ||, or a trailing ! (the kernel ignores them);
//   - a suffix match ~ "*abc" on a fixed-size char array: the kernel
//     compares the array's last bytes, not the string's, so it matches only
//     strings that fill the array; "*[a]bc" is a full glob and works;
//   - a ~ pattern that starts with a digit and has wildcards: recent kernels
//     treat it as a literal string ("1*" matches only "1*"); "[1]*" globs;
//   - the filter "0", which tracefs reads as "remove the filter";
//   - a filter whose normalized String is longer than the 4095 bytes the
//     kernel takes, since String is what collectors hand the kernel.
package filter
