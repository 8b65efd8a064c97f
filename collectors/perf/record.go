package perf

import (
	"encoding/binary"

	"otrace/runtime/event"
	"otrace/runtime/intern"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// Record types (include/uapi/linux/perf_event.h).
const (
	recMmap          = 1
	recLost          = 2
	recComm          = 3
	recExit          = 4
	recThrottle      = 5
	recUnthrottle    = 6
	recFork          = 7
	recSample        = 9
	recMmap2         = 10
	recLostSamples   = 13
	recSwitch        = 14
	recSwitchCPUWide = 15
)

// Sample fields, in the order the kernel writes them.
const (
	sampleIP         = 1 << 0
	sampleTID        = 1 << 1
	sampleTime       = 1 << 2
	sampleCallchain  = 1 << 5
	sampleCPU        = 1 << 7
	samplePeriod     = 1 << 8
	sampleRaw        = 1 << 10
	sampleRegsUser   = 1 << 12
	sampleStackUser  = 1 << 13
	sampleIdentifier = 1 << 16

	// idAll is what every otrace event asks for, so that the
	// sample_id_all trailer of non-sample records has one fixed layout:
	// pid, tid (u32 each), time, cpu (u32) + reserved, identifier.
	idAll       = sampleTID | sampleTime | sampleCPU | sampleIdentifier
	trailerSize = 32
	// supported are the fields the parser knows how to skip or read.
	supported = idAll | sampleIP | sampleCallchain | samplePeriod | sampleRaw | sampleRegsUser | sampleStackUser
)

// Misc bits.
const (
	miscCommExec    = 0x2000
	miscMmapBuildID = 0x4000
	miscSwitchOut   = 0x2000
)

// stream is what the parser knows of one perf event id.
type stream struct {
	ev         *event.Event // nil for side-band-only events
	sampleType uint64
	timeOff    int // offset of TIME in a SAMPLE record
	cpu        int
	regsMask   uint64 // PERF_SAMPLE_REGS_USER's mask (ustack.go)
}

func newStream(ev *event.Event, sampleType uint64, cpu int) *stream {
	s := &stream{ev: ev, sampleType: sampleType, cpu: cpu}
	off := 8 + 8 // header, identifier
	if sampleType&sampleIP != 0 {
		off += 8
	}
	off += 8 // tid
	s.timeOff = off
	return s
}

// Stats counts what the parser saw beyond samples.
type Stats struct {
	Samples     uint64
	Lost        uint64 // records the kernel dropped (PERF_RECORD_LOST)
	LostSamples uint64 // samples dropped before reaching the ring
	Throttled   uint64 // THROTTLE records: the kernel slowed a sampling event
	Unknown     uint64 // records of types otrace does not use, or unknown ids
	Malformed   uint64 // records too short for their type
	Self        uint64 // samples of otrace's own process, dropped
}

// Parser decodes ring records into session.Sink calls. It owns one Record
// that it re-points at each sample, and interns the strings that process
// records carry, so that a hot path allocates nothing.
type Parser struct {
	streams map[uint64]*stream
	lastID  uint64
	last    *stream
	self    int32 // otrace's own pid, whose samples are dropped

	rec    event.Record
	chain  []uint64
	regs   []uint64       // user registers of the current sample
	copies *intern.Copies // comms and paths, kept beyond the ring

	Stats Stats
	// LostByCPU counts PERF_RECORD_LOST per CPU.
	LostByCPU []uint64
	// pending is what each CPU lost since its last sample, handed to the
	// next sample as Record.Lost.
	pending []uint64
}

// NewParser returns a parser that drops samples of process self.
func NewParser(self int32, ncpu int) *Parser {
	return &Parser{streams: map[uint64]*stream{}, self: self, copies: intern.NewCopies(1 << 16), LostByCPU: make([]uint64, ncpu), pending: make([]uint64, ncpu)}
}

// Add declares perf event id: its otrace event (nil for side-band) and
// the sample_type it was opened with.
func (p *Parser) Add(id uint64, ev *event.Event, sampleType uint64, cpu int) {
	p.streams[id] = newStream(ev, sampleType, cpu)
	p.last = nil
}

func (p *Parser) stream(id uint64) *stream {
	if p.last != nil && id == p.lastID {
		return p.last
	}
	s := p.streams[id]
	if s != nil {
		p.lastID, p.last = id, s
	}
	return s
}

var le = binary.LittleEndian

// Time returns a record's timestamp, for the merge of the CPUs.
func (p *Parser) Time(b []byte) (uint64, bool) {
	if len(b) < 8 {
		return 0, false
	}
	if le.Uint32(b[0:]) == recSample {
		if len(b) < 16 {
			return 0, false
		}
		s := p.stream(le.Uint64(b[8:]))
		if s == nil || len(b) < s.timeOff+8 {
			return 0, false
		}
		return le.Uint64(b[s.timeOff:]), true
	}
	if len(b) < 8+trailerSize {
		return 0, false
	}
	return le.Uint64(b[len(b)-24:]), true
}

// Parse decodes one record (header included) and passes it to sink.
func (p *Parser) Parse(b []byte, sink session.Sink) {
	if len(b) < 8 {
		p.Stats.Malformed++
		return
	}
	typ, misc := le.Uint32(b[0:]), le.Uint16(b[4:])
	if typ == recSample {
		p.sample(b, sink)
		return
	}
	if len(b) < 8+trailerSize {
		p.Stats.Malformed++
		return
	}
	body := b[8 : len(b)-trailerSize]
	tr := b[len(b)-trailerSize:]
	t := le.Uint64(tr[8:])
	cpu := le.Uint32(tr[16:])
	switch typ {
	case recComm:
		if len(body) < 8 {
			p.Stats.Malformed++
			return
		}
		sink.Comm(process.Comm{Time: t, PID: int32(le.Uint32(body)), TID: int32(le.Uint32(body[4:])),
			Comm: p.copies.String(cstring(body[8:])), Exec: misc&miscCommExec != 0})
	case recFork, recExit:
		if len(body) < 24 {
			p.Stats.Malformed++
			return
		}
		pid, ppid := int32(le.Uint32(body)), int32(le.Uint32(body[4:]))
		tid, ptid := int32(le.Uint32(body[8:])), int32(le.Uint32(body[12:]))
		if typ == recFork {
			sink.Fork(process.Fork{Time: t, PID: pid, TID: tid, PPID: ppid, PTID: ptid})
		} else {
			sink.Exit(process.Exit{Time: t, PID: pid, TID: tid})
		}
	case recMmap2:
		p.mmap2(body, misc, t, sink)
	case recMmap:
		if len(body) < 32 {
			p.Stats.Malformed++
			return
		}
		sink.Mmap(process.Mmap{Time: t, PID: int32(le.Uint32(body)), Start: le.Uint64(body[8:]),
			Len: le.Uint64(body[16:]), Pgoff: le.Uint64(body[24:]), Prot: protExec, Path: p.copies.String(cstring(body[32:]))})
	case recLost:
		if len(body) < 16 {
			p.Stats.Malformed++
			return
		}
		n := le.Uint64(body[8:])
		p.Stats.Lost += n
		if int(cpu) < len(p.LostByCPU) {
			p.LostByCPU[cpu] += n
			p.pending[cpu] += n
		}
		sink.Lost(session.Lost{Time: t, CPU: cpu, Count: n})
	case recLostSamples:
		if len(body) < 8 {
			p.Stats.Malformed++
			return
		}
		n := le.Uint64(body)
		p.Stats.LostSamples += n
		sink.Lost(session.Lost{Time: t, CPU: cpu, Count: n})
	case recThrottle, recUnthrottle:
		if len(body) < 24 { // time, id, stream_id
			p.Stats.Malformed++
			return
		}
		if typ == recThrottle {
			p.Stats.Throttled++
		}
		sink.Tick(t)
	case recSwitchCPUWide:
		if len(body) < 8 { // next_prev_pid, next_prev_tid
			p.Stats.Malformed++
			return
		}
		sink.Tick(t)
	case recSwitch:
		sink.Tick(t)
	default:
		p.Stats.Unknown++
	}
}

const protExec = 4

func (p *Parser) mmap2(body []byte, misc uint16, t uint64, sink session.Sink) {
	// pid, tid, addr, len, pgoff, {maj, min, ino, ino_generation | build
	// id}, prot, flags, filename.
	if len(body) < 72 {
		p.Stats.Malformed++
		return
	}
	m := process.Mmap{Time: t, PID: int32(le.Uint32(body)), Start: le.Uint64(body[8:]),
		Len: le.Uint64(body[16:]), Pgoff: le.Uint64(body[24:]), Prot: le.Uint32(body[56:])}
	if misc&miscMmapBuildID != 0 {
		n := int(body[32])
		if n > 20 {
			n = 20
		}
		m.BuildID = append([]byte(nil), body[36:36+n]...)
	}
	m.Path = p.copies.String(cstring(body[64:]))
	sink.Mmap(m)
}

func (p *Parser) sample(b []byte, sink session.Sink) {
	if len(b) < 16 {
		p.Stats.Malformed++
		return
	}
	s := p.stream(le.Uint64(b[8:]))
	if s == nil || s.ev == nil {
		p.Stats.Unknown++
		return
	}
	st := s.sampleType
	off := 16
	r := &p.rec
	r.Event, r.Raw, r.Callchain, r.Lost = s.ev, nil, nil, 0
	r.UserRegs, r.UserRegsMask, r.UserStack = nil, 0, nil
	if st&sampleIP != 0 {
		off += 8
	}
	if len(b) < off+24 {
		p.Stats.Malformed++
		return
	}
	r.PID, r.TID = int32(le.Uint32(b[off:])), int32(le.Uint32(b[off+4:]))
	r.Time = le.Uint64(b[off+8:])
	r.CPU = le.Uint32(b[off+16:])
	off += 24
	if st&samplePeriod != 0 {
		off += 8
		if len(b) < off {
			p.Stats.Malformed++
			return
		}
	}
	if st&sampleCallchain != 0 {
		if len(b) < off+8 {
			p.Stats.Malformed++
			return
		}
		// Compared as u64: int(n) may be negative or, on 32-bit
		// machines, truncated.
		n := le.Uint64(b[off:])
		off += 8
		if n > uint64(len(b)-off)/8 {
			p.Stats.Malformed++
			return
		}
		r.Callchain = p.addresses(b[off : off+8*int(n)])
		off += 8 * int(n)
	}
	if st&sampleRaw != 0 {
		if len(b) < off+4 {
			p.Stats.Malformed++
			return
		}
		n := le.Uint32(b[off:])
		off += 4
		if uint64(n) > uint64(len(b)-off) {
			p.Stats.Malformed++
			return
		}
		r.Raw = b[off : off+int(n)]
		off += int(n)
	}
	if st&(sampleRegsUser|sampleStackUser) != 0 && !p.userContext(b, off, s, r) {
		p.Stats.Malformed++
		return
	}
	if int(r.CPU) < len(p.pending) && p.pending[r.CPU] > 0 {
		r.Lost, p.pending[r.CPU] = p.pending[r.CPU], 0
	}
	if r.PID == p.self {
		p.Stats.Self++
		return
	}
	p.Stats.Samples++
	sink.Sample(r)
}

// addresses copies a callchain, context markers included (see
// event.SplitCallchain), into a reused slice.
func (p *Parser) addresses(b []byte) []uint64 {
	p.chain = p.chain[:0]
	for i := 0; i+8 <= len(b); i += 8 {
		p.chain = append(p.chain, le.Uint64(b[i:]))
	}
	return p.chain
}

func cstring(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}
