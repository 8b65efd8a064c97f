package perf

import (
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// poller is the epoll set of the rings and the wake-up eventfd, waited on
// through Go's network poller rather than by blocking a thread in
// epoll_wait. A thread blocked in a system call for longer than 10 ms has
// its P taken by the runtime's monitor, which then stays awake polling
// every few µs: an idle run spent 20 ms of CPU a second that way. Parked
// in the network poller, the reading goroutine costs nothing until a ring
// reaches its watermark, the eventfd is written, or the timeout passes.
type poller struct {
	fd   int
	file *os.File // owns fd
	conn syscall.RawConn
}

func newPoller() (*poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	// A non-blocking descriptor is what os.NewFile hands to the network
	// poller; an epoll descriptor is readable when its set has events.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	p := &poller{fd: fd, file: os.NewFile(uintptr(fd), "perf-epoll")}
	if p.conn, err = p.file.SyscallConn(); err != nil {
		p.file.Close()
		return nil, err
	}
	return p, nil
}

// add watches fd for input. Which descriptor woke the set is never
// asked: every wake-up reads all rings.
func (p *poller) add(fd int) error {
	return unix.EpollCtl(p.fd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN})
}

// wait returns when ready reports true, when the set signals, or when
// timeout has passed. ready is checked before sleeping, rather than
// epoll_wait on the set: Go's poller already polled the set when it woke
// us, and polling a perf descriptor consumes its readiness (the kernel
// resets it), so a second look would find nothing and sleep through the
// wake-up. Records lost to that: up to a third of a storm.
func (p *poller) wait(timeout time.Duration, ready func() bool) error {
	if timeout <= 0 || ready() {
		return nil
	}
	if err := p.file.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	looked := false
	err := p.conn.Read(func(uintptr) bool {
		if looked {
			return true // woken by the set
		}
		looked = true
		return ready() // what arrived since the check above
	})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil
	}
	return err
}

func (p *poller) close() error { return p.file.Close() }
