package main

import (
	"fmt"
	"io"
	"time"

	"golang.org/x/sys/unix"

	"otrace/collectors/perf"
	"otrace/collectors/procfs"
	"otrace/runtime/session"
)

// liveSource is the Linux perf collector, reading /proc at start so that
// processes already running have names and mappings.
func liveSource(o *runOptions, stderr io.Writer) session.Source {
	notice := func(s string) { fmt.Fprintln(stderr, s) }
	return perf.New(perf.Options{
		CPUs:       o.cpus,
		BufferSize: o.bufferSize,
		Notice:     notice,
		Scan: func(sink session.Sink, now uint64) error {
			_, err := procfs.Scan(procfs.Options{Maps: true, Time: now}, sink)
			return err
		},
	})
}

// watchPIDs checks the -p processes exist and stops the run when the last
// of them exits.
func watchPIDs(pids []int32, sess *session.Session) error {
	var fds []unix.PollFd
	for _, pid := range pids {
		fd, err := unix.PidfdOpen(int(pid), 0)
		if err != nil {
			for _, f := range fds {
				unix.Close(int(f.Fd))
			}
			if err == unix.ESRCH {
				return fmt.Errorf("-p %d: no such process", pid)
			}
			return fmt.Errorf("-p %d: %v", pid, err)
		}
		fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	}
	open := make([]int, len(fds))
	for i, f := range fds {
		open[i] = int(f.Fd)
	}
	go func() {
		defer func() {
			for _, fd := range open {
				unix.Close(fd)
			}
		}()
		left := len(fds)
		for left > 0 {
			n, err := unix.Poll(fds, int((time.Second).Milliseconds()))
			if err != nil && err != unix.EINTR {
				return
			}
			if n <= 0 {
				continue
			}
			for i := range fds {
				if fds[i].Revents != 0 && fds[i].Fd >= 0 {
					fds[i].Fd = -fds[i].Fd - 1 // poll ignores negative fds
					left--
				}
			}
		}
		sess.StopAsync("the traced processes exited")
	}()
	return nil
}
