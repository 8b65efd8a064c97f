//go:build windows && (amd64 || arm64)

package etw

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// NewLive returns the live ETW collector: Enable starts a private kernel
// session (a system logger on Windows 8 and later, the NT Kernel Logger
// before) for process, thread, image, sampling and scheduler events, and
// a session for the user-mode providers probes name; Close stops them.
// Starting sessions needs an elevated prompt.
func NewLive(opts LiveOptions) (*Source, error) {
	if opts.BufferKB == 0 {
		opts.BufferKB = 1024
	}
	if opts.DevicePath == nil {
		opts.DevicePath = devicePaths(dosDevices(), os.Getenv("SystemRoot"))
	}
	if opts.ImageID == nil {
		opts.ImageID = imageIDs(openImage)
	}
	p := &livePlatform{opts: opts, pid: windows.GetCurrentProcessId(), schemas: map[GUID][]*Schema{}}
	return newSource(p, opts.Options), nil
}

// Providers lists the providers registered on this machine.
func Providers() ([]ProviderInfo, error) {
	b, err := tdhEnumerateProviders()
	if err != nil {
		return nil, fmt.Errorf("etw: listing providers: %w", err)
	}
	return ParseProviderEnumeration(b)
}

// dosDevices maps each drive letter to its device ("C:" ->
// \Device\HarddiskVolume3).
func dosDevices() map[string]string {
	out := map[string]string{}
	buf := make([]uint16, 512)
	n, err := windows.GetLogicalDriveStrings(uint32(len(buf)), &buf[0])
	if err != nil {
		return out
	}
	for _, root := range splitMulti(buf[:n]) { // "C:\"
		drive := root
		if len(drive) > 2 {
			drive = drive[:2]
		}
		d16, _ := windows.UTF16PtrFromString(drive)
		target := make([]uint16, 1024)
		if m, err := windows.QueryDosDevice(d16, &target[0], uint32(len(target))); err == nil && m > 0 {
			if dev := splitMulti(target[:m]); len(dev) > 0 {
				out[drive] = dev[0]
			}
		}
	}
	return out
}

