// Command otrace is a scriptable tracer: Tengo scripts attach handlers to
// kernel events (live) or to the events of a recording, and print or
// export what they collect.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"

	"github.com/d5/tengo/v2"
)

const version = "0.1.0"

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // the run failed: a source error, too many handler errors
	exitUsage   = 2 // nothing ran: bad flags, a script that does not compile
)

const usage = `otrace - a scriptable tracer

Usage:
  otrace run [flags] SCRIPT [ARGS...] [-- COMMAND ARGS...]
  otrace run [flags] -e 'CODE' [-- COMMAND ARGS...]
  otrace repl [--input FILE] [SCRIPT]
                                an interactive session: attach handlers
                                while tracing runs, inspect, :save a script
  otrace record -o FILE -e PROBE... [-d DUR] [-- COMMAND]
                                record events into a file for 'run --input'
  otrace list [GLOB] [-v] [--json]
                                list probes (and their fields with -v)
  otrace check SCRIPT           compile a script without running it
  otrace test [DIR|SCRIPT]...   run script tests (NAME.tengo vs NAME.out)
  otrace view FILE.pb.gz        open a profile in pprof's web UI (--top: terminal)
  otrace version
  otrace help [COMMAND]

A script attaches handlers to events and prints what it finds:

  otrace.on("sched:sched_switch", func(e) {
      otrace.printf("%s -> %s\n", e.prev_comm, e.next_comm)
  })

Ready-made tools run by name: otrace run syscount (also execsnoop,
opensnoop, exitsnoop, runqlat, cpudist, offcputime, profile, pagefaults,
mallocbytes, biolatency, biosnoop, tcplife, cswitch, sched-timeline).

Run 'otrace help run' for the flags, the probes and what a handler sees.
`

func main() {
	// Bound strings and byte slices a script can build: a doubling string
	// would otherwise reach gigabytes in a few dozen steps.
	tengo.MaxStringLen = 16 << 20
	tengo.MaxBytesLen = 16 << 20
	profile := os.Getenv("OTRACE_CPUPROFILE")
	if len(os.Args) > 1 && os.Args[1] == launcherArg {
		profile = "" // the launcher becomes the traced command
	}
	stop := startCPUProfile(profile, os.Stderr)
	code := dispatch(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	writeHeapProfile(os.Getenv("OTRACE_MEMPROFILE"), os.Stderr)
	os.Exit(code)
}

// startCPUProfile profiles otrace itself into path when it is set: how
// the numbers in docs/PERFORMANCE.md were taken apart (go tool pprof).
func startCPUProfile(path string, stderr io.Writer) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "otrace: OTRACE_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// writeHeapProfile writes otrace's heap profile at exit into path when it
// is set: what is still held (inuse_space) and what was allocated on the
// way (alloc_space).
func writeHeapProfile(path string, stderr io.Writer) {
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "otrace: OTRACE_MEMPROFILE: %v\n", err)
	}
}

func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		io.WriteString(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case launcherArg:
		return runLauncher(args[1:], stderr)
	case "run":
		return runCommand(args[1:], stdin, stdout, stderr)
	case "record":
		return recordCommand(args[1:], stdin, stdout, stderr)
	case "repl":
		return replCommand(args[1:], stdin, stdout, stderr)
	case "list":
		return listCommand(args[1:], stdout, stderr)
	case "view":
		return viewCommand(args[1:], stdout, stderr)
	case "test":
		return testCommand(args[1:], stdout, stderr)
	case "check":
		return checkCommand(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "otrace %s (%s %s/%s, tengo %s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH, depVersion("github.com/d5/tengo/v2"))
		return exitOK
	case "help", "-h", "--help":
		if len(args) > 1 {
			return dispatch([]string{args[1], "--help"}, stdin, stdout, stderr)
		}
		io.WriteString(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "otrace: unknown command %q\n\n", args[0])
	io.WriteString(stderr, usage)
	return exitUsage
}

func depVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}
