//go:build unix

package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

func init() {
	// The launcher must exec on the process's main thread: perf events
	// that follow the command are attached to that thread, and an exec
	// from another thread replaces it, taking the events with it.
	if len(os.Args) > 1 && os.Args[1] == launcherArg {
		runtime.LockOSThread()
	}
}

// launcherArg is the hidden subcommand otrace re-executes itself as, to
// start a traced command held until its events are enabled: the child
// waits for a byte on fd 3, then execs the command in place, so its pid
// is the command's pid from the start.
const launcherArg = "__launch"

// runLauncher is the child side: wait for the go-ahead, then exec.
func runLauncher(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "otrace: __launch needs a command")
		return 127
	}
	gate := os.NewFile(3, "gate")
	var b [1]byte
	if n, _ := gate.Read(b[:]); n != 1 {
		return 127 // otrace gave up before releasing the command
	}
	gate.Close()
	nameLauncher()
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "otrace: cannot run %s: %v\n", args[0], err)
		return 127
	}
	err = syscall.Exec(path, args, os.Environ())
	fmt.Fprintf(stderr, "otrace: cannot run %s: %v\n", args[0], err)
	return 126
}

// heldCommand is a command started but held before exec.
type heldCommand struct {
	cmd  *exec.Cmd
	gate *os.File
}

// startHeld starts argv held: it runs only after release.
func startHeld(argv []string, stdin io.Reader, stdout, stderr io.Writer) (*heldCommand, error) {
	if _, err := exec.LookPath(argv[0]); err != nil {
		return nil, fmt.Errorf("cannot run %s: %v", argv[0], err)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cannot find the otrace binary to start the command: %v", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, append([]string{launcherArg}, argv...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.ExtraFiles = []*os.File{r}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("cannot start the command: %v", err)
	}
	r.Close()
	return &heldCommand{cmd: cmd, gate: w}, nil
}

// release lets the command run.
func (h *heldCommand) release() {
	if h.gate != nil {
		h.gate.Write([]byte{1})
		h.gate.Close()
		h.gate = nil
	}
}

// abandon ends a command that was never released.
func (h *heldCommand) abandon() {
	if h.gate != nil {
		h.gate.Close() // the launcher sees EOF and exits
		h.gate = nil
	}
}
