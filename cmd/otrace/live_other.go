//go:build !linux && !windows

package main

import (
	"errors"
	"io"

	"otrace/runtime/session"
)

// liveSource on systems without a collector yet: every probe is unknown,
// and scripts with only timers still run.
func liveSource(o *runOptions, stderr io.Writer) session.Source {
	return session.NewIdleSource()
}

func watchPIDs(pids []int32, sess *session.Session) error {
	return errors.New("-p is supported on Linux only for now")
}
