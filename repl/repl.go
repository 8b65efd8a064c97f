package repl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"otrace/bindings/host"
	"otrace/runtime/event"
	"otrace/runtime/session"
	"otrace/runtime/stacks"
)

// Config is what the REPL needs from the command line.
type Config struct {
	// Source delivers the events: the live collector, or a recording
	// (Recording names it). The REPL closes it.
	Source    session.Source
	Recording string
	// Script, when set, is loaded first, as :load would; Args are its
	// otrace.args.
	Script string
	Args   []string
	// LibPath and AllowOS resolve import() as for otrace run.
	LibPath []string
	AllowOS bool
	// MaxAllocs and HandlerTimeout bound each handler call (0: defaults).
	MaxAllocs      int64
	HandlerTimeout time.Duration
	// Symbols names stack frames; Arch is the traced machine's.
	Symbols stacks.Resolver
	Arch    string

	// Terminal makes the REPL edit lines with liner on the process's
	// terminal (os.Stdin, os.Stdout); otherwise it reads Stdin plainly.
	Terminal bool
	// History is the history file of a terminal session ("" for none).
	History string
	Stdin   io.Reader
	// Stdout and Stderr receive everything; both goroutines write to them
	// through one lock.
	Stdout, Stderr io.Writer
}

// REPL is one interactive session.
type REPL struct {
	cfg     Config
	eng     *engine
	in      lineReader
	out     io.Writer  // locked
	errw    io.Writer  // locked
	pending []string   // lines of an incomplete input
	open    error      // why the pending input is incomplete
	inputs  int        // complete inputs so far, for in[N]
	saved   []accepted // the accepted input, for :save
	names   []string   // the source's probe names, once asked for
	quit    bool
	// waiting is set while :start waits for a recording to play, so that
	// Ctrl-C stops the run.
	waiting   atomic.Bool
	closeOnce sync.Once
}

// New prepares a REPL and starts its dispatch goroutine; Loop runs it.
func New(cfg Config) (*REPL, error) {
	if cfg.Stdin == nil {
		cfg.Stdin = os.Stdin
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.Source == nil {
		cfg.Source = session.NewIdleSource()
	}
	eng, err := newEngine(cfg)
	if err != nil {
		cfg.Source.Close()
		return nil, err
	}
	r := &REPL{cfg: cfg, eng: eng, out: eng.stdout, errw: eng.stderr}
	if cfg.Terminal {
		r.in = newTerminal(cfg.History, r.complete)
	} else {
		r.in = newPlain(cfg.Stdin)
	}
	go eng.loop()
	return r, nil
}

// Loop reads and runs inputs until the end of input or :quit, then stops
// tracing and closes everything. Ctrl-C (SIGINT) interrupts what runs.
func (r *REPL) Loop() error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt)
	stopSigs := make(chan struct{})
	go func() {
		for {
			select {
			case <-sigs:
				r.Interrupt()
			case <-stopSigs:
				return
			}
		}
	}()
	defer func() {
		signal.Stop(sigs)
		close(stopSigs)
	}()

	r.banner()
	if r.cfg.Script != "" {
		r.load(r.cfg.Script)
	}
	var err error
	for !r.quit {
		prompt := "otrace> "
		if len(r.pending) > 0 {
			prompt = "   ...> "
		}
		var line string
		line, err = r.in.Prompt(prompt)
		if errors.Is(err, errAborted) {
			r.pending = nil
			err = nil
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
				if r.cfg.Terminal {
					fmt.Fprintln(r.out)
				}
				if len(r.pending) > 0 {
					fmt.Fprintf(r.errw, "%s\n(the input ended inside it)\n", describe(r.open))
				}
			}
			break
		}
		if strings.TrimSpace(line) != "" {
			r.in.Remember(line)
		}
		r.handle(line)
	}
	r.eng.shutdown("the REPL quit")
	r.closeInput()
	return err
}

// closeInput restores the terminal and saves the history, once.
func (r *REPL) closeInput() {
	r.closeOnce.Do(func() {
		if err := r.in.Close(); err != nil {
			fmt.Fprintf(r.errw, "otrace: saving the history: %v\n", err)
		}
	})
}

// Terminate ends the session from another goroutine, on SIGTERM or
// SIGHUP, as Ctrl-D would: tracing stops for reason (end handlers run,
// outputs are flushed, uprobes are removed), the terminal is restored and
// the history saved. The prompt may still be waiting for input: the
// caller exits the process next.
func (r *REPL) Terminate(reason string) {
	r.eng.script.Interrupt()
	r.eng.shutdown(reason)
	r.closeInput()
}

