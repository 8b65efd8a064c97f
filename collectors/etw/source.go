package etw

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"otrace/runtime/event"
	"otrace/runtime/filter"
	"otrace/runtime/session"
)

// ErrNeedsWindows is returned where live ETW tracing is asked for on
// another system.
var ErrNeedsWindows = errors.New("live ETW tracing needs Windows on amd64 or arm64; elsewhere, read a recording with --input")

// DefaultWindow is how long a live record waits before delivery: long
// enough for every CPU's ETW buffer holding earlier records to reach the
// consumer (the session flushes them every second) and for stack walks
// to follow their events.
const DefaultWindow = 1200 * time.Millisecond

// maxPending bounds the records held for ordering; past it the oldest are
// delivered whatever the window says.
const maxPending = 1 << 20

// batchSize is how many records one Read delivers at most.
const batchSize = 4096

// tickEvery bounds how long Read blocks without delivering.
const tickEvery = 100 * time.Millisecond

// Options configures a Source.
type Options struct {
	// Window is how long (in trace time) a record is held so that
	// earlier records from other CPUs and its stack walk can arrive; 0
	// means DefaultWindow. A record arriving later than that is delivered
	// out of order and counted (Stats.OutOfOrder).
	Window time.Duration
	// Notice reports what otrace did to the user.
	Notice func(string)
	// DevicePath turns the kernel's paths (\Device\HarddiskVolume3\...)
	// into the ones users know (C:\...); nil keeps them.
	DevicePath func(string) string
	// ImageID returns the identity of the image file at a path (its
	// CodeView record, symbols.ReadPEIdentity), recorded as the build-id
	// of the image's mapping so exports and later symbolization know
	// which build was loaded; nil records none. It is called while
	// records are decoded: it must be quick after the first call for a
	// path.
	ImageID func(path string) []byte
}

// Stats counts what a Source did with the records it received.
type Stats struct {
	Records   uint64 // EVENT_RECORDs received
	Delivered uint64 // records handed to handlers (one ETW record may feed several probes)
	Malformed uint64 // records that did not decode; FirstError says why
	NoSchema  uint64 // provider events TDH could not describe
	Ignored   uint64 // kernel event types otrace does not decode
	StacksMatched,
	StacksUnmatched uint64 // stack walks whose event was delivered already or never came
	OutOfOrder uint64 // records delivered after a later one (arrived past the window)
	Truncated  uint64 // variable fields dropped: the payload outgrew 64 KiB once decoded
	Lost       uint64 // RTLostEvent notifications and events the session dropped
	JITMethods uint64 // .NET methods announced (their code named for stacks)
	FirstError error
}

// platform is what a Source needs from where its records come from: the
// machine's ETW and TDH (live_windows.go), or a capture (capture.go).
type platform interface {
	// Providers lists registered providers.
	Providers() ([]ProviderInfo, error)
	// ManifestSchemas describes the manifest events of a provider, or
	// returns none when TDH cannot.
	ManifestSchemas(provider GUID) ([]*Schema, error)
	// EventInfo returns TRACE_EVENT_INFO bytes for the record being
	// ingested (called from ingest, during the record's callback).
	EventInfo(r *Record) ([]byte, error)
	// Start starts delivering records to s.ingest per the plan.
	Start(s *Source, p *Plan) error
	// Now is the current raw timestamp, or false when the records are
	// not live.
	Now() (int64, bool)
	// Flush makes records buffered in ETW reach the consumer.
	Flush()
	// Stop stops delivery and releases everything Start took; ingest is
	// not called once it returns.
	Stop() error
}

// Plan is what the sessions must enable for the probes that have
// handlers.
type Plan struct {
	// KernelFlags are the EVENT_TRACE_FLAG_* of the kernel session.
	KernelFlags uint32
	// StackEvents are the kernel events to collect stack walks for.
	StackEvents []ClassicEventID
	// ProfileInterval is the sampling interval in 100 ns units, 0 for
	// the system's default.
	ProfileInterval uint32
	// Providers are the user-mode providers to enable.
	Providers []ProviderEnable
	// Probes counts the probes with handlers; with none, no session is
	// needed.
	Probes int
}

// ClassicEventID names a kernel event: class and type (CLASSIC_EVENT_ID).
type ClassicEventID struct {
	Class  GUID
	Opcode uint8
}

