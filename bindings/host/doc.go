// Package host compiles and runs Tengo scripts for otrace: it compiles
// with tengo.Compiler directly (keeping the constants and globals that
// closures need), resolves imports from Tengo's standard modules and a
// library path, runs the top level once, and calls script closures from
// Go through trampoline VMs (see ../../../shared/notes/tengo.md): one
// long-lived VM per call depth, a recover around every call, a fresh VM
// after any error, a per-call allocation budget and a watchdog that aborts
// a call running too long. Interactive compiles a REPL's inputs one at a
// time into one script, keeping state across them.
//
// It knows nothing of events or of the otrace module; callers provide the
// globals a script sees.
package host
