package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/d5/tengo/v2"

	"otrace/bindings/host"
	"otrace/bindings/otracemod"
	"otrace/collectors/perfdata"
	"otrace/collectors/replay"
	"otrace/runtime/session"
	"otrace/runtime/symbols"
	toolbox "otrace/scripts"
)

const runUsage = `Usage:
  otrace run [flags] SCRIPT [ARGS...] [-- COMMAND ARGS...]
  otrace run [flags] -e 'CODE' [-- COMMAND ARGS...]

Runs a Tengo script. Its top level attaches handlers; then events are
delivered to them in time order until the input ends, the duration passes,
the command exits, the script calls otrace.exit(), or you press Ctrl-C.
End handlers run however the run ends. Flags come before SCRIPT; what
follows SCRIPT is the script's otrace.args.

Flags:
%s
Probes (otrace.on(PROBE, func(e) {...})):
  SYSTEM:EVENT, tracepoint:SYSTEM:EVENT   a kernel tracepoint; globs work:
                                          "syscalls:sys_enter_*"
  profile:hz:N                            CPU sampling at N Hz
  software:NAME[:PERIOD]                  cpu-clock, task-clock, page-faults,
                                          context-switches, cpu-migrations, ...
  uprobe:PATH:SYMBOL, uretprobe:PATH:SYMBOL   user function entry / return
  An array of probes attaches one handler to all of them.
  otrace.on(PROBE, {filter: "prev_state == 1", stack: "user"}, fn)
  filters in the kernel (and identically on recordings) and collects the
  kernel, user or both stacks (profile collects both). stack: "dwarf"
  copies each sample's user stack (stack_size: bytes, default 16384) and
  unwinds it with the binaries' DWARF CFI: whole stacks of code built
  without frame pointers.

The event a handler gets (valid only during the call; keep e.copy()):
  e.name e.time e.cpu e.pid e.tid e.comm    every event has these
  e.FIELD                                   payload fields by name
  e.fields                                  the payload field names
  e.has(NAME), e.field(NAME)                test for / read any payload field
  e.stack, e.kstack, e.ustack               the callchain: prints as symbolized
                                            frames, a cheap map key, iterates
                                            as {addr, function, name, offset,
                                            module, file, line, inlined}
  e.exe                                     the process's executable
  e.copy()                                  a map that outlives the handler

The otrace module:
  otrace.on(probe, [opts,] fn)   otrace.begin(fn)   otrace.end(fn)
  otrace.every("1s", fn)         otrace.exit([st])  otrace.printf(fmt, ...)
  otrace.sort(array, [desc])     otrace.counter(probe, [opts])  otrace.stats()
  otrace.count/sum/min/max/avg/hist([NAME]), otrace.lhist([NAME,] min, max, step),
  otrace.stats(NAME): aggregations printed at the end like bpftrace's maps;
  c.inc(key) and a.add(key, value) from a handler, or with no handler at
  all, in Go: otrace.on(probe, [opts,] c.by("pid")), a.by(["comm", "pid"], "ret")
  otrace.sym(addr, [pid])        otrace.ksym(addr)  otrace.intern(s)  otrace.str(id)
  otrace.args                    otrace.output (the -o file)
  import("fmt"), "text", "math", "times", "json", "enum" (and "os" with
  --allow-os) are Tengo's standard modules.

Handler errors are counted and the first of each kind is printed with its
position; the run goes on (see --max-errors). A handler that runs longer
than --handler-timeout or allocates more than --max-allocs objects is
stopped and counted as an error.

Environment: OTRACE_PATH adds script library directories (colon-
separated); OTRACE_CACHE_DIR is where compressed DWARF of debug files is
kept inflated, by build-id, and the kernel image's symbols, by boot
(default ~/.cache/otrace; "off" for none).

Examples:
  otrace run --input sched.rec scripts/cswitch.tengo
  otrace run -e 'otrace.every("1s", func() { otrace.printf("tick\n") })' -d 3s
  otrace run -e 'otrace.begin(func() { otrace.printf("hi\n"); otrace.exit() })'
`

