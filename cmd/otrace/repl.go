package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"otrace/collectors/replay"
	"otrace/repl"
	"otrace/runtime/symbols"
)

const replUsage = `Usage:
  otrace repl [flags] [SCRIPT [ARGS...]]

An interactive tracing session: type Tengo at the prompt, attach handlers
with otrace.on(...), :start tracing, and watch :maps, :handlers and :stats
while it runs; handlers typed while it runs attach at once. :save FILE
writes what you typed as a script for 'otrace run'. SCRIPT, when given, is
loaded first. :help lists the commands.

Flags:
%s
Example:
  otrace repl
  otrace> c := otrace.count("switches")
  otrace> otrace.on("sched:sched_switch", func(e) { c.inc(e.prev_comm) })
  otrace> :start
  otrace> :maps
  otrace> :save switches.tengo
`

// replOptions are the flags of otrace repl: a subset of otrace run's.
type replOptions struct {
	runOptions
}

func replFlags(o *replOptions) *flags {
	f := newFlags("repl")
	f.include(runFlags(&o.runOptions), "input", "lib-path", "allow-os", "handler-timeout", "max-allocs", "buffer-size", "cpu", "symfs", "help")
	return f
}

func replCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o replOptions
	f := replFlags(&o)
	err := f.Parse(args)
	if o.help {
		var b strings.Builder
		f.Usage(&b)
		fmt.Fprintf(stdout, replUsage, b.String())
		return exitOK
	}
	if err == nil && o.input != "" && (o.cpus != nil || o.bufferSize != 0) {
		err = fmt.Errorf("--cpu and --buffer-size apply to live tracing, not to --input")
	}
	if err != nil {
		fmt.Fprintf(stderr, "otrace repl: %v\nRun 'otrace help repl' for usage.\n", err)
		return exitUsage
	}
	cfg := repl.Config{
		LibPath:        libraryPath(o.libPath),
		AllowOS:        o.allowOS,
		MaxAllocs:      o.maxAllocs,
		HandlerTimeout: o.handlerTimeout,
		Arch:           runtime.GOARCH,
		Stdin:          stdin,
		Stdout:         stdout,
		Stderr:         stderr,
	}
	if rest := f.Args(); len(rest) > 0 {
		cfg.Script, cfg.Args = rest[0], rest[1:]
		if _, err := os.Stat(cfg.Script); err != nil {
			fmt.Fprintf(stderr, "otrace: cannot read the script: %v\n", err)
			return exitUsage
		}
	}
	symOpts := symbols.Options{Notice: func(s string) { fmt.Fprintln(stderr, s) }, Symfs: o.symfs, CacheDir: symbols.DefaultCacheDir()}
	if o.input != "" {
		r, err := openInput(o.input, stdin, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "otrace: %v\n", err)
			return exitUsage
		}
		cfg.Source, cfg.Recording = r, o.input
		if a := r.Meta()[replay.MetaArch]; a != "" {
			cfg.Arch = a
		}
		if !sameKernel(r.Meta()) {
			symOpts.Kallsyms = os.DevNull
		}
	} else {
		cfg.Source = liveSource(&o.runOptions, stderr)
	}
	cfg.Symbols = symbols.New(symOpts)
	// Line editing needs the process's own terminal on both sides.
	if stdin == os.Stdin && stdout == os.Stdout && repl.IsTerminal() {
		cfg.Terminal = true
		cfg.History = repl.HistoryPath()
	}
	r, err := repl.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "otrace: %v\n", err)
		return exitFailure
	}
	// SIGTERM and SIGHUP end the session as Ctrl-D does, then the
	// process, whose prompt may still wait for a key.
	sigs, done := make(chan os.Signal, 1), make(chan struct{})
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP)
	defer func() { signal.Stop(sigs); close(done) }()
	go func() {
		select {
		case sig := <-sigs:
			r.Terminate("terminated by " + signalName(sig))
			os.Exit(exitOK)
		case <-done:
		}
	}()
	if err := r.Loop(); err != nil {
		fmt.Fprintf(stderr, "otrace: %v\n", err)
		return exitFailure
	}
	return exitOK
}
