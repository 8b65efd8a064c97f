package perf

import (
	"slices"

	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// This file builds perf ring records byte for byte as the kernel writes
// them (include/uapi/linux/perf_event.h): a perf_event_header {u32 type;
// u16 misc; u16 size}, the record's body, and for every record but SAMPLE
// the sample_id trailer of sample_type TID|TIME|CPU|IDENTIFIER. Records are
// 8-byte aligned; strings are NUL-terminated and zero-padded to 8 bytes.

// Callchain context markers (enum perf_callchain_context).
const (
	ctxHV          = ^uint64(32) + 1
	ctxKernel      = ^uint64(128) + 1
	ctxUser        = ^uint64(512) + 1
	ctxGuest       = ^uint64(2048) + 1
	ctxGuestKernel = ^uint64(2176) + 1
	ctxGuestUser   = ^uint64(2560) + 1
	ctxMax         = ^uint64(4095) + 1
)

// Header misc values the kernel sets on samples and side-band records.
const (
	miscKernel = 1
	miscUser   = 2
)

// recNamespaces is a record type otrace does not ask for.
const recNamespaces = 16

// wire appends little-endian fields.
type wire []byte

func (w wire) u8(v uint8) wire   { return append(w, v) }
func (w wire) u16(v uint16) wire { return le.AppendUint16(w, v) }
func (w wire) u32(v uint32) wire { return le.AppendUint32(w, v) }
func (w wire) u64(v uint64) wire { return le.AppendUint64(w, v) }
func (w wire) i32(v int32) wire  { return w.u32(uint32(v)) }

// str appends a C string as perf writes comm and filename:
// ALIGN(strlen+1, 8) bytes, the tail zeroed.
func (w wire) str(s string) wire {
	w = append(w, s...)
	return w.zeros(align8(len(s)+1) - len(s))
}

// raw appends a PERF_SAMPLE_RAW field: a u32 size, then the data and zero
// padding; size counts the padding, so that size+4 is a multiple of 8.
func (w wire) raw(data []byte) wire {
	n := align8(len(data)+4) - 4
	w = w.u32(uint32(n))
	w = append(w, data...)
	return w.zeros(n - len(data))
}

func (w wire) zeros(n int) wire { return append(w, make([]byte, n)...) }

func align8(n int) int { return (n + 7) &^ 7 }

// sampleID is the sample_id_all trailer of a non-sample record.
type sampleID struct {
	pid, tid int32
	time     uint64
	cpu      uint32
	id       uint64
}

// frame wraps body in a header and, unless typ is SAMPLE, the trailer.
func frame(typ uint32, misc uint16, body wire, sid *sampleID) []byte {
	size := 8 + len(body)
	if sid != nil {
		size += trailerSize
	}
	if size > 0xffff || size%8 != 0 {
		panic("encoder: bad record size")
	}
	b := wire(make([]byte, 0, size)).u32(typ).u16(misc).u16(uint16(size))
	b = append(b, body...)
	if sid != nil {
		b = b.i32(sid.pid).i32(sid.tid).u64(sid.time).u32(sid.cpu).u32(0).u64(sid.id)
	}
	return b
}

// sample is a PERF_RECORD_SAMPLE; encode writes the fields sampleType
// selects, in the kernel's order.
type sample struct {
	id       uint64
	ip       uint64
	pid, tid int32
	time     uint64
	cpu      uint32
	period   uint64
	chain    []uint64
	raw      []byte
	misc     uint16
}

func (s sample) encode(sampleType uint64) []byte {
	var w wire
	if sampleType&sampleIdentifier != 0 {
		w = w.u64(s.id)
	}
	if sampleType&sampleIP != 0 {
		w = w.u64(s.ip)
	}
	if sampleType&sampleTID != 0 {
		w = w.i32(s.pid).i32(s.tid)
	}
	if sampleType&sampleTime != 0 {
		w = w.u64(s.time)
	}
	if sampleType&sampleCPU != 0 {
		w = w.u32(s.cpu).u32(0)
	}
	if sampleType&samplePeriod != 0 {
		w = w.u64(s.period)
	}
	if sampleType&sampleCallchain != 0 {
		w = w.u64(uint64(len(s.chain)))
		for _, a := range s.chain {
			w = w.u64(a)
		}
	}
	if sampleType&sampleRaw != 0 {
		w = w.raw(s.raw)
	}
	misc := s.misc
	if misc == 0 {
		misc = miscUser
	}
	return frame(recSample, misc, w, nil)
}

func commRecord(exec bool, pid, tid int32, comm string, sid sampleID) []byte {
	misc := uint16(miscUser)
	if exec {
		misc |= miscCommExec
	}
	return frame(recComm, misc, wire(nil).i32(pid).i32(tid).str(comm), &sid)
}

// taskRecord is FORK or EXIT: pid, ppid, tid, ptid, time.
func taskRecord(typ uint32, pid, ppid, tid, ptid int32, time uint64, sid sampleID) []byte {
	return frame(typ, 0, wire(nil).i32(pid).i32(ppid).i32(tid).i32(ptid).u64(time), &sid)
}

func mmapRecord(pid, tid int32, addr, length, pgoff uint64, path string, sid sampleID) []byte {
	return frame(recMmap, miscUser, wire(nil).i32(pid).i32(tid).u64(addr).u64(length).u64(pgoff).str(path), &sid)
}

// mmap2 is a PERF_RECORD_MMAP2; a non-nil buildID selects the build-id
// variant of its union (PERF_RECORD_MISC_MMAP_BUILD_ID).
type mmap2 struct {
	pid, tid           int32
	addr, length       uint64
	pgoff              uint64
	maj, min           uint32
	ino, inoGeneration uint64
	buildID            []byte
	buildIDSize        int // written as build_id_size when non-zero, else len(buildID)
	prot, flags        uint32
	path               string
}

func (m mmap2) encode(sid sampleID) []byte {
	misc := uint16(miscUser)
	w := wire(nil).i32(m.pid).i32(m.tid).u64(m.addr).u64(m.length).u64(m.pgoff)
	if m.buildID != nil {
		misc |= miscMmapBuildID
		n := m.buildIDSize
		if n == 0 {
			n = len(m.buildID)
		}
		var id [20]byte
		copy(id[:], m.buildID)
		w = w.u8(uint8(n)).u8(0).u16(0)
		w = append(w, id[:]...)
	} else {
		w = w.u32(m.maj).u32(m.min).u64(m.ino).u64(m.inoGeneration)
	}
	return frame(recMmap2, misc, w.u32(m.prot).u32(m.flags).str(m.path), &sid)
}

func lostRecord(id, lost uint64, sid sampleID) []byte {
	return frame(recLost, 0, wire(nil).u64(id).u64(lost), &sid)
}

func lostSamplesRecord(lost uint64, sid sampleID) []byte {
	return frame(recLostSamples, 0, wire(nil).u64(lost), &sid)
}

// throttleRecord is THROTTLE or UNTHROTTLE: time, id, stream_id.
func throttleRecord(typ uint32, time, id, streamID uint64, sid sampleID) []byte {
	return frame(typ, 0, wire(nil).u64(time).u64(id).u64(streamID), &sid)
}

func switchRecord(out bool, sid sampleID) []byte {
	return frame(recSwitch, switchMisc(out), nil, &sid)
}

func switchCPUWideRecord(out bool, nextPrevPID, nextPrevTID int32, sid sampleID) []byte {
	return frame(recSwitchCPUWide, switchMisc(out), wire(nil).i32(nextPrevPID).i32(nextPrevTID), &sid)
}

func switchMisc(out bool) uint16 {
	if out {
		return miscSwitchOut
	}
	return 0
}

// withBody returns a non-sample record of type typ with body replaced, for
// records too short for their type.
func withBody(typ uint32, body []byte, sid sampleID) []byte {
	return frame(typ, 0, body, &sid)
}

// seen is what logSink records of a Sample: a copy, since the Record and
// its slices are only valid during the call.
type seen struct {
	Event     *event.Event
	Time      uint64
	CPU       uint32
	PID, TID  int32
	Raw       []byte
	Callchain []uint64
}

type tick uint64

// logSink records every call, in order.
type logSink struct{ got []any }

func (s *logSink) Sample(r *event.Record) {
	v := seen{Event: r.Event, Time: r.Time, CPU: r.CPU, PID: r.PID, TID: r.TID}
	if len(r.Raw) > 0 {
		v.Raw = slices.Clone(r.Raw)
	}
	if len(r.Callchain) > 0 {
		v.Callchain = slices.Clone(r.Callchain)
	}
	s.got = append(s.got, v)
}
func (s *logSink) Comm(c process.Comm) { s.got = append(s.got, c) }
func (s *logSink) Fork(f process.Fork) { s.got = append(s.got, f) }
func (s *logSink) Exit(e process.Exit) { s.got = append(s.got, e) }
func (s *logSink) Mmap(m process.Mmap) { s.got = append(s.got, m) }
func (s *logSink) Lost(l session.Lost) { s.got = append(s.got, l) }
func (s *logSink) Tick(now uint64)     { s.got = append(s.got, tick(now)) }
func (s *logSink) reset()              { s.got = nil }
func (s *logSink) calls() int          { return len(s.got) }
func (s *logSink) last() any           { return s.got[len(s.got)-1] }
func (s *logSink) samples() (n int)    { return countOf[seen](s.got) }
func countOf[T any](got []any) (n int) {
	for _, g := range got {
		if _, ok := g.(T); ok {
			n++
		}
	}
	return n
}

// discard is a sink that does nothing, for benchmarks and allocation
// counts.
type discard struct{}

func (discard) Sample(*event.Record) {}
func (discard) Comm(process.Comm)    {}
func (discard) Fork(process.Fork)    {}
func (discard) Exit(process.Exit)    {}
func (discard) Mmap(process.Mmap)    {}
func (discard) Lost(session.Lost)    {}
func (discard) Tick(uint64)          {}

// The parser most tests use: otrace's own pid, four CPUs, and one stream
// of each kind otrace opens.
const (
	selfPID  = 4242
	testCPUs = 4

	idTracepoint = 0x1001 // sched:sched_switch: RAW
	idProfile    = 0x1002 // profile:hz:99: IP, PERIOD, CALLCHAIN
	idLeader     = 0x1003 // the ring's dummy event: side-band only
	idEveryField = 0x1004 // IP, PERIOD, CALLCHAIN, RAW
	idBare       = 0x1005 // only the fields every event asks for
	idSoftware   = 0x1006 // software:minor-faults: IP, PERIOD

	stTracepoint = idAll | sampleRaw
	stProfile    = idAll | sampleIP | samplePeriod | sampleCallchain
	stEveryField = idAll | sampleIP | samplePeriod | sampleCallchain | sampleRaw
	stSoftware   = idAll | sampleIP | samplePeriod
)

var (
	evSwitch  = &event.Event{ID: 0, Name: "sched:sched_switch"}
	evProfile = &event.Event{ID: 1, Name: "profile:hz:99"}
	evEvery   = &event.Event{ID: 2, Name: "test:every_field"}
	evBare    = &event.Event{ID: 3, Name: "test:bare"}
	evFaults  = &event.Event{ID: 4, Name: "software:minor-faults"}
)

func newTestParser() *Parser {
	p := NewParser(selfPID, testCPUs)
	p.Add(idTracepoint, evSwitch, stTracepoint, 0)
	p.Add(idProfile, evProfile, stProfile, 1)
	p.Add(idLeader, nil, idAll, 0)
	p.Add(idEveryField, evEvery, stEveryField, 2)
	p.Add(idBare, evBare, idAll, 3)
	p.Add(idSoftware, evFaults, stSoftware, 0)
	return p
}

// switchPayload is a sched_switch RAW payload (64 bytes: common fields,
// prev_comm, prev_pid, prev_prio, prev_state, next_comm, next_pid,
// next_prio).
func switchPayload(prevPID, nextPID int32) []byte {
	var w wire
	w = w.u16(317).u8(0).u8(0).i32(prevPID)
	w = append(w, "worker\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"...)
	w = w.i32(prevPID).i32(120).u64(1)
	w = append(w, "swapper/1\x00\x00\x00\x00\x00\x00\x00"...)
	return w.i32(nextPID).i32(120)
}

// sysEnterPayload is a raw_syscalls:sys_enter payload (64 bytes: common
// fields, id, args[6]).
func sysEnterPayload(pid int32, nr int64) []byte {
	w := wire(nil).u16(21).u8(0).u8(0).i32(pid).u64(uint64(nr))
	for i := range 6 {
		w = w.u64(uint64(i) * 0x1000)
	}
	return w
}
