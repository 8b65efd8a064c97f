package perf

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"otrace/collectors/tracefs"
	"otrace/runtime/event"
	"otrace/runtime/session"
)

// DefaultBufferSize is the ring size per CPU: 4 MiB took a storm of 1 M
// events/s with no loss where 512 KiB lost 0.05 % (notes/perf-linux.md).
const DefaultBufferSize = 4 << 20

// Options configures the collector.
type Options struct {
	// CPUs limits tracing to these CPUs; nil means every online CPU.
	CPUs []int
	// BufferSize is each CPU's ring size in bytes, rounded up to a power
	// of two pages; 0 means DefaultBufferSize, raised for events that copy
	// user stacks (ustack_linux.go).
	BufferSize int
	// Tracefs says where tracefs is; Notice reports what otrace did (such
	// as mounting tracefs) to the user.
	Tracefs tracefs.Options
	Notice  func(string)
	// Scan, when set, is called on the first Read to report the processes
	// that existed before tracing started (collectors/procfs).
	Scan func(sink session.Sink, now uint64) error
}

// slack is how long the merge waits before delivering a record: a CPU may
// publish a record stamped up to this long ago, and records must reach
// handlers in time order across CPUs.
const slack = 2_000_000 // ns

// pollEvery bounds how long Read sleeps when no ring reaches its wake-up
// watermark (a quarter of the ring): the latency of records in a quiet
// ring, as bpftrace's 100 ms poll has it. Timers and the deadline wake it
// sooner (NextDue). Every wake-up costs scheduler hand-offs in Go: polling
// every 10 ms, an idle run spent 21 ms of CPU a second, and a 999 Hz
// dwarf profile made 740 context switches a second.
const pollEvery = 100 * time.Millisecond

// watermarkDiv sets the wake-up watermark at 1/watermarkDiv of the ring:
// the kernel wakes the reader then, which leaves the other 3/4 of the ring
// for the time the reader takes to get a CPU. At half, a storm on a busy
// machine overflowed 4 MiB rings before the reader ran.
const watermarkDiv = 4

// pollTimeout is how long Read may block at time now.
func pollTimeout(sink session.Sink, now uint64) time.Duration {
	due := session.NextDue(sink)
	switch {
	case due == ^uint64(0):
		return pollEvery
	case due+slack <= now:
		return 0
	}
	// A timer due at t fires on the tick of t + slack: ticks lag by the
	// merge's slack.
	return min(pollEvery, time.Duration(due+slack-now))
}

// batch is how many records one Read delivers at most.
const batch = 4096

// Source is the live Linux collector: a session.Source.
type Source struct {
	opts   Options
	cat    *catalog
	parser *Parser
	cpus   []int

	rings  []*ring
	fds    []int                  // every perf fd: counters, rings, events
	evFDs  map[*event.Event][]int // sampling fds of each event
	poll   *poller                // nil until Enable
	wakeFD int

	counters    []*counter
	target      int // pid followed, or 0 for the whole system
	scanned     bool
	locked      bool
	interrupted atomic.Bool
	lastTime    uint64
	OutOfOrder  uint64

	live liveState // changes while running (live_linux.go)

	autoRing bool // BufferSize was left to otrace
}

// New makes the collector; nothing is opened until Enable (tracefs on the
// first tracepoint lookup).
func New(opts Options) *Source {
	auto := opts.BufferSize <= 0
	if auto {
		opts.BufferSize = DefaultBufferSize
	}
	if opts.Tracefs.Notice == nil {
		opts.Tracefs.Notice = opts.Notice
	}
	return &Source{opts: opts, cat: newCatalog(opts.Tracefs), wakeFD: -1, evFDs: map[*event.Event][]int{}, autoRing: auto}
}

// Catalog implements session.Source.
func (s *Source) Catalog() session.Catalog { return s.cat }

// Follow limits the events (not the process records) to task pid and
// everything it starts, in the kernel, so that tracing one command does
// not fill the rings with the rest of the machine. Call before Enable.
func (s *Source) Follow(pid int) { s.target = pid }

// task returns the pid to open an event for, setting inherit when it
// follows a task.
func (s *Source) task(a *unix.PerfEventAttr) int {
	if s.target <= 0 {
		return -1
	}
	a.Bits |= unix.PerfBitInherit
	return s.target
}

// Stats returns the parser's counts (zero before Enable).
func (s *Source) Stats() Stats {
	if s.parser == nil {
		return Stats{}
	}
	return s.parser.Stats
}

// ringPages rounds size up to a power-of-two number of pages.
func ringSize(size int) int {
	page := os.Getpagesize()
	n := page
	for n < size {
		n *= 2
	}
	return n
}

