// Package intern deduplicates what events repeat — strings (command
// names, file names) and stacks (sequences of code addresses) — into dense
// integer ids, so that keeping, comparing or counting them costs an int,
// and looking up one seen before allocates nothing.
//
// It knows nothing of symbols: a stack is addresses in an address space
// (the kernel's, or one process image's); naming them is the job of
// runtime/symbols, late, when a stack is printed or exported.
package intern