type runOptions struct {
	code           string
	duration       time.Duration
	pids           []int32
	command        string
	output         string
	input          string
	libPath        []string
	allowOS        bool
	maxErrors      uint64
	handlerTimeout time.Duration
	maxAllocs      int64
	verbose        bool
	quiet          bool
	help           bool
	bufferSize     int
	cpus           []int
	failOnLoss     bool
	symfs          string

	script     string   // path, or "" with -e
	scriptArgs []string // after SCRIPT
	argv       []string // after "--"
}

func runFlags(o *runOptions) *flags {
	f := newFlags("run")
	f.String(&o.code, "e", "", "CODE", "run CODE instead of a script file")
	f.Func("d", "duration", "DUR", "stop after DUR (e.g. 10s, 500ms) of trace time", func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return fmt.Errorf("bad duration %q: want e.g. 10s or 500ms", s)
		}
		o.duration = d
		return nil
	})
	f.Func("p", "pid", "PID[,PID]", "only events of these processes", func(s string) error {
		for _, p := range strings.Split(s, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
			if err != nil || n <= 0 {
				return fmt.Errorf("bad pid %q", p)
			}
			o.pids = append(o.pids, int32(n))
		}
		return nil
	})
	f.String(&o.command, "c", "command", "CMD", "run CMD (with sh -c) and stop when it exits")
	f.String(&o.output, "o", "output", "FILE", "write the script's output to FILE (otrace.output)")
	f.String(&o.input, "", "input", "FILE", "read events from an otrace recording instead of the kernel")
	f.Func("I", "lib-path", "DIR", "look for imported NAME.tengo libraries in DIR (repeatable)", func(s string) error {
		o.libPath = append(o.libPath, s)
		return nil
	})
	f.Bool(&o.allowOS, "", "allow-os", "let scripts import Tengo's os module (files, commands)")
	f.Func("", "max-errors", "N", "stop the run after N handler errors (default: never)", func(s string) error {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n == 0 {
			return fmt.Errorf("bad --max-errors %q: want a positive number", s)
		}
		o.maxErrors = n
		return nil
	})
	f.Func("", "handler-timeout", "DUR", "stop a handler call that runs longer (default 1s)", func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil || d < 10*time.Millisecond {
			return fmt.Errorf("bad --handler-timeout %q: want a duration of at least 10ms", s)
		}
		o.handlerTimeout = d
		return nil
	})
	f.Func("", "max-allocs", "N", "stop a handler call that allocates more objects (default 1048576)", func(s string) error {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("bad --max-allocs %q: want a positive number", s)
		}
		o.maxAllocs = n
		return nil
	})
	f.Func("", "buffer-size", "SIZE", "ring buffer per CPU, e.g. 512K, 4M (default 4M)", func(s string) error {
		n, err := parseSize(s)
		if err != nil || n < 4096 || n > 1<<30 {
			return fmt.Errorf("bad --buffer-size %q: want a size from 4K to 1G, e.g. 512K or 8M", s)
		}
		o.bufferSize = n
		return nil
	})
	f.Func("", "cpu", "LIST", "trace only these CPUs, e.g. 0-3,8", func(s string) error {
		cpus, err := parseCPUs(s)
		o.cpus = cpus
		return err
	})
	f.Bool(&o.failOnLoss, "", "fail-on-loss", "exit with status 1 if any event was lost")
	f.String(&o.symfs, "", "symfs", "DIR", "look for binaries and debug files under DIR first (a recording from another machine)")
	f.Bool(&o.verbose, "v", "verbose", "print per-event counts and handler times at the end")
	f.Bool(&o.quiet, "q", "quiet", "do not print the end-of-run summary")
	f.Bool(&o.help, "h", "help", "show this help")
	return f
}

// parseRun splits "-- COMMAND" off, parses the flags and finds the script.
func parseRun(args []string) (*runOptions, *flags, error) {
	o := &runOptions{}
	f := runFlags(o)
	for i, a := range args {
		if a == "--" {
			args, o.argv = args[:i], args[i+1:]
			break
		}
	}
	if err := f.Parse(args); err != nil {
		return o, f, err
	}
	if o.help {
		return o, f, nil
	}
	rest := f.Args()
	if o.code == "" {
		if len(rest) == 0 {
			return o, f, errors.New("no script: give SCRIPT or -e 'CODE'")
		}
		o.script, rest = rest[0], rest[1:]
	}
	o.scriptArgs = rest
	if o.command != "" && len(o.argv) > 0 {
		return o, f, errors.New("give the command either with -c or after --, not both")
	}
	if o.input != "" && (o.command != "" || len(o.argv) > 0) {
		return o, f, errors.New("-c/-- runs a command to trace live; it cannot be combined with --input")
	}
	if o.input != "" && (o.cpus != nil || o.bufferSize != 0) {
		return o, f, errors.New("--cpu and --buffer-size apply to live tracing, not to --input")
	}
	if o.command != "" {
		o.argv = []string{"/bin/sh", "-c", o.command}
	}
	return o, f, nil
}

func runCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, f, err := parseRun(args)
	if o.help {
		var b strings.Builder
		f.Usage(&b)
		fmt.Fprintf(stdout, runUsage, b.String())
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "otrace run: %v\nRun 'otrace help run' for usage.\n", err)
		return exitUsage
	}
	warnFlagsAfterScript(o, stderr)
	name, src, err := loadScript(o, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "otrace: %v\n", err)
		return exitUsage
	}

	var source session.Source
	symOpts := symbols.Options{Notice: func(s string) { fmt.Fprintln(stderr, s) }, Symfs: o.symfs, CacheDir: symbols.DefaultCacheDir()}
	arch := runtime.GOARCH
	if o.input != "" {
		r, err := openInput(o.input, stdin, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "otrace: %v\n", err)
			return exitUsage
		}
		source = r
		if a := r.Meta()[replay.MetaArch]; a != "" {
			arch = a
		}
		if !sameKernel(r.Meta()) {
			// This machine's kernel symbols would misname a recording
			// made on another kernel.
			symOpts.Kallsyms = os.DevNull
		}
	} else {
		source = liveSource(o, stderr)
	}
	defer source.Close()

	out, closeOut, err := openOutput(o.output, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "otrace: %v\n", err)
		return exitUsage
	}
	buf := bufio.NewWriterSize(out, 64<<10)
	sess := session.New(session.Config{
		Source:    source,
		Duration:  o.duration,
		MaxErrors: o.maxErrors,
		PIDs:      o.pids,
		// -c and -- trace the command and what it starts.
		FollowChildren: len(o.argv) > 0,
		Wait:           o.duration > 0 || len(o.argv) > 0 || len(o.pids) > 0,
		Stderr:         stderr,
		Flush:          func() { buf.Flush() },
	})
	mod := otracemod.New(otracemod.Config{Session: sess, Out: buf, Args: o.scriptArgs, Output: o.output,
		Symbols: symbols.New(symOpts), Arch: arch})
	mods := mod.Modules(libraryPath(o.libPath), o.allowOS)
	script, err := host.Compile(host.Options{
		File:      name,
		Src:       src,
		Globals:   map[string]tengo.Object{"otrace": mod.Object()},
		Modules:   mods,
		MaxAllocs: o.maxAllocs,
		Timeout:   o.handlerTimeout,
	})
	if err != nil {
		printCompileError(stderr, err)
		return exitUsage
	}
	defer script.Close()
	if o.verbose {
		for _, imp := range slices.Sorted(maps.Keys(mods.Found)) {
			fmt.Fprintf(stderr, "otrace: import %q from %s\n", imp, mods.Found[imp])
		}
	}
	mod.Bind(script)
	if err := script.RunMain(); err != nil {
		buf.Flush()
		fmt.Fprintf(stderr, "otrace: %v\notrace: nothing was traced\n", err)
		return exitUsage
	}

	stopSignals := handleSignals(sess, script.Interrupt, stderr)
	defer stopSignals()
	target, err := startTarget(o, sess, source, stdin, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "otrace: %v\n", err)
		return exitFailure
	}
	runErr := sess.Run()
	runErr = errors.Join(runErr, target.finish())
	// A write that failed (a full disk) fails the run; bufio keeps the
	// first error, so a printf that failed earlier is caught here too.
	writeErr := errors.Join(buf.Flush(), closeOut())
	if writeErr != nil {
		fmt.Fprintf(stderr, "otrace: %v\n", writeErr) // before the summary, which may be long
	}
	if !o.quiet {
		sess.WriteSummary(stderr, o.verbose)
	}
	if lost := sess.Stats().Lost; o.failOnLoss && lost > 0 {
		runErr = errors.Join(runErr, fmt.Errorf("%s events were lost (--fail-on-loss); a larger --buffer-size or fewer events may help", session.Commas(lost)))
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "otrace: %v\n", runErr)
		return exitFailure
	}
	if writeErr != nil {
		return exitFailure
	}
	return mod.ExitStatus()
}