// Enable opens every event on every CPU, each CPU's events writing into
// one ring, and enables them. The calling goroutine is locked to its
// thread, whose events tracepoints filter out: the session's goroutine
// reads the rings and runs the handlers, and must not trace itself.
func (s *Source) Enable(events []*event.Event) error {
	if s.parser != nil {
		return s.reenable(events) // a session that runs again
	}
	cpus := s.opts.CPUs
	if cpus == nil {
		var err error
		if cpus, err = onlineCPUs(); err != nil {
			return err
		}
	}
	s.cpus = cpus
	maxCPU := 0
	for _, c := range cpus {
		maxCPU = max(maxCPU, c)
	}
	s.parser = NewParser(int32(os.Getpid()), maxCPU+1)
	runtime.LockOSThread()
	s.locked = true
	if err := s.openPoll(); err != nil {
		return err
	}
	self := unix.Gettid()
	if err := s.openCounters(self); err != nil {
		return err
	}
	if len(events) == 0 {
		if len(s.counters) > 0 && s.opts.Notice != nil {
			s.opts.Notice("otrace: counting in the kernel only: no event is copied to otrace")
		}
		return s.enableAll() // counters and timers only: Read just ticks
	}
	if s.autoRing {
		s.opts.BufferSize = userStackRing(s.opts.BufferSize, len(s.cpus), events)
	}
	if err := s.openRings(); err != nil {
		return err
	}
	for _, ev := range events {
		if err := s.open(ev, self); err != nil {
			return err
		}
	}
	return s.enableAll()
}

// openRings opens each CPU's ring: a dummy event that also reports the
// process records, mapped, and watched by epoll.
func (s *Source) openRings() error {
	size := ringSize(s.opts.BufferSize)
	buildID := true
	for _, cpu := range s.cpus {
		la := leaderAttr(size/watermarkDiv, buildID)
		fd, err := openEvent(&la, -1, cpu)
		if err != nil && buildID && errors.Is(err, unix.EINVAL) {
			buildID = false // before Linux 5.12
			la = leaderAttr(size/watermarkDiv, false)
			fd, err = openEvent(&la, -1, cpu)
		}
		if err != nil {
			return openError(fmt.Sprintf("opening the ring of cpu %d", cpu), err)
		}
		r, err := mapRing(fd, cpu, size)
		if err != nil {
			unix.Close(fd)
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOMEM) {
				return fmt.Errorf("mapping a %d KiB ring for cpu %d: %v: the locked-memory limit is too low (kernel.perf_event_mlock_kb); run as root, grant CAP_IPC_LOCK, or lower --buffer-size", size>>10, cpu, err)
			}
			return err
		}
		s.rings = append(s.rings, r)
		s.fds = append(s.fds, fd) // now, so that Close closes it if Enable fails
		id, err := eventID(fd)
		if err != nil {
			return fmt.Errorf("reading the id of cpu %d's ring: %v", cpu, err)
		}
		s.parser.Add(id, nil, idAll, cpu)
		if err := s.poll.add(fd); err != nil {
			return fmt.Errorf("epoll: %v", err)
		}
	}
	return nil
}

func (s *Source) enableAll() error {
	for _, fd := range s.fds {
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
			return fmt.Errorf("enabling events: %v", err)
		}
	}
	return nil
}

// filterFor is the kernel filter of ev: its own, and for tracepoints,
// one that leaves out the events of the thread reading the rings.
func (s *Source) filterFor(ev *event.Event, sp *Spec, self int) string {
	if !sp.Tracepoint {
		return ""
	}
	// Events of the reading thread are left out, except those raised in
	// interrupt context while it happened to run (hardirq 0x08, softirq
	// 0x10, NMI 0x40 in common_flags): a block completion on its CPU is
	// not otrace's own event.
	own := fmt.Sprintf("(common_pid != %d || common_flags & 0x58)", self)
	if ev.Filter == "" {
		return own
	}
	return "(" + ev.Filter + ") && " + own
}

func (s *Source) openPoll() error {
	var err error
	if s.poll, err = newPoller(); err != nil {
		return fmt.Errorf("epoll: %v", err)
	}
	if s.wakeFD, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return fmt.Errorf("eventfd: %v", err)
	}
	return s.poll.add(s.wakeFD)
}

// open opens one event on every CPU into that CPU's ring.
func (s *Source) open(ev *event.Event, self int) error {
	sp, ok := ev.Config.(*Spec)
	if !ok {
		return fmt.Errorf("%s: not an event of the perf collector", ev.Name)
	}
	filter := s.filterFor(ev, sp, self)
	for i, cpu := range s.cpus {
		a := sampleAttr(sp, ev.Stack)
		if err := userStackAttr(&a, ev); err != nil {
			return err
		}
		pid := s.task(&a)
		fd, err := openEvent(&a, pid, cpu)
		if err != nil && errors.Is(err, unix.EINVAL) {
			a.Read_format = 0 // PERF_FORMAT_LOST is Linux 6.0+
			fd, err = openEvent(&a, pid, cpu)
		}
		if err != nil {
			return openError(fmt.Sprintf("opening %s on cpu %d", ev.Name, cpu), err)
		}
		s.fds = append(s.fds, fd)
		s.evFDs[ev] = append(s.evFDs[ev], fd)
		if filter != "" {
			if err := setFilter(fd, filter); err != nil {
				if ev.Filter != "" {
					return fmt.Errorf("%s: the kernel refused the filter %q (%v); its fields are: %v", ev.Name, ev.Filter, err, ev.Format.FieldNames())
				}
				return fmt.Errorf("%s: setting the filter that leaves out otrace's own thread: %v", ev.Name, err)
			}
		}
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_OUTPUT, s.rings[i].fd); err != nil {
			return fmt.Errorf("%s: redirecting cpu %d into its ring: %v", ev.Name, cpu, err)
		}
		id, err := eventID(fd)
		if err != nil {
			return fmt.Errorf("%s: reading its id: %v", ev.Name, err)
		}
		s.parser.Add(id, ev, a.Sample_type, cpu)
		s.parser.AddUserRegs(id, a.Sample_regs_user)
	}
	return nil
}