// ProviderEnable is one EnableTraceEx2 call.
type ProviderEnable struct {
	Provider GUID
	Name     string
	Level    uint8
	Keywords uint64 // MatchAnyKeyword
	Stacks   bool   // EVENT_ENABLE_PROPERTY_STACK_TRACE
}

// Source is the ETW collector as a session.Source. Records arrive from
// the platform's goroutines (the ProcessTrace callbacks live, a reader
// for a capture) through ingest, are decoded there into normalized
// payloads, held in a time-ordered queue until the window passes, and are
// handed to the session by Read on its goroutine.
type Source struct {
	opts Options
	sys  platform
	cat  *catalog

	mu      sync.Mutex
	ing     ingestState
	queue   itemHeap
	free    []*item
	clk     clock
	maxSeen uint64 // latest record time received
	liveNow uint64 // latest clock reading
	lastOut uint64 // time of the latest record delivered
	seq     uint64
	ended   bool
	endErr  error
	stats   Stats
	started bool

	wake        chan struct{}
	stop        chan struct{}
	stopOnce    sync.Once
	interrupted atomic.Bool
	woken       atomic.Bool
	closed      bool
	timer       *time.Timer

	// Read's, on the session's goroutine.
	batch    []*item
	rec      event.Record
	chain    []uint64
	lastTick uint64
}

// Source also has Wake, for sessions changed while they run.
var (
	_ session.Source  = (*Source)(nil)
	_ session.Drainer = (*Source)(nil)
)

func newSource(sys platform, opts Options) *Source {
	s := &Source{opts: opts, sys: sys, wake: make(chan struct{}, 1), stop: make(chan struct{}), clk: clock{freq: 1e9}}
	s.cat = newCatalog(sys, opts.Notice)
	for i := range kernelEvents {
		// Formats are made here, once, so that ingest reads them without
		// racing the catalog.
		if _, err := s.cat.kernelFormat(&kernelEvents[i]); err != nil {
			panic(err) // the tables are otrace's own
		}
	}
	s.ing.init(s)
	return s
}

// Catalog implements session.Source.
func (s *Source) Catalog() session.Catalog { return s.cat }

// Stats returns the source's counts so far.
func (s *Source) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Truncated = s.ing.dec.Truncated
	return st
}

// Enable decides what the sessions must collect for events and starts
// them.
func (s *Source) Enable(events []*event.Event) error {
	if s.started {
		return errors.New("etw: the source cannot be enabled twice; start a new session")
	}
	p, err := s.ing.enable(events)
	if err != nil {
		return err
	}
	s.started = true
	if err := s.sys.Start(s, p); err != nil {
		return err
	}
	return nil
}

// setClock sets how raw timestamps become ns since the session started:
// freq ticks a second, start the raw time of the start.
func (s *Source) setClock(freq, start int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if freq <= 0 {
		freq = 1e9
	}
	s.clk = clock{freq: freq, start: start}
}

// ingest takes one record from the platform.
func (s *Source) ingest(r *Record) {
	s.mu.Lock()
	s.ing.record(r)
	s.mu.Unlock()
	s.signal()
}

// malformed counts a record the platform could not even parse.
func (s *Source) malformed(err error) {
	s.mu.Lock()
	s.ing.fail(err)
	s.mu.Unlock()
}

// lostEvents reports events a session dropped, at the current time.
func (s *Source) lostEvents(n uint64) {
	s.mu.Lock()
	t := max(s.maxSeen, s.lastOut)
	it := s.newItem(itemLost, t)
	it.lost = session.Lost{Time: t, Count: n}
	s.stats.Lost += n
	s.push(it)
	s.mu.Unlock()
	s.signal()
}

// endInput says no more records will come; err is why, if not the end of
// a capture.
func (s *Source) endInput(err error) {
	s.mu.Lock()
	s.ended = true
	if s.endErr == nil {
		s.endErr = err
	}
	s.mu.Unlock()
	s.signal()
}

func (s *Source) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// push queues an item; s.mu is held.
func (s *Source) push(it *item) {
	s.seq++
	it.seq = s.seq
	if it.time < s.lastOut {
		s.stats.OutOfOrder++
	}
	s.queue.push(it)
}

// newItem takes an item from the pool; s.mu is held.
func (s *Source) newItem(kind itemKind, t uint64) *item {
	var it *item
	if n := len(s.free); n > 0 {
		it = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		it = &item{}
	}
	raw, ks, us := it.raw[:0], it.kstack[:0], it.ustack[:0]
	*it = item{kind: kind, time: t, raw: raw, kstack: ks, ustack: us}
	return it
}

