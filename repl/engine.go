package repl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/d5/tengo/v2"

	"otrace/bindings/host"
	"otrace/bindings/otracemod"
	"otrace/runtime/event"
	"otrace/runtime/session"
)

// errGone is the answer to a request after the session ended.
var errGone = errors.New("the session has ended")

// engine is the dispatch goroutine and what it owns. Fields below "owned
// by the dispatch goroutine" are read and written there only, inside tasks
// or the run.
type engine struct {
	sess   *session.Session
	src    session.Source
	mod    *otracemod.Module
	script *host.Interactive
	out    *bufio.Writer // the script's output
	stdout io.Writer     // shared with the prompt goroutine, locked
	stderr io.Writer

	// Owned by the dispatch goroutine.
	runWanted  bool
	startReply chan error    // answered once the run started or failed
	ended      chan struct{} // closed when the current run ends
	runs       int
	quit       bool

	done chan struct{} // closed when the dispatch goroutine ends
}

// lockedWriter serializes writes of the two goroutines.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newEngine(cfg Config) (*engine, error) {
	var mu sync.Mutex
	e := &engine{
		src:    cfg.Source,
		stdout: lockedWriter{&mu, cfg.Stdout},
		stderr: lockedWriter{&mu, cfg.Stderr},
		done:   make(chan struct{}),
	}
	e.out = bufio.NewWriterSize(e.stdout, 64<<10)
	e.sess = session.New(session.Config{
		Source:  cfg.Source,
		Wait:    true,
		Stderr:  e.stderr,
		Flush:   func() { e.out.Flush() },
		Started: e.started,
	})
	e.sess.AllowLiveChanges()
	e.mod = otracemod.New(otracemod.Config{Session: e.sess, Out: e.out, Args: cfg.Args,
		Symbols: cfg.Symbols, Arch: cfg.Arch})
	script, err := host.NewInteractive(host.Options{
		Globals:   map[string]tengo.Object{"otrace": e.mod.Object()},
		Modules:   e.mod.Modules(cfg.LibPath, cfg.AllowOS),
		MaxAllocs: cfg.MaxAllocs,
		Timeout:   cfg.HandlerTimeout,
	})
	if err != nil {
		return nil, err
	}
	e.script = script
	e.mod.Bind(script.Script)
	return e, nil
}

// loop is the dispatch goroutine: it runs tasks while tracing is stopped,
// and the session while it runs. When it quits it closes the source on
// this goroutine, whose thread the perf collector locked.
func (e *engine) loop() {
	defer close(e.done)
	defer func() {
		e.out.Flush()
		e.script.Close()
		if err := e.src.Close(); err != nil {
			fmt.Fprintf(e.stderr, "otrace: %v\n", err)
		}
	}()
	for !e.quit {
		<-e.sess.TasksReady()
		e.sess.RunTasks()
		for e.runWanted && !e.quit {
			e.runWanted = false
			e.run()
		}
	}
}

// do runs fn on the dispatch goroutine and waits for it. A panic in fn is
// returned as an error, and the script's output is flushed after it.
func (e *engine) do(fn func()) error {
	ran := make(chan any, 1)
	e.sess.Post(func() {
		defer func() {
			r := recover()
			if r != nil {
				buf := make([]byte, 4096)
				r = fmt.Sprintf("%v\n%s", r, buf[:runtime.Stack(buf, false)])
			}
			e.out.Flush()
			ran <- r
		}()
		fn()
	})
	select {
	case r := <-ran:
		return panicked(r)
	case <-e.done:
		select {
		case r := <-ran:
			return panicked(r)
		default:
			return errGone
		}
	}
}

func panicked(r any) error {
	if r == nil {
		return nil
	}
	return fmt.Errorf("internal error (please report it): %v", r)
}

// run is one run of the session, on the dispatch goroutine.
func (e *engine) run() {
	if e.sess.Stopped() {
		// otrace.exit() typed while tracing was stopped: nothing to stop.
		e.sess.Rearm()
	}
	if e.runs > 0 {
		e.sess.ResetStats()
	}
	e.runs++
	e.ended = make(chan struct{})
	err := e.sess.Run()
	e.out.Flush()
	if e.startReply != nil {
		// It ended before it started: Enable failed, or a begin handler
		// called otrace.exit().
		if err == nil {
			err = fmt.Errorf("tracing ended as it started (%s)", e.sess.Stats().Reason)
		}
		e.startReply <- err
		e.startReply = nil
	} else {
		e.sess.WriteSummary(e.stderr, false)
		if err != nil {
			fmt.Fprintf(e.stderr, "otrace: %v\n", err)
		}
	}
	close(e.ended)
	if !e.quit {
		if err := e.sess.Rearm(); err != nil {
			fmt.Fprintf(e.stderr, "otrace: tracing cannot start again: %v\n", err)
		}
	}
}

// started is the session's Started hook: events are enabled.
func (e *engine) started() {
	if e.startReply != nil {
		e.startReply <- nil
		e.startReply = nil
	}
}

// start starts tracing and waits until the events are enabled. It returns
// the channel closed when the run ends.
func (e *engine) start() (<-chan struct{}, error) {
	reply := make(chan error, 1)
	var ended <-chan struct{}
	err := e.do(func() {
		if e.sess.InRun() {
			reply <- errors.New("tracing is running already (:stop ends it)")
			return
		}
		e.startReply = reply
		e.runWanted = true
	})
	if err != nil {
		return nil, err
	}
	select {
	case err = <-reply:
	case <-e.done:
		return nil, errGone
	}
	if err != nil {
		return nil, err
	}
	if err := e.do(func() { ended = e.ended }); err != nil {
		return nil, err
	}
	return ended, nil
}

// stop ends the run, delivering what the source holds first, and waits
// until end handlers ran and the summary was printed. reason says why.
func (e *engine) stop(reason string) error {
	var ended chan struct{}
	err := e.do(func() {
		if !e.sess.InRun() {
			return
		}
		if d, ok := e.src.(session.Drainer); ok {
			d.Drain(e.sess)
		}
		e.sess.Stop(reason)
		ended = e.ended
	})
	if err != nil {
		return err
	}
	if ended == nil {
		return errNotRunning
	}
	select {
	case <-ended:
	case <-e.done:
	}
	return nil
}

var errNotRunning = errors.New("tracing is not running (:start starts it)")

// shutdown stops tracing for reason, ends the dispatch goroutine
// (closing the source) and waits for it. Calls after the first wait only.
func (e *engine) shutdown(reason string) {
	e.do(func() {
		if e.sess.InRun() {
			if d, ok := e.src.(session.Drainer); ok {
				d.Drain(e.sess)
			}
			e.sess.Stop(reason)
		}
		e.quit = true
	})
	<-e.done
}

// detachFrom detaches the handlers attached since the first n, for an
// input that failed, and returns their labels.
func (e *engine) detachFrom(n int) []string {
	var out []string
	all := e.sess.Attachments()
	for _, a := range all[min(n, len(all)):] {
		if e.sess.Detached(a) {
			continue
		}
		if err := e.sess.Detach(a); err == nil {
			out = append(out, label(a))
		}
	}
	return out
}

// label names a handler: "#3 sched:sched_switch (in[2]:1:40)".
func label(a *event.Attachment) string {
	l := fmt.Sprintf("#%d %s", a.ID, a.Probe)
	if a.Where != "" {
		l += " (" + a.Where + ")"
	}
	return l
}
