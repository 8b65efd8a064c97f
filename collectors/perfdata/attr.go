package perfdata

import (
	"fmt"
	"math/bits"

	"otrace/runtime/event"
	"otrace/runtime/session"
)

// Attr is one recorded perf event: the perf_event_attr fields the reader
// uses and the ids the kernel gave the event (one per CPU or thread it was
// opened on).
type Attr struct {
	Type   uint32
	Config uint64 // for tracepoints, the tracepoint id
	// Period is sample_period, or sample_freq when Freq is set.
	Period     uint64
	Freq       bool
	SampleType uint64
	ReadFormat uint64
	// SampleIDAll is set when non-sample records carry the event's
	// pid/tid, time, id and cpu at their end.
	SampleIDAll bool
	// ExcludeCallchainUser is set when callchains stop at the kernel
	// (perf record --call-graph dwarf unwinds user stacks from a copy).
	ExcludeCallchainUser bool
	// BuildID is set when MMAP2 records carry build ids instead of device
	// numbers (perf record --buildid-mmap).
	BuildID          bool
	BranchSampleType uint64
	RegsUser         uint64 // sample_regs_user mask
	StackUser        uint32 // sample_stack_user bytes
	RegsIntr         uint64 // sample_regs_intr mask
	// Name is perf's name for the event (EVENT_DESC or EVENT_UPDATE), such
	// as "sched:sched_switch" or "cpu-clock:pppH"; "" when the file has none.
	Name string
	IDs  []uint64
	// Event is the catalog event its samples are delivered as, whose
	// Config is this Attr (the first, when several share the event); nil
	// for events that only carry side-band records (perf's dummy event).
	Event *event.Event

	// slot is Event's catalog entry, which attrs of one name share (the
	// same tracepoint recorded twice); nil when Event is.
	slot *session.RecordedEvent
	layout
}

// layout is where an attr's records keep what the reader needs.
type layout struct {
	// idPos is the u64 index after the record header of a SAMPLE's id;
	// -1 when its samples carry no id.
	idPos int
	// isPos is the u64 index, counted from the end, of a non-sample
	// record's id; -1 when its records carry none.
	isPos int
	// trailer is the size of the sample_id_all trailer of non-sample
	// records, 0 without one.
	trailer   int
	readSize  int // bytes of a non-group read_format value
	nRegsUser int
	nRegsIntr int
}

// Attribute flag bits (the bitfield at byte 40 of perf_event_attr).
const (
	attrFlagFreq        = 1 << 10
	attrFlagSampleIDAll = 1 << 18
	attrFlagExclCCUser  = 1 << 22
	attrFlagBuildID     = 1 << 34
)

// parseAttr decodes a perf_event_attr from b, which holds at least its
// declared size. It returns the size the attr says it has.
func parseAttr(b []byte) (Attr, uint32, error) {
	if len(b) < 8 {
		return Attr{}, 0, fmt.Errorf("perf_event_attr of %d bytes is shorter than 8", len(b))
	}
	size := le.Uint32(b[4:])
	if size == 0 {
		size = attrSizeVer0 // perf reads size 0 as the first version
	}
	switch {
	case size < attrSizeVer0:
		return Attr{}, 0, fmt.Errorf("perf_event_attr size %d is smaller than the %d-byte first version", size, attrSizeVer0)
	case size > maxAttrSize:
		return Attr{}, 0, fmt.Errorf("perf_event_attr size %d is larger than %d", size, maxAttrSize)
	case uint64(size) > uint64(len(b)):
		return Attr{}, 0, fmt.Errorf("perf_event_attr size %d does not fit its %d bytes", size, len(b))
	}
	b = b[:size]
	u64 := func(off int) uint64 {
		if off+8 > len(b) {
			return 0
		}
		return le.Uint64(b[off:])
	}
	u32 := func(off int) uint32 {
		if off+4 > len(b) {
			return 0
		}
		return le.Uint32(b[off:])
	}
	flags := u64(40)
	a := Attr{
		Type:                 le.Uint32(b),
		Config:               u64(8),
		Period:               u64(16),
		Freq:                 flags&attrFlagFreq != 0,
		SampleType:           u64(24),
		ReadFormat:           u64(32),
		SampleIDAll:          flags&attrFlagSampleIDAll != 0,
		ExcludeCallchainUser: flags&attrFlagExclCCUser != 0,
		BuildID:              flags&attrFlagBuildID != 0,
		BranchSampleType:     u64(72),
		RegsUser:             u64(80),
		StackUser:            u32(88),
		RegsIntr:             u64(96),
	}
	a.computeLayout()
	return a, size, nil
}

