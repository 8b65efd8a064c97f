package perf

import (
	"fmt"

	"golang.org/x/sys/unix"

	"otrace/runtime/event"
	"otrace/runtime/session"
)

// counter counts one event on every CPU in the kernel (perf stat's way):
// nothing is written to a ring, and reading is a read() per CPU.
type counter struct {
	ev  *event.Event
	fds []int
}

// Count registers a kernel counter of ev, opened by Enable.
func (s *Source) Count(ev *event.Event) (session.Counter, error) {
	if _, ok := ev.Config.(*Spec); !ok {
		return nil, fmt.Errorf("%s: not an event of the perf collector", ev.Name)
	}
	c := &counter{ev: ev}
	s.counters = append(s.counters, c)
	return c, nil
}

// openCounters opens every registered counter not yet open on every CPU.
func (s *Source) openCounters(self int) error {
	for _, c := range s.counters {
		if len(c.fds) > 0 {
			continue
		}
		sp := c.ev.Config.(*Spec)
		for _, cpu := range s.cpus {
			a := countAttr(sp)
			fd, err := openEvent(&a, s.task(&a), cpu)
			if err != nil {
				return openError(fmt.Sprintf("opening a counter of %s on cpu %d", c.ev.Name, cpu), err)
			}
			s.fds = append(s.fds, fd)
			c.fds = append(c.fds, fd)
			if f := s.filterFor(c.ev, sp, self); f != "" {
				if err := setFilter(fd, f); err != nil {
					return fmt.Errorf("%s: the kernel refused the filter %q: %v", c.ev.Name, f, err)
				}
			}
		}
	}
	return nil
}

// Value sums the CPUs' counts.
func (c *counter) Value() uint64 {
	var total uint64
	var buf [8]byte
	for _, fd := range c.fds {
		if n, err := unix.Read(fd, buf[:]); err == nil && n == 8 {
			total += le.Uint64(buf[:])
		}
	}
	return total
}
