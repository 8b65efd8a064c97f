// Package symbols owns turning sampled code addresses into function names:
// user-space addresses through the ELF file behind their mapping (its
// .symtab, .dynsym, a separate debug file found by build-id or
// .gnu_debuglink, a Go binary's .gopclntab, and DWARF for inlined frames and
// source lines), kernel addresses through kallsyms, JIT code through
// perf-PID.map files and functions a collector announces (AddJIT: .NET
// methods from ETW), and the vDSO through the collector's own copy.
//
// Windows images (PE files, from ETW recordings) are named from their
// exports, COFF symbols and DWARF when they have them (pe.go), never
// from PDB files; a frame no name covers prints as module+offset
// (ntdll.dll+0x1234). Their paths (C:\..., \Device\...) are read under
// Options.Symfs on other systems (winpath.go).
//
// It is built to symbolize late: Prepare opens a mapped file while its
// process still runs and keeps the handle, so the file still resolves after
// the process exited, after it was deleted or replaced, and from inside a
// container (files are read through /proc/PID/root). Parsing happens at the
// first lookup, once per binary (binaries are keyed by build-id, or by
// path, device and inode), and every answer is cached.
//
// It does not own the process model (which mapping an address fell in at a
// given time: package process), unwinding, or printing stacks.
//
// A Resolver is not safe for concurrent use: the session's dispatch (or
// export) goroutine owns it. Nothing in the package panics on a bad file;
// failures show up in Stats and, once per thing, through Options.Notice.
package symbols
