//go:build windows

package main

import (
	"errors"
	"fmt"
	"io"
	"math"

	"golang.org/x/sys/windows"

	"otrace/collectors/etw"
	"otrace/runtime/session"
)

// liveSource is the Windows ETW collector (etw.NewLive): kernel events,
// CPU sampling and user-mode providers. Its sessions start when the run
// enables its probes and stop when the source closes.
func liveSource(o *runOptions, stderr io.Writer) session.Source {
	notice := func(s string) { fmt.Fprintln(stderr, s) }
	if len(o.cpus) > 0 {
		notice("otrace: --cpus is ignored on Windows: ETW traces every CPU")
	}
	opts := etw.LiveOptions{Options: etw.Options{Notice: notice}}
	if o.bufferSize > 0 {
		opts.BufferKB = uint32(min(max(o.bufferSize>>10, 4), math.MaxUint16))
	}
	src, err := etw.NewLive(opts)
	if err != nil {
		notice("otrace: " + err.Error())
		return session.NewIdleSource()
	}
	return src
}

// watchPIDs checks the -p processes exist and stops the run when the last
// of them exits.
func watchPIDs(pids []int32, sess *session.Session) error {
	var handles []windows.Handle
	closeAll := func() {
		for _, h := range handles {
			windows.CloseHandle(h)
		}
	}
	for _, pid := range pids {
		h, err := windows.OpenProcess(windows.SYNCHRONIZE, false, uint32(pid))
		if err != nil {
			closeAll()
			if errors.Is(err, windows.ERROR_INVALID_PARAMETER) {
				return fmt.Errorf("-p %d: no such process", pid)
			}
			return fmt.Errorf("-p %d: %v", pid, err)
		}
		handles = append(handles, h)
	}
	go func() {
		defer closeAll()
		// WaitForMultipleObjects takes at most 64 handles: wait for each
		// group in turn, all of a group at once.
		const most = 64
		for i := 0; i < len(handles); i += most {
			group := handles[i:min(i+most, len(handles))]
			if _, err := windows.WaitForMultipleObjects(group, true, windows.INFINITE); err != nil {
				return
			}
		}
		sess.StopAsync("the traced processes exited")
	}()
	return nil
}
