package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"otrace/collectors/perfdata"
	"otrace/collectors/replay"
	"otrace/runtime/event"
	"otrace/runtime/session"
	"otrace/runtime/stacks"
	"otrace/runtime/symbols"
)

const recordUsage = `Usage:
  otrace record -o FILE -e PROBE [-e PROBE]... [flags] [-- COMMAND ARGS...]

Records the given probes, with the process events that name threads and
map files, into an otrace recording. Any script then runs on it with
'otrace run --input FILE SCRIPT', exactly as it would live.

With --format perf (the default when FILE ends in .data) it writes a
perf.data file instead, which perf script and perf report read as well as
otrace run --input; give --format otrace to write otrace's own format to
a .data file.

--call-graph sets the stacks of every probe: fp (kernel and user parts,
user ones by frame pointers), kernel, user, none, or dwarf[,SIZE]: the
kernel copies SIZE bytes of user stack (default 16384) with each sample
and otrace unwinds it with the binaries' DWARF CFI while recording, so
the recording keeps a few hundred bytes of frames, not the copy, and its
stacks are whole where frame pointers are missing. Without it, each
probe takes its own (profile:* both, tracepoints none).

Flags:
%s
Examples:
  otrace record -o sched.rec -e sched:sched_switch -d 5s
  otrace record -o ls.rec -e 'syscalls:sys_enter_*' -- ls -l
  otrace record -o perf.data -e profile:hz:999 -- ./prog && perf report
  otrace record -o prof.data -e profile:hz:999 -g dwarf -p 1234 -d 30s
`

type recordOptions struct {
	runOptions
	probes []string
	format string // "otrace" or "perf"; "" picks by the file's name
	// stack is --call-graph: the stacks every probe collects (NoStack:
	// each probe's own), and stackSize the bytes a dwarf one copies.
	stack     event.StackMode
	stackSize uint32
}

// parseCallGraph reads --call-graph: fp, dwarf[,SIZE], kernel, user or
// none.
func parseCallGraph(s string, o *recordOptions) error {
	mode, size, hasSize := strings.Cut(s, ",")
	switch mode {
	case "fp":
		o.stack = event.BothStacks
	case "dwarf":
		o.stack = event.DwarfStack
	case "kernel", "user":
		o.stack, _ = event.ParseStackMode(mode)
	case "none":
		o.stack = event.NoStack
	default:
		return fmt.Errorf("--call-graph %q: want fp, dwarf[,SIZE], kernel, user or none", s)
	}
	if hasSize {
		n, err := strconv.Atoi(size)
		if mode != "dwarf" || err != nil || n < 8 || n > 65536 {
			return fmt.Errorf("--call-graph %q: a size goes with dwarf only, in bytes from 8 to 65536 (default %d)", s, event.DefaultStackSize)
		}
		o.stackSize = uint32(min((n+7)&^7, event.MaxStackSize))
	}
	return nil
}

func recordFlags(o *recordOptions) *flags {
	f := newFlags("record")
	f.String(&o.output, "o", "output", "FILE", "write the recording to FILE (required)")
	f.String(&o.format, "", "format", "FORMAT", "otrace, or perf for a perf.data (the default if FILE ends in .data)")
	f.Func("e", "event", "PROBE", "record PROBE (repeatable; globs allowed)", func(s string) error {
		o.probes = append(o.probes, s)
		return nil
	})
	f.Func("g", "call-graph", "MODE", "stacks of every probe: fp, dwarf[,SIZE], kernel, user or none", func(s string) error {
		return parseCallGraph(s, o)
	})
	f.include(runFlags(&o.runOptions), "duration", "pid", "command", "buffer-size", "cpu", "fail-on-loss", "quiet", "verbose")
	f.Bool(&o.help, "h", "help", "show this help")
	return f
}

func recordCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o := &recordOptions{}
	f := recordFlags(o)
	for i, a := range args {
		if a == "--" {
			args, o.argv = args[:i], args[i+1:]
			break
		}
	}
	err := f.Parse(args)
	if o.help {
		var b strings.Builder
		f.Usage(&b)
		fmt.Fprintf(stdout, recordUsage, b.String())
		return exitOK
	}
	switch {
	case err != nil:
	case len(f.Args()) > 0:
		err = fmt.Errorf("unexpected %q: give the command after --", f.Args()[0])
	case o.output == "":
		err = errors.New("give the recording's file with -o FILE")
	case len(o.probes) == 0:
		err = errors.New("give at least one probe to record with -e PROBE")
	case o.command != "" && len(o.argv) > 0:
		err = errors.New("give the command either with -c or after --, not both")
	case o.format != "" && o.format != "otrace" && o.format != "perf":
		err = fmt.Errorf("--format %q: want otrace or perf", o.format)
	}
	if err != nil {
		fmt.Fprintf(stderr, "otrace record: %v\nRun 'otrace record --help' for usage.\n", err)
		return exitUsage
	}
	if o.command != "" {
		o.argv = []string{"/bin/sh", "-c", o.command}
	}
	return record(o, stdin, stdout, stderr)
}

func record(o *recordOptions, stdin io.Reader, stdout, stderr io.Writer) int {
	// Write beside the destination and rename at the end, so an
	// interrupted record never leaves a half file under the final name.
	tmp, err := os.CreateTemp(filepath.Dir(o.output), "."+filepath.Base(o.output)+".*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the temporary name means nothing to the user
		}
		fmt.Fprintf(stderr, "otrace: cannot create the recording %s: %v\n", o.output, err)
		return exitUsage
	}
	defer os.Remove(tmp.Name())
	live := liveSource(&o.runOptions, stderr)
	tee, w, err := newRecorder(o, live, tmp)
	if err != nil {
		live.Close()
		tmp.Close()
		fmt.Fprintf(stderr, "otrace: %v\n", err)
		return exitFailure
	}
	defer tee.Close()
	sess := session.New(session.Config{
		Source:         tee,
		Duration:       o.duration,
		PIDs:           o.pids,
		FollowChildren: len(o.argv) > 0,
		Wait:           true,
		Stderr:         stderr,
	})
	// One handler over the union of the probes' events: overlapping probes
	// (-e 'sched:*' -e sched:sched_switch) must not record a sample twice.
	var events []*event.Event
	for _, p := range o.probes {
		evs, err := sess.ResolveWith(p, session.ProbeOptions{Stack: o.stack, StackSize: o.stackSize})
		if err != nil {
			tmp.Close()
			fmt.Fprintf(stderr, "otrace: %v\n", err)
			return exitUsage
		}
		for _, ev := range evs {
			if !slices.Contains(events, ev) {
				events = append(events, ev)
			}
		}
	}
	probes := strings.Join(o.probes, ",")
	handler := tee.Handler()
	if o.stack == event.DwarfStack {
		// Unwind as the samples come: a recording of frames is a few
		// hundred bytes a sample where the copies were 16 KiB, and it
		// replays anywhere, without the binaries' CFI.
		st := stacks.New(sess.Processes(), symbols.New(symbols.Options{Notice: func(s string) { fmt.Fprintln(stderr, s) }}))
		sess.OnMmap(st.Mmap)
		handler = &unwindingHandler{next: handler, stacks: st}
	}
	sess.Attach(events, &event.Attachment{Probe: probes, Where: "-e " + probes, Handler: handler})
	stop := handleSignals(sess, func() {}, stderr)
	defer stop()
	target, err := startTarget(&o.runOptions, sess, live, stdin, stdout, stderr)
	if err != nil {
		tmp.Close()
		fmt.Fprintf(stderr, "otrace: %v\n", err)
		return exitFailure
	}
	if !o.quiet && len(o.argv) == 0 && o.duration == 0 && len(o.pids) == 0 {
		fmt.Fprintln(stderr, "otrace: recording; press Ctrl-C to stop")
	}
	runErr := recordErrors(tmp.Name(), o.output, sess.Run(), target.finish(), tee.Err(), w.Close(), tmp.Close())
	if runErr == nil {
		runErr = os.Rename(tmp.Name(), o.output)
	}
	if !o.quiet {
		sess.WriteSummary(stderr, o.verbose)
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "otrace: %v\n", runErr)
		return exitFailure
	}
	if lost := sess.Stats().Lost; o.failOnLoss && lost > 0 {
		fmt.Fprintf(stderr, "otrace: %s events were lost (--fail-on-loss)\n", session.Commas(lost))
		return exitFailure
	}
	if !o.quiet {
		if fi, err := os.Stat(o.output); err == nil {
			fmt.Fprintf(stderr, "otrace: wrote %s (%s bytes)\n", o.output, session.Commas(uint64(fi.Size())))
		}
	}
	return exitOK
}

