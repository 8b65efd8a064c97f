package main

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"

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
// of them exits. Each process's pidfd waits in Go's network poller: a
// goroutine in poll(2) with a timeout held a thread in a system call,
// and each return from it (once a second) set the runtime's monitor
// thread polling every 20 µs, backing off to 10 ms: some 60 extra
// wake-ups a second for the whole run.
func watchPIDs(pids []int32, sess *session.Session) error {
	var files []*os.File
	for _, pid := range pids {
		f, err := openPidfd(pid)
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			return err
		}
		files = append(files, f)
	}
	var left atomic.Int32
	left.Store(int32(len(files)))
	for _, f := range files {
		go func() {
			defer f.Close()
			if waitExit(f) && left.Add(-1) == 0 {
				sess.StopAsync("the traced processes exited")
			}
		}()
	}
	return nil
}

// openPidfd opens a non-blocking pidfd of pid, for the network poller.
func openPidfd(pid int32) (*os.File, error) {
	fd, err := unix.PidfdOpen(int(pid), unix.PIDFD_NONBLOCK)
	if err == unix.ESRCH {
		return nil, fmt.Errorf("-p %d: no such process", pid)
	}
	if err != nil {
		return nil, fmt.Errorf("-p %d: %v", pid, err)
	}
	return os.NewFile(uintptr(fd), fmt.Sprintf("pidfd %d", pid)), nil
}

// waitExit returns true when the process behind pidfd f has exited (its
// pidfd reads as ready), false when f cannot be waited on.
func waitExit(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	exited := false
	err = rc.Read(func(fd uintptr) bool {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, _ := unix.Poll(pfd, 0)
		exited = n > 0
		return exited
	})
	return err == nil && exited
}
