package host

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/d5/tengo/v2"

	"otrace/runtime/event"
)

// The watchdog looks at the running call every tenth of its time limit,
// within these bounds: an idle tracer then wakes 10 times a second with
// the default 1 s limit, not 100 (each wake-up of a Go program that also
// blocks in epoll_wait costs tens of µs of scheduler hand-offs), and a call
// is stopped at most 10% past its limit.
const (
	minWatchTick = 10 * time.Millisecond
	maxWatchTick = 100 * time.Millisecond
)

// watchTickFor is the watchdog's period for a time limit.
func watchTickFor(limit time.Duration) time.Duration {
	return min(max(limit/10, minWatchTick), maxWatchTick)
}

// Why a call was aborted.
const (
	abortTimeout int32 = iota + 1
	abortInterrupt
)

// watchdog aborts a call that runs longer than its limit. The dispatch
// goroutine bumps seq before and after each outermost call (odd while one
// runs); a ticker goroutine that sees the same odd seq for longer than the
// limit aborts the VM running now. A tick that finds no call made since the
// last one parks the ticker until the next call: an idle tracer does not
// wake up for it. Cost per call: two atomic adds and an atomic load.
type watchdog struct {
	seq     atomic.Uint64
	vm      atomic.Pointer[tengo.VM]
	limit   atomic.Int64 // of the running call, as a time.Duration
	aborted atomic.Uint64
	reason  atomic.Int32
	parked  atomic.Bool
	unpark  chan struct{} // one token: a call started while parked
	stop    chan struct{}
	once    sync.Once

	// Owned by the dispatch goroutine.
	cur    *tengo.VM
	nest   int
	limit0 time.Duration // the limit last stored
}

func newWatchdog() *watchdog {
	d := &watchdog{stop: make(chan struct{}), unpark: make(chan struct{}, 1)}
	d.limit.Store(int64(time.Second))
	go d.watch()
	return d
}

func (d *watchdog) watch() {
	tick := watchTickFor(time.Duration(d.limit.Load()))
	t := time.NewTicker(tick)
	defer t.Stop()
	var last uint64
	var since time.Time // when seq last was first seen
	for {
		select {
		case <-d.stop:
			return
		case now := <-t.C:
			limit := time.Duration(d.limit.Load())
			if nt := watchTickFor(limit); nt != tick {
				tick = nt
				t.Reset(tick)
			}
			s := d.seq.Load()
			if s%2 == 0 && s == last && !d.park(t, s) {
				return
			}
			if s%2 == 0 || s != last {
				last, since = s, now
				continue
			}
			if now.Sub(since) >= limit && d.aborted.Load() != s {
				d.abort(s, abortTimeout)
			}
		}
	}
}

// park stops the ticker t until a call starts after seq s (or the watchdog
// is closed: false). Parked is set before seq is looked at again, and a
// call bumps seq before it looks at parked: one of the two sees the other.
func (d *watchdog) park(t *time.Ticker, s uint64) bool {
	t.Stop()
	d.parked.Store(true)
	if d.seq.Load() == s {
		select {
		case <-d.stop:
			return false
		case <-d.unpark:
		}
	}
	d.parked.Store(false)
	t.Reset(watchTickFor(time.Duration(d.limit.Load())))
	return true
}

// started is called by each outermost call after it bumped seq: it wakes
// a parked ticker.
func (d *watchdog) started() {
	if d.parked.Load() {
		select {
		case d.unpark <- struct{}{}:
		default:
		}
	}
}

// abort marks call s aborted, then aborts the VM running it. The mark comes
// first so the call's guard reports it.
func (d *watchdog) abort(s uint64, why int32) {
	d.reason.Store(why)
	d.aborted.Store(s)
	if vm := d.vm.Load(); vm != nil && d.seq.Load() == s {
		vm.Abort()
	}
}

func (d *watchdog) interrupt() {
	if s := d.seq.Load(); s%2 == 1 {
		d.abort(s, abortInterrupt)
	}
}

func (d *watchdog) close() { d.once.Do(func() { close(d.stop) }) }

// guard runs one VM run under the watchdog with panics recovered, and
// turns every way it can fail into an *event.HandlerError. fn is the
// function called (nil for the top level): its position stands in when
// Tengo gives none. The outermost call on the current VM, the case of
// every handler, takes the short path: two atomic adds and a defer.
func (s *Script) guard(vm *tengo.VM, limit time.Duration, fn tengo.Object, run func() error) error {
	d := s.dog
	if d.nest == 0 && vm == d.cur {
		return s.guardOuter(vm, limit, fn, run)
	}
	return s.guardNested(vm, limit, fn, run)
}

func (s *Script) guardOuter(vm *tengo.VM, limit time.Duration, fn tengo.Object, run func() error) (err error) {
	d := s.dog
	if limit != d.limit0 {
		d.limit0 = limit
		d.limit.Store(int64(limit))
	}
	seq := d.seq.Add(1)
	d.started()
	d.nest = 1
	defer func() {
		d.nest = 0
		if r := recover(); r != nil {
			err = panicError(r, s.where(fn))
		}
		d.seq.Add(1)
		if d.aborted.Load() == seq {
			err = abortError(d.reason.Load(), limit, s.where(fn))
		}
	}()
	return s.runError(run())
}

// guardNested runs a call made while another runs (a Go builtin calling
// back into the script), or the first call on a new VM.
func (s *Script) guardNested(vm *tengo.VM, limit time.Duration, fn tengo.Object, run func() error) (err error) {
	d := s.dog
	prev := d.cur
	if vm != prev {
		d.vm.Store(vm)
		d.cur = vm
	}
	if d.nest == 0 {
		return s.guardOuter(vm, limit, fn, run)
	}
	d.nest++
	defer func() {
		d.nest--
		if r := recover(); r != nil {
			err = panicError(r, s.where(fn))
		}
		if prev != vm {
			d.cur = prev
			d.vm.Store(prev)
		}
		if d.aborted.Load() == d.seq.Load() {
			// An abort of the outermost call stopped this nested VM, whose
			// Run then returned nil: fail, so that this VM is replaced and
			// the caller stops too (the watchdog aborts a call only once).
			// Checked after the switch back, so an abort that found this
			// VM still current was marked before this check.
			err = abortError(d.reason.Load(), limit, s.where(fn))
		}
	}()
	return s.runError(run())
}

// runError turns a VM's error into a HandlerError.
func (s *Script) runError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, tengo.ErrObjectAllocLimit) {
		he := runtimeError(err)
		he.Msg = fmt.Sprintf("allocated more than %d objects in one call and was stopped (raise --max-allocs)", s.opts.MaxAllocs)
		return he
	}
	return runtimeError(err)
}

// where is the position of fn's start, or of the script's start.
func (s *Script) where(fn tengo.Object) string {
	if cf, ok := fn.(*tengo.CompiledFunction); ok {
		if p := s.Position(cf); p != "" {
			return p
		}
	}
	return s.opts.File + ":1:1"
}

func abortError(why int32, limit time.Duration, where string) *event.HandlerError {
	if why == abortInterrupt {
		return &event.HandlerError{Msg: "interrupted", Pos: where}
	}
	return &event.HandlerError{Msg: fmt.Sprintf("ran longer than %v and was stopped (raise --handler-timeout)", limit), Pos: where}
}