// recording is a Source read from a file, with what it says about the
// machine it was made on.
type recording interface {
	session.Source
	Meta() map[string]string
}

// openInput opens --input: an otrace recording or a perf.data file (file
// or pipe mode), told apart by their first bytes; "-" reads stdin.
func openInput(path string, stdin io.Reader, stderr io.Writer) (recording, error) {
	notice := perfdata.Options{Notice: func(s string) { fmt.Fprintln(stderr, "otrace: "+s) }}
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		head := make([]byte, 8)
		n, _ := io.ReadFull(f, head)
		f.Close()
		if perfdata.IsPerfData(head[:n]) {
			return notice.Open(path)
		}
		return replay.Open(path)
	}
	br := bufio.NewReaderSize(stdin, 64<<10)
	head, _ := br.Peek(8)
	if perfdata.IsPerfData(head) {
		return notice.NewReader(br)
	}
	return replay.NewReader(br)
}

// libraryPath is where import() looks for NAME.tengo, in order: -I
// directories, then OTRACE_PATH (colon-separated), then
// $XDG_CONFIG_HOME/otrace/lib (~/.config/otrace/lib).
func libraryPath(flags []string) []string {
	dirs := append([]string{}, flags...)
	for _, d := range filepath.SplitList(os.Getenv("OTRACE_PATH")) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	if cfg, err := os.UserConfigDir(); err == nil {
		dirs = append(dirs, filepath.Join(cfg, "otrace", "lib"))
	}
	return dirs
}

// sameKernel reports whether a recording was made on this machine's
// running kernel, so that its kernel addresses can be named here.
func sameKernel(meta map[string]string) bool {
	host, _ := os.Hostname()
	rel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return meta[replay.MetaHostname] == host && meta[replay.MetaKernelRelease] == strings.TrimSpace(string(rel))
}

// warnFlagsAfterScript says so when a script argument looks like one of
// otrace's run-shaping flags — "otrace run s.tengo -d 1s" passes -d 1s to
// the script, which a user rarely means. Flags scripts commonly take for
// themselves (-h, -p, -e ...) are left alone.
func warnFlagsAfterScript(o *runOptions, stderr io.Writer) {
	for i, a := range o.scriptArgs {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		next := ""
		if i+1 < len(o.scriptArgs) {
			next = o.scriptArgs[i+1]
		}
		misplaced := false
		switch {
		case !strings.HasPrefix(a, "-"):
		case name == "d" || name == "duration":
			_, err := time.ParseDuration(next)
			misplaced = err == nil || strings.Contains(a, "=")
		case name == "input" || name == "output" || name == "buffer-size" || name == "cpu" || name == "symfs":
			misplaced = true
		}
		if misplaced {
			fmt.Fprintf(stderr, "otrace: note: %s comes after the script, so it is the script's argument (otrace.args), not otrace's flag; put otrace's flags before the script\n", a)
			return
		}
	}
}

func loadScript(o *runOptions, stdin io.Reader) (string, []byte, error) {
	if o.code != "" {
		return "-e", []byte(o.code), nil
	}
	if o.script == "-" {
		src, err := io.ReadAll(stdin)
		return "stdin", src, err
	}
	src, err := os.ReadFile(o.script)
	if err != nil {
		// A bare name runs the toolbox script of that name.
		if errors.Is(err, os.ErrNotExist) {
			if tool, ok := toolbox.Source(o.script); ok {
				return o.script + ".tengo", tool, nil
			}
			return "", nil, fmt.Errorf("cannot read the script: %w (toolbox scripts: %s)", err, strings.Join(toolbox.Names(), ", "))
		}
		return "", nil, fmt.Errorf("cannot read the script: %w", err)
	}
	return o.script, src, nil
}

func openOutput(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "" || path == "-" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot create the output file: %w", err)
	}
	return f, f.Close, nil
}

