package tracefs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"otrace/runtime/event"
)

// The places tracefs is found, in the order they are tried. The first is
// where current kernels mount it; the second is the automount inside
// debugfs that older setups rely on.
const (
	tracingDir      = "/sys/kernel/tracing"
	debugTracingDir = "/sys/kernel/debug/tracing"
)

// mountCommand is what a user runs to mount tracefs by hand.
const mountCommand = "mount -t tracefs nodev " + tracingDir

// rootAdvice says what a user lacking access to tracefs should do. tracefs is
// mode 0700 for root by default; CAP_PERFMON opens perf events but does not
// open these files.
const rootAdvice = "run otrace as root (tracefs is readable only by root by default; " +
	"CAP_PERFMON alone does not open it, a tracefs mounted with -o gid=GROUP,mode=0750 lets GROUP in)"

// Options says where tracefs is and how to report what Open did.
type Options struct {
	// Root is the tracefs directory to use instead of looking for one (and
	// mounting one). Tests point it at a fake tree.
	Root string
	// Notice receives one line for each thing Open did that the user should
	// know about, such as mounting tracefs. nil drops them.
	Notice func(string)
	// Targets finds the file of a Uprobe whose Path is a bare name. nil
	// means SystemTargets.
	Targets *TargetFinder
}

// FS is an opened tracefs. Its methods may be called from several
// goroutines.
type FS struct {
	root string
	pid  int
	// alive reports whether a process exists; CleanStaleUprobes asks it.
	alive func(pid int) bool
	// targets finds uprobe files; goarch (runtime.GOARCH) says which
	// registers hold a function's arguments.
	targets *TargetFinder
	goarch  string

	mu      sync.Mutex // guards the caches
	events  []string   // sorted catalogue; nil until listed
	formats map[string]*event.Format

	// probeMu serializes changes to uprobe_events, so a name chosen as
	// free is still free when written.
	probeMu sync.Mutex
	uprobes map[string]*UprobeEvent // ours that exist, by event name
}

// Open finds tracefs (Options.Root, else /sys/kernel/tracing, else
// /sys/kernel/debug/tracing) and, when none is mounted and otrace runs as
// root, mounts it at /sys/kernel/tracing. Its errors say what to run.
func Open(opts Options) (*FS, error) {
	root, err := locate(opts)
	if err != nil {
		return nil, err
	}
	targets := opts.Targets
	if targets == nil {
		targets = SystemTargets()
	}
	return &FS{
		root:    root,
		pid:     os.Getpid(),
		alive:   processAlive,
		targets: targets,
		goarch:  runtime.GOARCH,
		formats: map[string]*event.Format{},
		uprobes: map[string]*UprobeEvent{},
	}, nil
}

// Root is the tracefs directory in use.
func (t *FS) Root() string { return t.root }

func locate(opts Options) (string, error) {
	if opts.Root != "" {
		if err := hasEvents(opts.Root); err != nil {
			return "", fmt.Errorf("tracefs: %s is not a tracefs (%v)", opts.Root, err)
		}
		return opts.Root, nil
	}
	var denied error
	for _, dir := range []string{tracingDir, debugTracingDir} {
		err := hasEvents(dir)
		if err == nil {
			return dir, nil
		}
		if errors.Is(err, fs.ErrPermission) && denied == nil {
			denied = fmt.Errorf("tracefs: %s: permission denied: %s", dir, rootAdvice)
		}
	}
	if denied != nil {
		return "", denied
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("tracefs: not mounted (no %s/events): run `sudo %s`, or %s",
			tracingDir, mountCommand, rootAdvice)
	}
	if err := mountTracefs(tracingDir); err != nil {
		return "", fmt.Errorf("tracefs: not mounted, and mounting it failed: %w; run `%s` by hand", err, mountCommand)
	}
	if err := hasEvents(tracingDir); err != nil {
		return "", fmt.Errorf("tracefs: mounted at %s but %v", tracingDir, err)
	}
	if opts.Notice != nil {
		opts.Notice("otrace: mounted tracefs at " + tracingDir)
	}
	return tracingDir, nil
}

// hasEvents reports, as an error, why dir is not a usable tracefs.
func hasEvents(dir string) error {
	fi, err := os.Stat(filepath.Join(dir, "events"))
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s/events is not a directory", dir)
	}
	return nil
}
