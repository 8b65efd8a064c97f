package etw

import (
	"encoding/binary"
	"fmt"

	"otrace/runtime/event"
	"otrace/runtime/filter"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// ingestState is what decoding records needs; the source's lock guards
// it.
type ingestState struct {
	s   *Source
	dec decoder

	kernel    map[kernelKey]*kernelEvent    // every kernel event otrace decodes
	kTargets  map[*kernelEvent][]*specState // kernel events with handlers
	providers map[GUID][]*specState         // provider events with handlers

	kLayouts  map[kernelVersion]*layout
	tdh       map[schemaKey]*Schema // nil value: TDH could not describe it
	tl        map[GUID]map[string]*Schema
	provNames map[GUID]string

	threads  map[uint32]uint32 // thread id -> process id
	stacks   map[int64]*item   // items waiting for a stack walk, by raw timestamp
	walk     StackWalk
	extStack []uint64
	method   MethodLoad
}

type kernelKey struct {
	class  GUID
	opcode uint8
}

type kernelVersion struct {
	k *kernelEvent
	v uint8
}

func (in *ingestState) init(s *Source) {
	in.s = s
	in.kernel = map[kernelKey]*kernelEvent{}
	for i := range kernelEvents {
		k := &kernelEvents[i]
		in.kernel[kernelKey{k.class, k.opcode}] = k
	}
	in.kTargets = map[*kernelEvent][]*specState{}
	in.providers = map[GUID][]*specState{}
	in.kLayouts = map[kernelVersion]*layout{}
	in.tdh = map[schemaKey]*Schema{}
	in.tl = map[GUID]map[string]*Schema{}
	in.provNames = map[GUID]string{}
	in.threads = map[uint32]uint32{}
	in.stacks = map[int64]*item{}
}

// enable groups events by spec (a probe and its filtered or stacked
// variants share one), compiles their filters and returns the plan.
func (in *ingestState) enable(events []*event.Event) (*Plan, error) {
	bySpec := map[*Spec]*specState{}
	var order []*specState
	for _, ev := range events {
		sp, ok := ev.Config.(*Spec)
		if !ok {
			return nil, fmt.Errorf("etw: Enable: %s is not an ETW event", ev.Name)
		}
		ss := bySpec[sp]
		if ss == nil {
			ss = newSpecState(sp, ev.Format)
			bySpec[sp] = ss
			order = append(order, ss)
		}
		t := target{ev: ev}
		if ev.Filter != "" {
			if len(ev.Format.Fields) == 0 {
				return nil, fmt.Errorf("%s: its fields are known only from its first event, so it cannot be filtered; test the fields in the handler", ev.Name)
			}
			f, err := filter.Compile(ev.Filter, ev.Format)
			if err != nil {
				return nil, fmt.Errorf("etw: %s: %w", ev.Name, err)
			}
			t.match = f
		}
		ss.stack = ss.stack || ev.Stack != event.NoStack
		ss.targets = append(ss.targets, t)
	}
	for _, ss := range order {
		if k := ss.spec.kernel; k != nil {
			in.kTargets[k] = append(in.kTargets[k], ss)
		} else {
			in.providers[ss.spec.Provider] = append(in.providers[ss.spec.Provider], ss)
			in.provNames[ss.spec.Provider] = ss.spec.ProviderName
		}
	}
	return planFor(order)
}

// fail counts a record that did not decode.
func (in *ingestState) fail(err error) {
	st := &in.s.stats
	st.Malformed++
	if st.FirstError == nil {
		st.FirstError = err
	}
}

// record decodes one record and queues what it yields.
func (in *ingestState) record(r *Record) {
	s := in.s
	s.stats.Records++
	t := s.clk.ns(r.Header.TimeStamp)
	s.maxSeen = max(s.maxSeen, t)
	h := &r.Header
	switch h.Provider {
	case StackWalkGUID:
		if h.Descriptor.Opcode == opStackWalk {
			in.stackWalk(r)
		}
		return
	case EventTraceGUID:
		return // the session's header and buffer bookkeeping
	case RTLostEventGUID:
		it := s.newItem(itemLost, t)
		it.lost = session.Lost{Time: t, CPU: uint32(r.CPU), Count: 1}
		s.stats.Lost++
		s.push(it)
		return
	}
	if isKernelClass(h.Provider) {
		if k := in.kernel[kernelKey{h.Provider, h.Descriptor.Opcode}]; k != nil {
			in.kernelRecord(r, k, t)
		} else {
			s.stats.Ignored++
		}
		return
	}
	if isMethodLoad(h) {
		in.dotnetMethod(r, t) // and to the probes on it, if any
	}
	if specs := in.providers[h.Provider]; specs != nil {
		in.providerRecord(r, specs, t)
	}
}

func isKernelClass(g GUID) bool {
	return g == PerfInfoGUID || g == ThreadGUID || g == ProcessGUID || g == ImageLoadGUID
}

// kernelLayout is the layout of kernel event k at version v, writing
// into the event's one format.
func (in *ingestState) kernelLayout(k *kernelEvent, v uint8) *layout {
	key := kernelVersion{k, v}
	if l, ok := in.kLayouts[key]; ok {
		return l
	}
	l := compileInto(kernelSchema(k, v), in.s.cat.kernelFormats[k])
	in.kLayouts[key] = l
	return l
}

func (in *ingestState) kernelRecord(r *Record, k *kernelEvent, t uint64) {
	h := &r.Header
	ptr := r.PointerSize()
	l := in.kernelLayout(k, h.Descriptor.Version)
	raw, err := l.decode(&in.dec, &h.Descriptor, r.UserData, ptr)
	if err != nil {
		in.fail(err)
		return
	}
	f := l.format
	pid, tid := headerIDs(h)
	stackTIDs := [3]uint32{h.ThreadID, h.ThreadID, h.ThreadID}
	switch k.class {
	case PerfInfoGUID: // SampledProfile
		v := u32(f, raw, "ThreadId")
		tid, pid = int32(v), in.pidOf(v)
		stackTIDs[1] = v
	case ThreadGUID:
		switch k.opcode {
		case opCSwitch:
			nt, ot := u32(f, raw, "NewThreadId"), u32(f, raw, "OldThreadId")
			tid, pid = int32(nt), in.pidOf(nt)
			stackTIDs[1], stackTIDs[2] = nt, ot
		case opReadyThread:
			if pid < 0 && tid >= 0 {
				pid = in.pidOf(uint32(tid))
			}
		default:
			in.thread(k, f, raw, t)
			p, th := u32(f, raw, "ProcessId"), u32(f, raw, "TThreadId")
			pid, tid = int32(p), int32(th)
		}
	case ProcessGUID:
		in.process(k, f, raw, t)
		pid = int32(u32(f, raw, "ProcessId"))
	case ImageLoadGUID:
		in.image(k, f, raw, t)
		pid = int32(u32(f, raw, "ProcessId"))
	}
	if pid < 0 && tid >= 0 {
		pid = in.pidOf(uint32(tid))
	}
	for _, ss := range in.kTargets[k] {
		in.emit(ss, nil, raw, r, t, pid, tid, stackTIDs)
	}
}

// emit queues one sample per target of ss that passes its filter.
func (in *ingestState) emit(ss *specState, fill *event.Format, raw []byte, r *Record, t uint64, pid, tid int32, stackTIDs [3]uint32) {
	s := in.s
	for _, tg := range ss.targets {
		if tg.match != nil && !tg.match.Match(raw) {
			continue
		}
		it := s.newItem(itemSample, t)
		it.ev, it.fill = tg.ev, fill
		it.cpu, it.pid, it.tid = uint32(r.CPU), pid, tid
		it.raw = append(it.raw, raw...)
		if tg.ev.Stack != event.NoStack {
			if ss.spec.kernel != nil {
				it.stamp, it.stackTIDs = r.Header.TimeStamp, stackTIDs
				in.wait(it)
			} else {
				in.attachExtStack(it, r)
			}
		}
		s.push(it)
	}
}

// headerIDs reads the header's process and thread, -1 when it has none.
func headerIDs(h *Header) (pid, tid int32) {
	pid, tid = int32(h.ProcessID), int32(h.ThreadID)
	if h.ProcessID == ^uint32(0) {
		pid = -1
	}
	if h.ThreadID == ^uint32(0) {
		tid = -1
	}
	return pid, tid
}

// pidOf is the process of a thread from the thread events seen, -1 when
// unknown. Thread 0 is the idle thread of process 0.
func (in *ingestState) pidOf(tid uint32) int32 {
	if tid == 0 {
		return 0
	}
	if p, ok := in.threads[tid]; ok {
		return int32(p)
	}
	return -1
}

func u32(f *event.Format, raw []byte, name string) uint32 {
	if fl := f.Field(name); fl != nil {
		v, _ := fl.Uint(raw)
		return uint32(v)
	}
	return 0
}

func u64(f *event.Format, raw []byte, name string) uint64 {
	if fl := f.Field(name); fl != nil {
		v, _ := fl.Uint(raw)
		return v
	}
	return 0
}

func str(f *event.Format, raw []byte, name string) string {
	if fl := f.Field(name); fl != nil {
		b, _ := fl.Str(raw)
		return string(b)
	}
	return ""
}

// thread feeds thread start and end to the thread map and the process
// model.
func (in *ingestState) thread(k *kernelEvent, f *event.Format, raw []byte, t uint64) {
	s := in.s
	pid, tid := u32(f, raw, "ProcessId"), u32(f, raw, "TThreadId")
	switch k.opcode {
	case opStart, opDCStart:
		in.threads[tid] = pid
		if k.opcode == opStart {
			it := s.newItem(itemFork, t)
			it.fork = process.Fork{Time: t, PID: int32(pid), TID: int32(tid), PPID: int32(pid), PTID: -1}
			s.push(it)
		}
	case opEnd:
		delete(in.threads, tid)
		it := s.newItem(itemExit, t)
		it.exit = process.Exit{Time: t, PID: int32(pid), TID: int32(tid)}
		s.push(it)
	}
}

// process feeds process events to the process model: a start is a fork
// and an exec (Windows creates a process with a new image), a rundown
// names a process that already ran.
func (in *ingestState) process(k *kernelEvent, f *event.Format, raw []byte, t uint64) {
	s := in.s
	pid, ppid := int32(u32(f, raw, "ProcessId")), int32(u32(f, raw, "ParentId"))
	switch k.opcode {
	case opStart:
		it := s.newItem(itemFork, t)
		it.fork = process.Fork{Time: t, PID: pid, TID: pid, PPID: ppid, PTID: ppid}
		s.push(it)
		it = s.newItem(itemComm, t)
		it.comm = process.Comm{Time: t, PID: pid, TID: pid, Comm: str(f, raw, "ImageFileName"), Exec: true}
		s.push(it)
	case opDCStart:
		it := s.newItem(itemComm, t)
		it.comm = process.Comm{Time: t, PID: pid, TID: pid, Comm: str(f, raw, "ImageFileName")}
		s.push(it)
	case opEnd:
		it := s.newItem(itemExit, t)
		it.exit = process.Exit{Time: t, PID: pid, TID: pid}
		s.push(it)
	}
}

// image feeds image loads (and the rundown of loaded images) to the
// process model as executable mappings.
func (in *ingestState) image(k *kernelEvent, f *event.Format, raw []byte, t uint64) {
	if k.opcode != opImageLoad && k.opcode != opDCStart {
		return
	}
	s := in.s
	path := str(f, raw, "FileName")
	if s.opts.DevicePath != nil {
		path = s.opts.DevicePath(path)
	}
	it := s.newItem(itemMmap, t)
	it.mmap = process.Mmap{Time: t, PID: int32(u32(f, raw, "ProcessId")), Start: u64(f, raw, "ImageBase"),
		Len: u64(f, raw, "ImageSize"), Prot: 5, Path: path} // PROT_READ|PROT_EXEC
	if s.opts.ImageID != nil {
		it.mmap.BuildID = s.opts.ImageID(path)
	}
	s.push(it)
}

// wait registers an item for the stack walk that follows its event.
func (in *ingestState) wait(it *item) {
	it.waiting = true
	it.nextSame = in.stacks[it.stamp]
	in.stacks[it.stamp] = it
}

// unwait forgets an item being delivered: a stack walk arriving later has
// nowhere to go.
func (in *ingestState) unwait(it *item) {
	if !it.waiting {
		return
	}
	it.waiting = false
	p := in.stacks[it.stamp]
	if p == it {
		if it.nextSame == nil {
			delete(in.stacks, it.stamp)
		} else {
			in.stacks[it.stamp] = it.nextSame
		}
		it.nextSame = nil
		return
	}
	for ; p != nil; p = p.nextSame {
		if p.nextSame == it {
			p.nextSame = it.nextSame
			break
		}
	}
	it.nextSame = nil
}

// stackWalk attaches a StackWalk event's addresses to the events it
// belongs to: those stamped with its EventTimeStamp on its thread. The
// kernel and user parts may come as separate walks.
func (in *ingestState) stackWalk(r *Record) {
	s := in.s
	ptr := r.PointerSize()
	if err := ParseStackWalk(r.UserData, ptr, &in.walk); err != nil {
		in.fail(err)
		return
	}
	matched := false
	for it := in.stacks[in.walk.EventTimeStamp]; it != nil; it = it.nextSame {
		th := in.walk.StackThread
		if it.stackTIDs[0] != th && it.stackTIDs[1] != th && it.stackTIDs[2] != th {
			continue
		}
		matched = true
		for _, a := range in.walk.Stack {
			if isKernelAddress(a, ptr) {
				it.kstack = append(it.kstack, a)
			} else {
				it.ustack = append(it.ustack, a)
			}
		}
	}
	if matched {
		s.stats.StacksMatched++
	} else {
		s.stats.StacksUnmatched++
	}
}

// attachExtStack takes a provider event's stack from its STACK_TRACE
// extended item.
func (in *ingestState) attachExtStack(it *item, r *Record) {
	for _, x := range r.Extended {
		ptr := 0
		switch x.Type {
		case ExtStackTrace64:
			ptr = 8
		case ExtStackTrace32:
			ptr = 4
		default:
			continue
		}
		_, addrs, err := StackTrace(x.Data, ptr, in.extStack[:0])
		in.extStack = addrs
		if err != nil {
			in.fail(err)
			continue
		}
		for _, a := range addrs {
			if isKernelAddress(a, ptr) {
				it.kstack = append(it.kstack, a)
			} else {
				it.ustack = append(it.ustack, a)
			}
		}
	}
}

// providerRecord decodes a user-mode provider's record for each probe on
// that provider it matches.
func (in *ingestState) providerRecord(r *Record, specs []*specState, t uint64) {
	h := &r.Header
	pid, tid := headerIDs(h)
	var sc *Schema
	looked := false
	for _, ss := range specs {
		if !ss.spec.passes(&h.Descriptor) {
			continue
		}
		if !looked {
			sc, looked = in.schema(r), true
		}
		if ss.spec.Selector == "" {
			in.emit(ss, nil, in.generic(ss, r, sc), r, t, pid, tid, [3]uint32{})
			continue
		}
		if sc == nil {
			in.s.stats.NoSchema++
			continue
		}
		if !ss.spec.matchesSchema(sc) {
			continue
		}
		l, fill := in.providerLayout(ss, sc)
		if l == nil {
			continue
		}
		raw, err := l.decode(&in.dec, &h.Descriptor, r.UserData, r.PointerSize())
		if err != nil {
			in.fail(err)
			continue
		}
		in.emit(ss, fill, raw, r, t, pid, tid, [3]uint32{})
	}
}

// providerLayout is the layout decoding schema sc into ss's format. For
// a probe whose fields come with its first record, the first schema
// defines the format, returned as fill until the events have it.
func (in *ingestState) providerLayout(ss *specState, sc *Schema) (*layout, *event.Format) {
	if l, ok := ss.layouts[sc]; ok {
		return l, ss.learnt
	}
	var l *layout
	switch {
	case !ss.lazy:
		l = compileInto(sc, ss.format)
	case ss.learnt == nil:
		var err error
		if l, err = compile(sc, ss.format.System, ss.format.Name); err != nil {
			in.fail(err)
			ss.layouts[sc] = nil
			return nil, nil
		}
		ss.learnt = l.format
	default:
		l = compileInto(sc, ss.learnt)
	}
	ss.layouts[sc] = l
	return l, ss.learnt
}

// schema describes a provider record: from its TraceLogging metadata, or
// from TDH (cached per provider, id or opcode, and version).
func (in *ingestState) schema(r *Record) *Schema {
	h := &r.Header
	if meta, ok := r.Ext(ExtEventSchemaTL); ok {
		byMeta := in.tl[h.Provider]
		if byMeta == nil {
			byMeta = map[string]*Schema{}
			in.tl[h.Provider] = byMeta
		}
		if sc, ok := byMeta[string(meta)]; ok {
			return sc
		}
		sc, err := ParseTraceLogging(meta, h.Provider, h.Descriptor)
		if err != nil {
			in.fail(err)
		} else {
			sc.ProviderName = in.provNames[h.Provider]
			if traits, ok := r.Ext(ExtProvTraits); ok {
				if n := providerTraitsName(traits); n != "" {
					sc.ProviderName = n
				}
			}
		}
		byMeta[string(meta)] = sc
		return sc
	}
	key := keyOf(h)
	if sc, ok := in.tdh[key]; ok {
		return sc
	}
	b, err := in.s.sys.EventInfo(r)
	var sc *Schema
	if err == nil {
		sc, err = ParseEventInfo(b)
	}
	if err != nil {
		if in.s.stats.FirstError == nil {
			in.s.stats.FirstError = fmt.Errorf("etw: no schema for %v: %w", key, err)
		}
	}
	in.tdh[key] = sc
	return sc
}

// generic builds the payload of an etw:PROVIDER event: the descriptor,
// the event's id and name, and its payload as bytes.
func (in *ingestState) generic(ss *specState, r *Record, sc *Schema) []byte {
	d := &in.dec
	h := &r.Header
	if cap(d.out) < ss.gFixed {
		d.out = make([]byte, ss.gFixed, max(ss.gFixed, 1024))
	}
	d.out = d.out[:ss.gFixed]
	clear(d.out)
	desc := &h.Descriptor
	le := binary.LittleEndian
	le.PutUint16(d.out[0:], desc.ID)
	d.out[2], d.out[3], d.out[4], d.out[5] = desc.Version, desc.Channel, desc.Level, desc.Opcode
	le.PutUint16(d.out[6:], desc.Task)
	le.PutUint64(d.out[8:], desc.Keyword)
	if ss.gID != nil {
		le.PutUint16(d.out[ss.gID.Offset:], desc.ID)
	}
	if ss.gEvent != nil {
		at := len(d.out)
		if sc != nil {
			d.out = append(d.out, sc.Name()...)
		}
		d.out = append(d.out, 0)
		putLoc(d, ss.gEvent.Offset, at)
	}
	if ss.gData != nil {
		at := len(d.out)
		d.out = append(d.out, r.UserData...)
		putLoc(d, ss.gData.Offset, at)
	}
	return d.out
}

// putLoc writes the locator of d.out[at:] at off, or drops the data when
// a locator cannot address it.
func putLoc(d *decoder, off, at int) {
	size := len(d.out) - at
	if at > maxLoc || size > maxLoc {
		d.Truncated++
		d.out = d.out[:at]
		return
	}
	binary.LittleEndian.PutUint32(d.out[off:], uint32(size)<<16|uint32(at))
}
