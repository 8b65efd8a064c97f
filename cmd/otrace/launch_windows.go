//go:build windows

package main

import (
	"fmt"
	"io"
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"
)

// launcherArg names the launcher of Unix systems; Windows creates the
// command suspended instead, so there is nothing to re-execute.
const launcherArg = "__launch"

func runLauncher(args []string, stderr io.Writer) int {
	fmt.Fprintln(stderr, "otrace: __launch is not used on Windows")
	return 127
}

// ntResumeProcess resumes every thread of a process created suspended:
// exec.Cmd keeps no handle on the command's first thread, and
// ResumeThread needs one.
var ntResumeProcess = windows.NewLazySystemDLL("ntdll.dll").NewProc("NtResumeProcess")

// heldCommand is a command created suspended: its pid is known, so the
// session can filter on it, and it runs no instruction before release.
type heldCommand struct {
	cmd      *exec.Cmd
	process  windows.Handle
	released bool
}

// startHeld starts argv suspended: it runs only after release.
func startHeld(argv []string, stdin io.Reader, stdout, stderr io.Writer) (*heldCommand, error) {
	if _, err := exec.LookPath(argv[0]); err != nil {
		return nil, fmt.Errorf("cannot run %s: %v", argv[0], err)
	}
	if err := ntResumeProcess.Find(); err != nil {
		return nil, fmt.Errorf("cannot hold the command until tracing starts: %v", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_SUSPENDED}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start the command: %v", err)
	}
	h, err := windows.OpenProcess(windows.PROCESS_SUSPEND_RESUME|windows.PROCESS_TERMINATE, false, uint32(cmd.Process.Pid))
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("cannot hold the command until tracing starts: %v", err)
	}
	return &heldCommand{cmd: cmd, process: h}, nil
}

// release lets the command run.
func (h *heldCommand) release() {
	if h.released {
		return
	}
	h.released = true
	ntResumeProcess.Call(uintptr(h.process))
	windows.CloseHandle(h.process)
}

// abandon ends a command that was never released.
func (h *heldCommand) abandon() {
	if h.released {
		return
	}
	h.released = true
	windows.TerminateProcess(h.process, 127)
	windows.CloseHandle(h.process)
}
