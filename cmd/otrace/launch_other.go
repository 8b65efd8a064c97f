//go:build !unix && !windows

package main

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
)

const launcherArg = "__launch"

func runLauncher(args []string, stderr io.Writer) int {
	fmt.Fprintln(stderr, "otrace: __launch is not supported on this system")
	return 127
}

type heldCommand struct{ cmd *exec.Cmd }

func startHeld(argv []string, stdin io.Reader, stdout, stderr io.Writer) (*heldCommand, error) {
	return nil, errors.New("starting a traced command is not supported on this system yet")
}

func (h *heldCommand) release() {}
func (h *heldCommand) abandon() {}