// window is how long records are held.
func (s *Source) window() uint64 {
	if s.opts.Window > 0 {
		return uint64(s.opts.Window)
	}
	return uint64(DefaultWindow)
}

// takeReady moves the items that may be delivered into s.batch; s.mu is
// held. all takes everything queued.
func (s *Source) takeReady(all bool) {
	mark := max(s.maxSeen, s.liveNow)
	win := s.window()
	for len(s.queue) > 0 && len(s.batch) < batchSize {
		top := s.queue[0]
		ready := all || s.ended || len(s.queue) > maxPending || top.time+win <= mark
		if !ready {
			return
		}
		s.queue.pop()
		s.ing.unwait(top)
		if top.time > s.lastOut {
			s.lastOut = top.time
		}
		s.batch = append(s.batch, top)
	}
}

// Read delivers the records whose window has passed.
func (s *Source) Read(sink session.Sink) error {
	if s.timer == nil {
		s.timer = time.NewTimer(tickEvery)
	} else {
		s.timer.Reset(tickEvery)
	}
	defer s.timer.Stop()
	for {
		if s.interrupted.Load() {
			return session.ErrInterrupted
		}
		if s.woken.Swap(false) {
			return nil
		}
		raw, live := s.sys.Now()
		s.mu.Lock()
		if live {
			s.liveNow = max(s.liveNow, s.clk.ns(raw))
		}
		s.takeReady(false)
		done := s.ended && len(s.queue) == 0
		endErr := s.endErr
		tick := s.lastOut
		if m := max(s.maxSeen, s.liveNow); live && m > s.window() {
			tick = max(tick, m-s.window())
		}
		s.mu.Unlock()
		if len(s.batch) > 0 {
			s.deliver(sink)
			return nil
		}
		if done {
			if endErr != nil {
				return endErr
			}
			return io.EOF
		}
		select {
		case <-s.wake:
		case <-s.stop:
			return session.ErrInterrupted
		case <-s.timer.C:
			if tick > s.lastTick {
				s.lastTick = tick
				sink.Tick(tick)
			}
			return nil
		}
	}
}

// Drain delivers everything the source holds, ETW's buffers flushed
// first, without waiting for the window.
func (s *Source) Drain(sink session.Sink) {
	s.sys.Flush()
	for {
		s.mu.Lock()
		s.takeReady(true)
		s.mu.Unlock()
		if len(s.batch) == 0 {
			return
		}
		s.deliver(sink)
	}
}

// deliver hands s.batch to the sink and returns the items to the pool.
func (s *Source) deliver(sink session.Sink) {
	for _, it := range s.batch {
		switch it.kind {
		case itemSample:
			if it.fill != nil && len(it.ev.Format.Fields) == 0 {
				*it.ev.Format = *it.fill
			}
			s.chain = s.chain[:0]
			if len(it.kstack) > 0 {
				s.chain = append(s.chain, event.ContextKernel)
				s.chain = append(s.chain, it.kstack...)
			}
			if len(it.ustack) > 0 {
				s.chain = append(s.chain, event.ContextUser)
				s.chain = append(s.chain, it.ustack...)
			}
			s.rec = event.Record{Event: it.ev, Time: it.time, CPU: it.cpu, PID: it.pid, TID: it.tid, Raw: it.raw, Callchain: s.chain}
			sink.Sample(&s.rec)
		case itemComm:
			sink.Comm(it.comm)
		case itemFork:
			sink.Fork(it.fork)
		case itemExit:
			sink.Exit(it.exit)
		case itemMmap:
			sink.Mmap(it.mmap)
		case itemLost:
			sink.Lost(it.lost)
		case itemJIT:
			if js, ok := sink.(jitSink); ok {
				js.JIT(it.jit)
			}
		}
	}
	s.mu.Lock()
	for i, it := range s.batch {
		if it.kind == itemSample {
			s.stats.Delivered++
		}
		it.ev, it.fill = nil, nil
		s.free = append(s.free, it)
		s.batch[i] = nil
	}
	s.batch = s.batch[:0]
	s.mu.Unlock()
}

// jitSink is a sink that takes JIT-compiled code (the Session does).
type jitSink interface {
	JIT(session.JITCode)
}