// openImage opens an image file for reading its headers. A path the
// drive letters did not translate still opens through the GLOBALROOT
// link to the kernel's device names.
func openImage(path string) (*os.File, error) {
	if strings.HasPrefix(path, `\Device\`) {
		path = `\\?\GLOBALROOT` + path
	}
	return os.Open(path)
}

// splitMulti splits a NUL-separated, double-NUL-terminated UTF-16 list.
func splitMulti(b []uint16) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			if i > start {
				out = append(out, windows.UTF16ToString(b[start:i]))
			}
			start = i + 1
		}
	}
	return out
}

// livePlatform runs the ETW sessions of one Source.
type livePlatform struct {
	opts LiveOptions
	pid  uint32
	src  *Source

	mu        sync.Mutex
	sessions  []*etwSession
	consumers []*consumer
	capture   *CaptureWriter
	capMu     sync.Mutex
	oldRate   uint32
	rateSet   bool
	schemas   map[GUID][]*Schema
	done      chan struct{}
	stopped   bool
	lastLost  map[*etwSession]uint32
	watchDone chan struct{}
}

// Providers implements platform.
func (p *livePlatform) Providers() ([]ProviderInfo, error) { return Providers() }

// ManifestSchemas describes a provider's manifest events through TDH
// (Windows 10 1709 and later); nil when TDH knows no manifest for it.
func (p *livePlatform) ManifestSchemas(provider GUID) ([]*Schema, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.schemas[provider]; ok {
		return s, nil
	}
	var out []*Schema
	g := provider
	b, err := tdhManifestEvents(&g)
	if err == nil {
		descs, perr := ParseProviderEvents(b)
		if perr == nil {
			for _, d := range descs {
				var raw [16]byte
				copy(raw[:], appendDescriptor(nil, d))
				info, err := tdhManifestEventInformation(&g, &raw)
				if err != nil {
					continue
				}
				if s, err := ParseEventInfo(info); err == nil {
					out = append(out, s)
				}
			}
		}
	}
	p.schemas[provider] = out
	return out, nil
}

// EventInfo asks TDH about a record during its callback.
func (p *livePlatform) EventInfo(r *Record) ([]byte, error) {
	if r.native == nil {
		return nil, errors.New("etw: the record is no longer in its callback")
	}
	b, err := tdhEventInformation(r.native)
	if err == nil && p.capture != nil {
		p.capMu.Lock()
		p.capture.EventInfo(r, b)
		p.capMu.Unlock()
	}
	return b, err
}

// Start starts the sessions and their consumers.
func (p *livePlatform) Start(s *Source, plan *Plan) (err error) {
	p.src = s
	freq, start := queryPerformanceFrequency(), queryPerformanceCounter()
	s.setClock(freq, start)
	if p.opts.Capture != nil {
		if p.capture, err = NewCaptureWriter(p.opts.Capture); err != nil {
			return fmt.Errorf("etw: capture: %w", err)
		}
		p.capture.Clock(freq, start)
	}
	stopLeftovers(s.opts.Notice)
	if plan.Probes == 0 {
		return nil // timers only: the clock runs without a session
	}
	defer func() {
		if err != nil {
			p.Stop()
		}
	}()

	if plan.KernelFlags&FlagProfile != 0 {
		if err := enablePrivilege("SeSystemProfilePrivilege"); err != nil {
			return fmt.Errorf("etw: CPU sampling: %w", err)
		}
	}
	if plan.ProfileInterval != 0 {
		old, err := setProfileInterval(plan.ProfileInterval)
		if err != nil {
			return err
		}
		p.oldRate, p.rateSet = old, true
	}

	name, guid, mode := kernelLoggerName, SystemTraceControlGUID, uint32(0)
	if systemLoggerAvailable() {
		name = fmt.Sprintf("%s%d-kernel", sessionPrefix, p.pid)
		guid, mode = ProviderGUIDFromName(name), eventTraceSystemLoggerMode
	}
	ks, err := startSession(name, guid, mode, plan.KernelFlags, p.opts.BufferKB)
	if err != nil {
		return err
	}
	p.add(ks)
	if err := ks.enableStacks(plan.StackEvents); err != nil {
		return err
	}
	if len(plan.Providers) > 0 {
		uname := fmt.Sprintf("%s%d-user", sessionPrefix, p.pid)
		us, err := startSession(uname, ProviderGUIDFromName(uname), 0, 0, p.opts.BufferKB)
		if err != nil {
			return err
		}
		p.add(us)
		for _, pe := range plan.Providers {
			if err := us.enableProvider(pe); err != nil {
				return err
			}
		}
	}
	p.lastLost = map[*etwSession]uint32{}
	p.watchDone = make(chan struct{})
	p.done = make(chan struct{})
	go p.watchLoss()
	for _, es := range p.sessions {
		if err := p.consume(es); err != nil {
			return err
		}
	}
	return nil
}

func (p *livePlatform) add(s *etwSession) {
	p.mu.Lock()
	p.sessions = append(p.sessions, s)
	p.mu.Unlock()
}

// watchLoss reports, every second, events the sessions dropped because
// their buffers were full.
func (p *livePlatform) watchLoss() {
	defer close(p.watchDone)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		for _, es := range p.sessions {
			n, err := es.eventsLost()
			if err != nil || n <= p.lastLost[es] {
				continue
			}
			p.src.lostEvents(uint64(n - p.lastLost[es]))
			p.lastLost[es] = n
		}
	}
}

// Now is the session clock's current value.
func (p *livePlatform) Now() (int64, bool) { return queryPerformanceCounter(), true }

// Flush makes ETW hand over its partly filled buffers, then gives the
// consumers a moment to take them.
func (p *livePlatform) Flush() {
	for _, es := range p.sessions {
		es.flush()
	}
	time.Sleep(200 * time.Millisecond)
}

// Stop stops the sessions (on every exit path: Close, a failed Start),
// waits for the consumers and restores the sampling interval.
func (p *livePlatform) Stop() error {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return nil
	}
	p.stopped = true
	p.mu.Unlock()
	if p.done != nil {
		close(p.done)
		<-p.watchDone
	}
	var errs []error
	for _, es := range p.sessions {
		if err := es.stop(); err != nil {
			errs = append(errs, fmt.Errorf("etw: stopping session %s: %w", es.name, err))
		}
	}
	for _, c := range p.consumers {
		c.close()
	}
	if p.rateSet {
		restoreProfileInterval(p.oldRate)
	}
	return errors.Join(errs...)
}

// consumer runs ProcessTrace for one real-time session on a locked OS
// thread; its callback hands each record to the source.
type consumer struct {
	p      *livePlatform
	name   string
	handle uint64
	id     uintptr
	rec    Record
	done   chan struct{}
}

// consumers maps EVENT_TRACE_LOGFILEW.Context to its consumer. Windows
// callbacks cannot carry a Go pointer, and syscall.NewCallback makes a
// limited number of callbacks that are never freed, so there is one
// callback for the process and this table behind it.
var (
	consumersMu   sync.Mutex
	consumersByID = map[uintptr]*consumer{}
	nextConsumer  uintptr
	callbackOnce  sync.Once
	callbackFn    uintptr
)

func eventRecordCallback(rec *byte) uintptr {
	raw := unsafe.Slice(rec, RecordSize)
	id := uintptr(binary.LittleEndian.Uint64(raw[104:])) // UserContext
	consumersMu.Lock()
	c := consumersByID[id]
	consumersMu.Unlock()
	if c != nil {
		c.event(unsafe.Pointer(rec), raw)
	}
	return 0
}

// consume opens a session for reading and starts its ProcessTrace.
func (p *livePlatform) consume(es *etwSession) error {
	callbackOnce.Do(func() { callbackFn = syscall.NewCallback(eventRecordCallback) })
	c := &consumer{p: p, name: es.name, done: make(chan struct{})}
	consumersMu.Lock()
	nextConsumer++
	c.id = nextConsumer
	consumersByID[c.id] = c
	consumersMu.Unlock()

	name16, _ := windows.UTF16PtrFromString(es.name)
	lf := &eventTraceLogfile{
		LoggerName:          name16,
		ProcessTraceMode:    processTraceModeRealTime | processTraceModeEventRec | processTraceModeRawTime,
		EventRecordCallback: callbackFn,
		Context:             c.id,
	}
	h, err := openTrace(lf)
	if err != nil {
		c.unregister()
		return fmt.Errorf("etw: opening session %s: %w", es.name, err)
	}
	c.handle = h
	p.mu.Lock()
	p.consumers = append(p.consumers, c)
	p.mu.Unlock()
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer close(c.done)
		err := processTrace(&c.handle)
		runtime.KeepAlive(lf)
		p.mu.Lock()
		stopped := p.stopped
		p.mu.Unlock()
		switch {
		case err != nil:
			p.src.endInput(fmt.Errorf("etw: reading session %s: %w", c.name, err))
		case !stopped:
			p.src.endInput(fmt.Errorf("etw: session %s was stopped by another program", c.name))
		}
	}()
	return nil
}

// event decodes one record during its callback.
func (c *consumer) event(p unsafe.Pointer, raw []byte) {
	if err := ParseRecord(raw, processMemory{}, &c.rec); err != nil {
		c.p.src.malformed(err)
		return
	}
	if cw := c.p.capture; cw != nil {
		c.p.capMu.Lock()
		cw.Record(&c.rec)
		c.p.capMu.Unlock()
	}
	c.rec.native = p
	c.p.src.ingest(&c.rec)
	c.rec.native = nil
}

// close ends ProcessTrace (the session was stopped) and waits for it.
func (c *consumer) close() {
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		closeTrace(c.handle) // the stop did not end it: force it
		<-c.done
	}
	closeTrace(c.handle)
	c.unregister()
}

func (c *consumer) unregister() {
	consumersMu.Lock()
	delete(consumersByID, c.id)
	consumersMu.Unlock()
}
