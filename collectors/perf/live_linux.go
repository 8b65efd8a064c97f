package perf

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"otrace/runtime/event"
	"otrace/runtime/session"
)

// What the source does for an interactive session (the REPL): events
// added and removed while it runs, pause and resume, a run after another,
// and a wake-up of a blocked Read so that a posted task runs at once. All
// of it happens on the dispatch goroutine, whose thread Enable locked and
// whose events the tracepoint filters leave out, except Wake.

var (
	_ session.LiveSource = (*Source)(nil)
	_ session.Pauser     = (*Source)(nil)
	_ session.Waker      = (*Source)(nil)
	_ session.LossReader = (*Source)(nil)
)

// liveState is what the source keeps of changes made while it runs.
type liveState struct {
	removed map[*event.Event]bool // opened, then removed: kept disabled
	paused  bool
	// wake is the wake-up eventfd plus one (0: none yet), published by
	// Read for Wake on other goroutines.
	wake  atomic.Int32
	woken atomic.Bool // Wake was called since the last clearWake
}

// Add opens events while the source runs: each on every CPU, redirected
// into that CPU's ring with PERF_EVENT_IOC_SET_OUTPUT and enabled at once
// (unless paused). The rings are made first when Enable had no event to
// put in them. An event removed before is enabled again. On an error the
// event that failed is closed; those before it stay open.
func (s *Source) Add(events []*event.Event) error {
	if s.parser == nil || s.poll == nil {
		return errors.New("perf: events can be added only after Enable")
	}
	if len(s.rings) == 0 {
		if err := s.openRings(); err != nil {
			return err
		}
		if err := s.setEnabled(s.ringFDs(), !s.live.paused); err != nil {
			return err
		}
	}
	self := unix.Gettid()
	for _, ev := range events {
		if _, ok := s.evFDs[ev]; !ok {
			if err := s.openAll(ev, self); err != nil {
				return err
			}
		}
		delete(s.live.removed, ev)
		if err := s.setEnabled(s.evFDs[ev], !s.live.paused); err != nil {
			return fmt.Errorf("%s: %v", ev.Name, err)
		}
	}
	return nil
}

// openAll opens ev on every CPU, or closes what it opened of it.
func (s *Source) openAll(ev *event.Event, self int) error {
	n := len(s.fds)
	err := s.open(ev, self)
	if err == nil {
		return nil
	}
	for _, fd := range s.fds[n:] {
		unix.Close(fd)
	}
	s.fds = s.fds[:n]
	delete(s.evFDs, ev)
	return err
}

// Remove disables an event that has no handler left. Its records already
// in the rings are still delivered (and counted by the session).
func (s *Source) Remove(ev *event.Event) error {
	fds, ok := s.evFDs[ev]
	if !ok {
		return nil
	}
	if s.live.removed == nil {
		s.live.removed = map[*event.Event]bool{}
	}
	s.live.removed[ev] = true
	return s.setEnabled(fds, false)
}

// Pause disables every event and counter; Resume enables them again,
// except the removed events.
func (s *Source) Pause() error {
	s.live.paused = true
	return s.setEnabled(s.fds, false)
}

// Resume implements session.Pauser.
func (s *Source) Resume() error {
	s.live.paused = false
	return s.setEnabled(s.activeFDs(), true)
}

// Wake makes a Read blocked in epoll_wait return now; the run goes on. It
// is safe from any goroutine once Read has been called.
func (s *Source) Wake() {
	// The eventfd first, the flag second: a flag that is set means the
	// eventfd was written, so clearWake reads it only then.
	if fd := s.live.wake.Load() - 1; fd >= 0 {
		one := [8]byte{1}
		unix.Write(int(fd), one[:])
	}
	s.live.woken.Store(true) // seen by a Read about to sleep
}

// clearWake empties the wake-up eventfd, which stays readable until read,
// and publishes it for Wake. It reads the eventfd only after a Wake: a
// system call on every wake-up of the reader (ten a second when idle) kept
// the runtime's monitor thread polling every 20 µs to 10 ms afterwards,
// some 200 extra sleeps and wake-ups a second, 4 ms of CPU a second idle.
func (s *Source) clearWake() {
	if s.live.woken.Swap(false) {
		var buf [8]byte
		unix.Read(s.wakeFD, buf[:])
	}
	s.live.wake.Store(int32(s.wakeFD) + 1)
}