func printCompileError(w io.Writer, err error) {
	var ce *host.CompileError
	if errors.As(err, &ce) {
		fmt.Fprintf(w, "%s\notrace: the script did not compile; nothing was traced\n", ce.Detail())
		return
	}
	fmt.Fprintf(w, "otrace: %v\n", err)
}

// handleSignals ends the run cleanly on the first SIGINT, SIGTERM or SIGHUP (end
// handlers run, output is written); a second one also stops the handler
// running now; a third exits at once.
func handleSignals(sess *session.Session, interrupt func(), stderr io.Writer) func() {
	ch := make(chan os.Signal, 3)
	// SIGHUP too: a closed terminal or ssh session must not leave
	// uprobes behind or lose the outputs.
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case <-done:
				return
			case sig := <-ch:
				n++
				switch n {
				case 1:
					sess.StopAsync("interrupted by " + signalName(sig))
				case 2:
					fmt.Fprintln(stderr, "otrace: stopping the running handler; once more to quit at once")
					interrupt()
				default:
					fmt.Fprintln(stderr, "otrace: quit without running end handlers")
					os.Exit(exitFailure)
				}
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

func signalName(sig os.Signal) string {
	if sig == syscall.SIGINT {
		return "SIGINT"
	}
	if sig == syscall.SIGTERM {
		return "SIGTERM"
	}
	if sig == syscall.SIGHUP {
		return "SIGHUP"
	}
	return sig.String()
}

// follower is a source that can limit its events to one task and what it
// starts, in the kernel (the perf collector).
type follower interface{ Follow(pid int) }

// target is what -c/-- and -p point otrace at: a command started held
// and released once events are enabled, or processes whose exit ends the
// run.
type target struct {
	held   *heldCommand
	status chan int
}

// startTarget starts the command held (its pid filters the events) and
// arranges for the run to stop when it exits; with -p, when the processes
// exit.
func startTarget(o *runOptions, sess *session.Session, src session.Source, stdin io.Reader, stdout, stderr io.Writer) (*target, error) {
	t := &target{}
	if len(o.pids) > 0 && o.input == "" {
		if err := watchPIDs(o.pids, sess); err != nil {
			return nil, err
		}
	}
	if len(o.argv) == 0 {
		return t, nil
	}
	held, err := startHeld(o.argv, stdin, stdout, stderr)
	if err != nil {
		return nil, err
	}
	t.held, t.status = held, make(chan int, 1)
	sess.FilterPID(int32(held.cmd.Process.Pid))
	if f, ok := src.(follower); ok {
		f.Follow(held.cmd.Process.Pid)
	}
	sess.SetStarted(held.release)
	go func() {
		err := held.cmd.Wait()
		status := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			status = ee.ExitCode()
		}
		t.status <- status
		sess.StopAsync(fmt.Sprintf("command exited with status %d", status))
	}()
	return t, nil
}

// finish ends a command the run did not wait for, and reports a command
// that could not be started.
func (t *target) finish() error {
	if t.held == nil {
		return nil
	}
	t.held.abandon()
	select {
	case st := <-t.status:
		if st == 126 || st == 127 {
			return fmt.Errorf("the command could not be run (status %d)", st)
		}
		return nil
	default:
	}
	t.held.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-t.status:
	case <-time.After(2 * time.Second):
		t.held.cmd.Process.Kill()
		<-t.status
	}
	return nil
}

func checkCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, "Usage: otrace check SCRIPT\n\nCompiles SCRIPT without running it and reports the first error as FILE:LINE:COL.\n")
		if len(args) == 1 {
			return exitOK
		}
		return exitUsage
	}
	src, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "otrace: cannot read the script: %v\n", err)
		return exitUsage
	}
	sess := session.New(session.Config{})
	mod := otracemod.New(otracemod.Config{Session: sess, Out: io.Discard})
	script, err := host.Compile(host.Options{
		File: args[0], Src: src,
		Globals: map[string]tengo.Object{"otrace": mod.Object()},
		Modules: mod.Modules(nil, true),
	})
	if err != nil {
		printCompileError(stderr, err)
		return exitUsage
	}
	script.Close()
	fmt.Fprintf(stdout, "%s: ok\n", args[0])
	return exitOK
}