// recordErrors joins what went wrong in a recording: once each (a full
// disk fails the writes, the writer and the file alike), and naming the
// file the user gave rather than the temporary one beside it.
func recordErrors(tmp, final string, errs ...error) error {
	var msgs []string
	for _, err := range errs {
		if err == nil {
			continue
		}
		msg := strings.ReplaceAll(err.Error(), tmp, final)
		if !slices.Contains(msgs, msg) {
			msgs = append(msgs, msg)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// recorder is a source that writes what it reads: replay's Tee or
// perfdata's.
type recorder interface {
	session.Source
	Handler() event.Handler
	Err() error
}

// newRecorder writes live into f in the format o asks for.
func newRecorder(o *recordOptions, live session.Source, f *os.File) (recorder, io.Closer, error) {
	if o.format == "perf" || (o.format == "" && strings.HasSuffix(o.output, ".data")) {
		w, err := perfdata.NewWriter(f, recordMeta())
		if err != nil {
			return nil, nil, err
		}
		return perfdata.NewTee(live, w), w, nil
	}
	w, err := replay.NewWriter(f, recordMeta())
	if err != nil {
		return nil, nil, err
	}
	return replay.NewTee(live, w), w, nil
}

func recordMeta() map[string]string {
	host, _ := os.Hostname()
	m := map[string]string{
		replay.MetaOtraceVersion: version,
		replay.MetaHostname:      host,
		replay.MetaArch:          runtime.GOARCH,
		replay.MetaNumCPU:        fmt.Sprint(runtime.NumCPU()),
		replay.MetaStartTime:     time.Now().UTC().Format(time.RFC3339Nano),
		replay.MetaCommandLine:   strings.Join(os.Args, " "),
	}
	if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m[replay.MetaKernelRelease] = strings.TrimSpace(string(rel))
	}
	return m
}

// unwindingHandler replaces the user stack copy of a dwarf sample with
// the frames unwound from it, in the callchain after the kernel's part
// and a user context marker, before the recording writes the sample.
type unwindingHandler struct {
	next   event.Handler
	stacks *stacks.Table
	chain  []uint64
}

func (h *unwindingHandler) HandleEvent(rec *event.Record) error {
	if rec.UserRegs == nil {
		return h.next.HandleEvent(rec)
	}
	kernel, _ := event.SplitCallchain(rec.Callchain)
	h.chain = h.chain[:0]
	if len(kernel) > 0 {
		h.chain = append(append(h.chain, event.ContextKernel), kernel...)
	}
	if pcs := h.stacks.UnwoundPCs(rec); len(pcs) > 0 {
		h.chain = append(append(h.chain, event.ContextUser), pcs...)
	}
	chain, regs, stack := rec.Callchain, rec.UserRegs, rec.UserStack
	rec.Callchain, rec.UserRegs, rec.UserStack = h.chain, nil, nil
	err := h.next.HandleEvent(rec)
	rec.Callchain, rec.UserRegs, rec.UserStack = chain, regs, stack
	return err
}