// Interrupt implements session.Source.
func (s *Source) Interrupt() {
	s.interrupted.Store(true)
	s.stopOnce.Do(func() { close(s.stop) })
}

// Wake cuts a blocked Read short (a session's Waker).
func (s *Source) Wake() {
	s.woken.Store(true)
	s.signal()
}

// Close stops the sessions; it may be called more than once.
func (s *Source) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.Interrupt()
	return s.sys.Stop()
}

// clock turns raw timestamps into ns since the session started.
type clock struct {
	freq, start int64
}

func (c clock) ns(t int64) uint64 {
	if t <= c.start {
		return 0
	}
	d := uint64(t - c.start)
	if c.freq == 1e9 {
		return d
	}
	hi, lo := bits.Mul64(d, 1e9)
	if hi >= uint64(c.freq) {
		return ^uint64(0) // centuries away: a corrupt timestamp
	}
	q, _ := bits.Div64(hi, lo, uint64(c.freq))
	return q
}

// specState is what ingest knows of one spec (one probe and its
// variants).
type specState struct {
	spec    *Spec
	format  *event.Format // the probe's format; the lazy one once known
	lazy    bool          // format is learnt from the first record
	learnt  *event.Format // the lazy format, installed into the events' at delivery
	targets []target
	stack   bool // some target wants stacks
	layouts map[*Schema]*layout
	// Offsets of a generic (etw:PROVIDER) format's fields.
	gID, gEvent, gData *event.Field
	gFixed             int
}

type target struct {
	ev    *event.Event
	match *filter.Filter
}

func newSpecState(sp *Spec, f *event.Format) *specState {
	ss := &specState{spec: sp, format: f, lazy: sp.lazy, layouts: map[*Schema]*layout{}}
	if sp.kernel == nil && sp.Selector == "" {
		ss.gID, ss.gEvent, ss.gData = f.Field("id"), f.Field("event"), f.Field("data")
		for _, fl := range f.Fields {
			ss.gFixed = max(ss.gFixed, fl.Offset+fl.Size)
		}
		ss.gFixed = alignUp(ss.gFixed, 8)
	}
	return ss
}

// profileInterval converts a sampling rate to ETW's interval in 100 ns
// units, within what Windows accepts (0.125 ms to 1 s).
func profileInterval(hz int) uint32 {
	const minInterval, maxInterval = 1221, 10_000_000
	if hz <= 0 {
		return 0
	}
	return uint32(min(max(10_000_000/hz, minInterval), maxInterval))
}

// planFor works out the sessions' settings for the specs.
func planFor(specs []*specState) (*Plan, error) {
	p := &Plan{KernelFlags: BaseKernelFlags, Probes: len(specs)}
	provs := map[GUID]int{}
	hz := 0
	stacks := false
	for _, ss := range specs {
		sp := ss.spec
		stacks = stacks || ss.stack
		if k := sp.kernel; k != nil {
			p.KernelFlags |= k.flags
			if ss.stack {
				id := ClassicEventID{Class: k.class, Opcode: k.opcode}
				dup := false
				for _, e := range p.StackEvents {
					dup = dup || e == id
				}
				if !dup {
					p.StackEvents = append(p.StackEvents, id)
				}
			}
			if sp.Hz != 0 {
				if hz != 0 && hz != sp.Hz {
					return nil, fmt.Errorf("etw: profile:hz:%d and profile:hz:%d: Windows samples every CPU at one rate; use one rate per run", hz, sp.Hz)
				}
				hz = sp.Hz
			}
			continue
		}
		i, ok := provs[sp.Provider]
		if !ok {
			i = len(p.Providers)
			provs[sp.Provider] = i
			p.Providers = append(p.Providers, ProviderEnable{Provider: sp.Provider, Name: sp.ProviderName})
		}
		e := &p.Providers[i]
		e.Level = max(e.Level, sp.Level)
		if sp.Level == 0 {
			e.Level = DefaultLevel
		}
		if sp.Keywords == 0 || (ok && e.Keywords == ^uint64(0)) {
			e.Keywords = ^uint64(0)
		} else {
			e.Keywords |= sp.Keywords
		}
		e.Stacks = e.Stacks || ss.stack
	}
	p.ProfileInterval = profileInterval(hz)
	if stacks {
		addDotNet(p)
	}
	return p, nil
}