func (a *Attr) computeLayout() {
	st := a.SampleType
	l := layout{idPos: -1, isPos: -1}
	switch {
	case st&sampleIdentifier != 0:
		l.idPos, l.isPos = 0, 1
	case st&sampleID != 0:
		for _, f := range []uint64{sampleIP, sampleTID, sampleTime, sampleAddr} {
			if st&f != 0 {
				l.idPos++
			}
		}
		l.isPos = 1
		for _, f := range []uint64{sampleStreamID, sampleCPU} {
			if st&f != 0 {
				l.isPos++
			}
		}
	}
	if a.SampleIDAll {
		l.trailer = 8 * bits.OnesCount64(st&sampleIDAllMask)
	} else {
		l.isPos = -1
	}
	l.readSize = 8
	for _, f := range []uint64{readFormatEnabled, readFormatRunning, readFormatID, readFormatLost} {
		if a.ReadFormat&f != 0 {
			l.readSize += 8
		}
	}
	l.nRegsUser = bits.OnesCount64(a.RegsUser)
	l.nRegsIntr = bits.OnesCount64(a.RegsIntr)
	a.layout = l
}

// trailerFields decodes a non-sample record's sample_id_all trailer: the
// time (ok false when the attr records none) and the cpu.
func (a *Attr) trailerFields(rec []byte) (pid, tid int32, time uint64, hasTime bool, cpu uint32, ok bool) {
	if a.trailer == 0 || len(rec) < recHeaderSize+a.trailer {
		return -1, -1, 0, false, 0, false
	}
	st := a.SampleType
	off := len(rec) - a.trailer
	pid, tid = -1, -1
	if st&sampleTID != 0 {
		pid, tid = int32(le.Uint32(rec[off:])), int32(le.Uint32(rec[off+4:]))
		off += 8
	}
	if st&sampleTime != 0 {
		time, hasTime = le.Uint64(rec[off:]), true
		off += 8
	}
	if st&sampleID != 0 {
		off += 8
	}
	if st&sampleStreamID != 0 {
		off += 8
	}
	if st&sampleCPU != 0 {
		cpu = le.Uint32(rec[off:])
	}
	return pid, tid, time, hasTime, cpu, true
}

// sampleTime returns a SAMPLE record's time.
func (a *Attr) sampleTime(rec []byte) (uint64, bool) {
	st := a.SampleType
	if st&sampleTime == 0 {
		return 0, false
	}
	off := recHeaderSize
	for _, f := range []uint64{sampleIdentifier, sampleIP, sampleTID} {
		if st&f != 0 {
			off += 8
		}
	}
	if len(rec) < off+8 {
		return 0, false
	}
	return le.Uint64(rec[off:]), true
}

// Perf's names of software and hardware event configs.
var (
	softwareNames = []string{
		"cpu-clock", "task-clock", "page-faults", "context-switches",
		"cpu-migrations", "minor-faults", "major-faults", "alignment-faults",
		"emulation-faults", "dummy", "bpf-output", "cgroup-switches",
	}
	hardwareNames = []string{
		"cpu-cycles", "instructions", "cache-references", "cache-misses",
		"branch-instructions", "branch-misses", "bus-cycles",
		"stalled-cycles-frontend", "stalled-cycles-backend", "ref-cycles",
	}
)

const swDummy = 9
