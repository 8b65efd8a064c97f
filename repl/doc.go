// Package repl is otrace's interactive session (`otrace repl`): a Tengo
// prompt on peterh/liner whose lines attach handlers to a live tracing
// session, or to a recording, while it runs.
//
// # Two goroutines
//
// The dispatch goroutine owns everything a script touches: the session,
// its source, the otrace module, the compiled script with its globals and
// VMs. It waits for tasks while tracing is stopped and runs the session's
// dispatch loop while it runs; the loop runs posted tasks between batches
// of records (session.Post), waking a source blocked in epoll. The prompt
// goroutine reads lines and runs each one as a task and waits for it: an
// input is compiled and run, and its values rendered, on the dispatch
// goroutine, between two handler calls, so handlers and REPL lines never
// race. Completion asks the dispatch goroutine the same way. Output of the
// script (otrace.printf, aggregations) is buffered by the dispatch
// goroutine and flushed after each task and every 100 ms of tracing; the
// two goroutines write to the terminal through one lock.
//
// # Inputs
//
// Inputs compile incrementally (host.Interactive): one symbol table,
// globals slice and append-only constant pool for the whole session, so
// variables, functions and imported modules persist; the trampoline VMs
// that call handlers are rebuilt when the pool grows. Each complete input
// is named in[N] in positions ("in[3]:1:36"). The values of top-level
// expression statements are printed (undefined is not). A line whose
// parse error is at the end of the input (an open bracket, block, raw
// string or comment) is kept and continued with a "...>" prompt; Ctrl-C
// drops it. `x := ...` twice is Tengo's "redeclared" error, as it would be
// in a script: assign with `x = ...`.
//
// A failed input leaves earlier state intact: a compile error leaves no
// trace (the symbol table is rebuilt, the constants dropped); an input
// that fails at run time keeps its constants (functions it made may be
// running) but its names are forgotten, and the handlers it attached are
// detached, so the session holds only what succeeded. A Go panic (1/0),
// an endless loop (Ctrl-C) or an allocation bomb is an error, never a
// crash, and the next input runs on a fresh VM.
//
// The accepted input, what :save writes, is every input that ran without
// error, except inspections (inputs that only evaluate names, indexes and
// operators, such as "n" or "m[k]"), in order, with :load'ed files inline;
// `otrace run FILE` runs it as a script. Commands are not saved.
//
// # Tracing
//
// Nothing is traced until :start. Handlers attached before it are
// enabled together; otrace.on typed while tracing runs attaches at once
// (the perf collector opens the event on every CPU and redirects it into
// the existing rings; a recording enables it in its catalog), :detach N
// removes a handler and disables an event left without one. :pause
// disables the events, :resume enables them. :stop ends the run like the
// end of `otrace run`: end handlers run, aggregations print, the summary
// follows. :start after :stop runs again: the counts restart, the script's
// state (variables, maps, aggregations) does not (:clear NAME empties
// one), and a recording plays again from its start. With --input, :start
// plays the whole recording and returns when it ends (Ctrl-C stops it).
//
// otrace.counter and otrace.begin work while tracing is stopped only;
// otrace.every and otrace.end work at any time.
//
// # Terminal
//
// Ctrl-C at the prompt clears the line (and a pending multi-line input);
// while an input runs it interrupts it (the watchdog aborts its VM), and it
// never ends the session. Ctrl-D or :quit (and Terminate, which `otrace
// repl` calls on SIGTERM and SIGHUP) stops tracing (end handlers run,
// outputs are flushed), closes the source (uprobes are removed) and saves
// the history, kept in $XDG_STATE_HOME/otrace/history
// (~/.local/state/otrace/history). Tab completes commands, globals and
// builtins, members after "name." (map keys, module functions, the methods
// of counters and aggregations), probe names inside the first string of
// otrace.on, otrace.counter, :list and :fields (a glob such as
// "sched:*wake" offers the names it matches), and after "e." inside a
// handler's body, the fields of that handler's probe. When standard input
// is not a terminal, lines are read plainly without prompts or history,
// so a REPL session can be scripted.
package repl