// Read delivers the records that are old enough to be in time order, or
// waits for more (see pollEvery) and ticks the session's clock.
func (s *Source) Read(sink session.Sink) error {
	if s.interrupted.Load() {
		return session.ErrInterrupted
	}
	if !s.scanned {
		s.scanned = true
		if s.opts.Scan != nil {
			if err := s.opts.Scan(sink, monotonic()); err != nil && s.opts.Notice != nil {
				s.opts.Notice(fmt.Sprintf("otrace: reading /proc: %v (some processes may show no name)", err))
			}
		}
	}
	now := monotonic()
	if n := s.deliver(sink, now-slack, batch); n > 0 {
		return nil
	}
	if err := s.poll.wait(pollTimeout(sink, now), s.readyToRead); err != nil {
		return fmt.Errorf("epoll_wait: %v", err)
	}
	if s.interrupted.Load() {
		return session.ErrInterrupted
	}
	s.clearWake()
	sink.Tick(now - slack)
	return nil
}

// Drain delivers every record already in the rings, in time order, when a
// run ends (the command exited, Ctrl-C): they happened before the end.
func (s *Source) Drain(sink session.Sink) {
	for s.deliver(sink, ^uint64(0), batch) > 0 {
	}
}

// deliver merges the rings: it passes on records up to cutoff, oldest
// first, at most limit of them, then frees their space in the rings.
func (s *Source) deliver(sink session.Sink, cutoff uint64, limit int) int {
	for _, r := range s.rings {
		r.refresh()
		s.load(r)
	}
	n := 0
	for n < limit {
		var best *ring
		for _, r := range s.rings {
			if r.loaded && r.curTime <= cutoff && (best == nil || r.curTime < best.curTime) {
				best = r
			}
		}
		if best == nil {
			break
		}
		if best.curTime < s.lastTime {
			s.OutOfOrder++
		} else {
			s.lastTime = best.curTime
		}
		s.parser.Parse(best.cur, sink)
		best.tail += uint64(len(best.cur))
		best.loaded = false
		s.load(best)
		n++
	}
	for _, r := range s.rings {
		r.commit()
	}
	return n
}

// closePoll closes the poll set and the wake-up eventfd.
func (s *Source) closePoll() {
	if s.poll != nil {
		s.poll.close()
		s.poll = nil
	}
	if s.wakeFD >= 0 {
		unix.Close(s.wakeFD)
		s.wakeFD = -1
	}
}

// readyToRead reports, without a system call, whether Read should not
// sleep: a ring is at its wake-up watermark, or a wake-up or an interrupt
// was asked for. Below the watermark records wait for the poll timeout,
// so that a trickle of events is read in batches.
func (s *Source) readyToRead() bool {
	if s.interrupted.Load() || s.live.woken.Load() {
		return true
	}
	for _, r := range s.rings {
		if r.atWatermark() {
			return true
		}
	}
	return false
}

// load reads the record at r's tail and its time.
func (s *Source) load(r *ring) {
	if r.loaded {
		return
	}
	b, ok := r.peek()
	if !ok {
		s.parser.Stats.Malformed++
		r.skipAll()
		return
	}
	if b == nil {
		return
	}
	t, _ := s.parser.Time(b)
	r.cur, r.curTime, r.loaded = b, t, true
}

// Interrupt makes Read return session.ErrInterrupted soon.
func (s *Source) Interrupt() {
	s.interrupted.Store(true)
	if s.wakeFD >= 0 {
		var one = [8]byte{1}
		unix.Write(s.wakeFD, one[:])
	}
}

// Finish disables every event and reads how many samples each lost (Linux
// 6.0+), so the summary can say which probe lost what.
func (s *Source) Finish() {
	for _, fd := range s.fds {
		unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_DISABLE, 0)
	}
	var buf [16]byte
	for ev, fds := range s.evFDs {
		ev.Lost = 0
		for _, fd := range fds {
			if n, err := unix.Read(fd, buf[:]); err == nil && n == 16 {
				ev.Lost += le.Uint64(buf[8:])
			}
		}
	}
}

// Close closes every event, unmaps the rings and removes the uprobes it
// created.
func (s *Source) Close() error {
	s.live.wake.Store(0) // no Wake into a closed descriptor
	for _, fd := range s.fds {
		unix.Close(fd)
	}
	s.fds = nil
	for _, r := range s.rings {
		r.close()
	}
	s.rings = nil
	s.closePoll()
	if s.locked {
		runtime.UnlockOSThread()
		s.locked = false
	}
	return s.cat.close()
}