// Interrupt is Ctrl-C while an input runs: it aborts the call running
// now, and stops a recording that :start is playing. Safe from any
// goroutine.
func (r *REPL) Interrupt() {
	r.eng.script.Interrupt()
	if r.waiting.Load() {
		go r.eng.stop("interrupted (Ctrl-C)")
	}
}

func (r *REPL) banner() {
	what := "live tracing of this machine"
	if r.cfg.Recording != "" {
		what = "exploring the recording " + r.cfg.Recording
	}
	fmt.Fprintf(r.out, "otrace repl: %s. :help for help, :start to trace, Ctrl-D to quit.\n", what)
}

// handle runs one line: a command, or a line of Tengo input.
func (r *REPL) handle(line string) {
	trimmed := strings.TrimSpace(line)
	if len(r.pending) == 0 {
		if trimmed == "" {
			return
		}
		if strings.HasPrefix(trimmed, ":") {
			r.command(trimmed)
			return
		}
	}
	r.pending = append(r.pending, line)
	r.eval(strings.Join(r.pending, "\n"))
}

// outcome is what one input did, rendered on the dispatch goroutine.
type outcome struct {
	res      host.Result
	err      error
	values   []string
	attached []*event.Attachment
	detached []string
}

// accepted is one input of the accepted input.
type accepted struct {
	src string
	// attached are the handlers it attached; an input that only attached
	// handlers, all detached since, is saved commented out.
	attached []*event.Attachment
	defined  bool
}

// evaluate compiles and runs src, named name, on the dispatch goroutine.
// Handlers an input attached before it failed at run time are detached.
func (r *REPL) evaluate(name, src string) (outcome, error) {
	var o outcome
	err := r.eng.do(func() {
		before := len(r.eng.sess.Attachments())
		o.res, o.err = r.eng.script.Eval(name, []byte(src))
		if _, ok := event.AsHandlerError(o.err); ok {
			o.detached = r.eng.detachFrom(before)
		} else if all := r.eng.sess.Attachments(); len(all) > before {
			o.attached = all[before:]
		}
		for _, v := range o.res.Values {
			o.values = append(o.values, v.String())
		}
	})
	return o, err
}

// eval runs the pending input, or keeps it when it is incomplete.
func (r *REPL) eval(src string) {
	name := fmt.Sprintf("in[%d]", r.inputs+1)
	o, err := r.evaluate(name, src)
	if err != nil {
		r.pending = nil
		fmt.Fprintf(r.errw, "otrace: %v\n", err)
		return
	}
	var ie *host.IncompleteError
	if errors.As(o.err, &ie) {
		r.open = ie
		return
	}
	r.pending = nil
	r.inputs++
	r.report(o)
	if o.err == nil && !o.res.Inspection {
		r.saved = append(r.saved, accepted{src: src, attached: o.attached, defined: len(o.res.Defined) > 0})
	}
}

// report prints an input's values, then its error.
func (r *REPL) report(o outcome) {
	var b strings.Builder
	for _, v := range o.values {
		b.WriteString(v)
		b.WriteByte('\n')
	}
	io.WriteString(r.out, b.String())
	if o.err != nil {
		fmt.Fprintln(r.errw, describe(o.err))
	}
	if len(o.detached) > 0 {
		fmt.Fprintf(r.errw, "otrace: the input failed, so the handlers it attached were detached: %s\n", strings.Join(o.detached, ", "))
	}
}

// describe renders an input's error with its position, and the source
// line and a caret for a compile error.
func describe(err error) string {
	var ie *host.IncompleteError
	if errors.As(err, &ie) {
		return "error: " + ie.Err.Detail()
	}
	var ce *host.CompileError
	if errors.As(err, &ce) {
		return "error: " + ce.Detail()
	}
	if he, ok := event.AsHandlerError(err); ok {
		s := "error: " + he.Error()
		for _, at := range he.Trace {
			s += "\n    called from " + at
		}
		return s
	}
	return "error: " + err.Error()
}

// load runs a script file as one input, as :load does.
func (r *REPL) load(path string) {
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(r.errw, "otrace: cannot read the script: %v\n", err)
		return
	}
	o, err := r.evaluate(path, string(src))
	if err != nil {
		fmt.Fprintf(r.errw, "otrace: %v\n", err)
		return
	}
	r.report(o)
	if o.err != nil {
		fmt.Fprintf(r.errw, "otrace: %s was not loaded\n", path)
		return
	}
	text := strings.TrimRight(string(src), "\n")
	r.saved = append(r.saved, accepted{src: "// :load " + path + "\n" + text, attached: o.attached, defined: true})
	fmt.Fprintf(r.out, "loaded %s\n", path)
}