// ReadLoss updates each event's Lost from its file descriptors (Linux
// 6.0+), as Finish does at the end.
func (s *Source) ReadLoss() {
	var buf [16]byte
	for ev, fds := range s.evFDs {
		var lost uint64
		for _, fd := range fds {
			if n, err := unix.Read(fd, buf[:]); err == nil && n == 16 {
				lost += le.Uint64(buf[8:])
			}
		}
		ev.Lost = lost
	}
}

// reenable is Enable for a session that runs again after Finish: it
// drops what the rings still hold from the last run, opens the events and
// counters that are new, resets the counters and enables everything the
// run has handlers for. A source whose first Enable failed half way is
// closed and enabled from scratch.
func (s *Source) reenable(events []*event.Event) error {
	if !s.consistent() {
		s.reset()
		return s.Enable(events)
	}
	s.live.paused = false
	s.scanned = false // processes started since are read from /proc again
	for _, r := range s.rings {
		r.refresh()
		r.tail, r.loaded = r.head, false
		r.commit()
	}
	self := unix.Gettid()
	if err := s.openCounters(self); err != nil {
		return err
	}
	for _, c := range s.counters {
		for _, fd := range c.fds {
			unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_RESET, 0)
		}
	}
	if len(events) > 0 && len(s.rings) == 0 {
		if err := s.openRings(); err != nil {
			return err
		}
	}
	for _, ev := range events {
		if _, ok := s.evFDs[ev]; !ok {
			if err := s.openAll(ev, self); err != nil {
				return err
			}
		}
	}
	s.live.removed = map[*event.Event]bool{}
	for ev := range s.evFDs {
		if !slices.Contains(events, ev) {
			s.live.removed[ev] = true
		}
	}
	return s.setEnabled(s.activeFDs(), true)
}

// consistent reports whether the last Enable completed: a poll set, a
// ring per CPU (or none), and every event and counter open on every CPU.
func (s *Source) consistent() bool {
	if s.poll == nil || s.wakeFD < 0 || (len(s.rings) != 0 && len(s.rings) != len(s.cpus)) {
		return false
	}
	for _, fds := range s.evFDs {
		if len(fds) != len(s.cpus) {
			return false
		}
	}
	for _, c := range s.counters {
		if len(c.fds) != 0 && len(c.fds) != len(s.cpus) {
			return false
		}
	}
	return true
}

// reset closes everything Enable opened, keeping the catalog (and its
// uprobes) and the registered counters.
func (s *Source) reset() {
	for _, fd := range s.fds {
		unix.Close(fd)
	}
	s.fds = nil
	for _, r := range s.rings {
		r.close()
	}
	s.rings = nil
	s.live.wake.Store(0)
	s.closePoll()
	for _, c := range s.counters {
		c.fds = nil
	}
	s.evFDs = map[*event.Event][]int{}
	s.parser = nil
	s.live.removed, s.live.paused = nil, false
	if s.locked {
		runtime.UnlockOSThread()
		s.locked = false
	}
}

// activeFDs are the descriptors to enable: all but the removed events'.
func (s *Source) activeFDs() []int {
	if len(s.live.removed) == 0 {
		return s.fds
	}
	off := map[int]bool{}
	for ev := range s.live.removed {
		for _, fd := range s.evFDs[ev] {
			off[fd] = true
		}
	}
	var out []int
	for _, fd := range s.fds {
		if !off[fd] {
			out = append(out, fd)
		}
	}
	return out
}

func (s *Source) ringFDs() []int {
	out := make([]int, len(s.rings))
	for i, r := range s.rings {
		out[i] = r.fd
	}
	return out
}

func (s *Source) setEnabled(fds []int, on bool) error {
	req, what := uint(unix.PERF_EVENT_IOC_DISABLE), "disabling"
	if on {
		req, what = unix.PERF_EVENT_IOC_ENABLE, "enabling"
	}
	for _, fd := range fds {
		if err := unix.IoctlSetInt(fd, req, 0); err != nil {
			return fmt.Errorf("%s events: %v", what, err)
		}
	}
	return nil
}
