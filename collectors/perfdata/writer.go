package perfdata

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"otrace/runtime/event"
	"otrace/runtime/probe"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// What the Writer writes, and why it is laid out so (perf 6.1's perf
// script and perf report are the readers it must satisfy):
//
//   - File mode: the header, then the data section from offset 104, then
//     the feature sections, then the ids and attributes. The attributes go
//     last because events may be declared after records were written;
//     perf finds them by the offsets in the header, which Close rewrites.
//   - Every attr has the same sample_type prefix, IDENTIFIER|TID|TIME|CPU|
//     PERIOD, so that perf can find a record's event, and sample_id_all, so
//     that process records carry their pid, time and cpu. Events with
//     stacks add IP (the callchain's leaf) and CALLCHAIN; tracepoints add
//     RAW. Non-sample records carry id 0, which perf reads as "synthesized,
//     the first event's layout".
//   - Records are written in the order given, which for a session's tee is
//     time order give or take a few milliseconds; a FINISHED_ROUND every
//     100 ms of record time lets perf and the Reader sort and deliver as
//     they go instead of holding the whole file (see roundEvery).

// writerFlushAt is how full the buffer gets before it is written out.
const writerFlushAt = 256 << 10

// maxRecordSize is the largest record perf.data can hold: its size is a u16.
const maxRecordSize = math.MaxUint16 &^ 7

// attrSizeWritten is the perf_event_attr size written: PERF_ATTR_SIZE_VER7,
// the largest perf 6.1 reads (it refuses attrs larger than its own).
const attrSizeWritten = 128

// Attribute bits the writer sets beyond those the reader decodes.
const (
	attrFlagMmap          = 1 << 8
	attrFlagComm          = 1 << 9
	attrFlagTask          = 1 << 13
	attrFlagExclCCKernel  = 1 << 21
	attrFlagMmap2         = 1 << 23
	attrFlagCommExec      = 1 << 24
	attrFlagUseClockID    = 1 << 25
	clockMonotonic        = 1
	recFlagMapPrivate     = 2 // MAP_PRIVATE, the flags of an MMAP2
	baseSampleType        = sampleIdentifier | sampleTID | sampleTime | sampleCPU | samplePeriod
	defaultHardwarePeriod = 1_000_000
)

// A Writer writes a perf.data file that perf script and perf report read:
// the events otrace recorded, as perf would have recorded them, with the
// tracepoint formats, process records and the host it ran on.
//
// Declare events with DefineEvent, then give records in time order; Close
// writes the feature sections and the header. A Writer is not safe for
// concurrent use. After the first error every method returns that error.
type Writer struct {
	w    io.WriteSeeker
	base int64 // where the file starts in w
	off  int64 // bytes written after base
	buf  []byte
	err  error

	meta   map[string]string
	events []*outEvent
	byEv   map[*event.Event]*outEvent
	byName map[string]*outEvent

	comms    map[int32]string   // last name of each thread, for saved cmdlines
	parents  map[int32][2]int32 // ppid, ptid of threads forked during the recording
	buildIDs map[string][]byte  // by path, from MMAP2 records
	anyID    bool               // an MMAP2 carried a build id

	maxTime    uint64 // newest record time written
	roundTime  uint64 // newest record time before the last FINISHED_ROUND
	timed      bool   // a record with a time was written
	sawSample  bool
	firstTime  uint64 // of the samples, for HEADER_SAMPLE_TIME
	lastTime   uint64
	maxCPU     uint32
	closed     bool
	closeError error
}

// outEvent is one perf_event_attr of the file.
type outEvent struct {
	name     string // otrace's name
	perfName string // EVENT_DESC: what perf script and perf report call it
	id       uint64
	typ      uint32
	config   uint64
	period   uint64 // attr.sample_period, or sample_freq with attrFlagFreq
	flags    uint64
	st       uint64 // sample_type
	weight   uint64 // the PERIOD of each sample
	format   *event.Format
	misc     uint16 // cpu mode of samples without a callchain
}

// NewWriter starts a perf.data file at w's current offset. meta holds the
// host the events come from under replay's META keys (what Reader.Meta
// returns): hostname, kernel_release, arch (as Go names it), ncpus,
// command_line, otrace_version; each present key becomes the matching
// feature section. Nothing reaches w until the buffer fills or Close is
// called.
func NewWriter(w io.WriteSeeker, meta map[string]string) (*Writer, error) {
	base, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("perfdata: the perf.data writer needs a file it can seek in: %w", err)
	}
	wr := &Writer{
		w:        w,
		base:     base,
		buf:      make([]byte, 0, writerFlushAt+recHeaderSize+maxRecordSize),
		meta:     meta,
		byEv:     map[*event.Event]*outEvent{},
		byName:   map[string]*outEvent{},
		comms:    map[int32]string{},
		parents:  map[int32][2]int32{},
		buildIDs: map[string][]byte{},
	}
	// A placeholder header with an empty data section: if the recorder
	// dies, readers see a file that was not finished.
	wr.buf = fileHeader(wr.buf, section{}, section{fileHeaderSize, 0})
	return wr, nil
}

// DefineEvent declares ev, whose samples Sample will be given. Its name
// says what perf event it is: a tracepoint or uprobe (written as a
// tracepoint with its format's id and text), profile:hz:N (cpu-clock at N
// Hz), software:NAME or hardware:NAME. Its Stack says whether samples
// carry callchains. A name may be declared once.
func (w *Writer) DefineEvent(ev *event.Event) error {
	if err := w.usable(); err != nil {
		return err
	}
	if _, dup := w.byName[ev.Name]; dup {
		return w.fail(fmt.Errorf("perfdata: event %s defined twice", ev.Name))
	}
	if ev.Filter != "" {
		return w.fail(fmt.Errorf("perfdata: %s: recording a probe with a filter is not supported; record it whole and filter when you run the script", ev.Name))
	}
	o, err := perfEvent(ev)
	if err != nil {
		return w.fail(fmt.Errorf("perfdata: %w", err))
	}
	o.id = uint64(len(w.events) + 1) // 0 marks synthesized records
	switch ev.Stack {
	case event.NoStack:
	case event.BothStacks:
		o.st |= sampleIP | sampleCallchain
	case event.UserStack:
		o.st |= sampleIP | sampleCallchain
		o.flags |= attrFlagExclCCKernel
	default:
		// A mode that copies the user stack for a DWARF unwinder is
		// written without the copy: its user part is in the callchain
		// when the recorder unwound it (otrace record -g dwarf).
		o.st |= sampleIP | sampleCallchain
	}
	w.events = append(w.events, o)
	w.byEv[ev] = o
	w.byName[ev.Name] = o
	return nil
}

// perfEvent says how perf would have recorded ev.
func perfEvent(ev *event.Event) (*outEvent, error) {
	p, err := probe.Parse(ev.Name)
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", ev.Name, err)
	}
	o := &outEvent{name: ev.Name, st: baseSampleType, flags: attrFlagSampleIDAll | attrFlagUseClockID}
	switch p.Kind {
	case probe.Tracepoint, probe.Uprobe, probe.Uretprobe:
		f := ev.Format
		if f == nil || f.ID == 0 || f.System == "" || len(f.Text) == 0 {
			return nil, fmt.Errorf("event %s has no tracefs format with an id, which perf needs to decode it", ev.Name)
		}
		o.typ, o.config, o.period, o.weight = typeTracepoint, uint64(f.ID), 1, 1
		o.perfName = f.System + ":" + f.Name
		o.format = f
		o.st |= sampleRaw
		o.misc = miscKernel
		if p.Kind != probe.Tracepoint {
			o.misc = miscUser // a uprobe fires in user space
		}
	case probe.Profile:
		o.typ, o.config, o.period = typeSoftware, 0, uint64(p.Hz)
		o.flags |= attrFlagFreq
		o.weight = uint64(1_000_000_000 / p.Hz)
		o.perfName = softwareNames[0]
	case probe.Software, probe.Hardware:
		names, typ, period := softwareNames, uint32(typeSoftware), uint64(1)
		if p.Kind == probe.Hardware {
			names, typ, period = hardwareNames, typeHardware, defaultHardwarePeriod
		} else if p.Event == "cpu-clock" || p.Event == "task-clock" {
			period = 1_000_000
		}
		i := slices.Index(names, p.Event)
		if i < 0 {
			return nil, fmt.Errorf("event %s: perf has no %s event %q", ev.Name, p.Kind, p.Event)
		}
		if p.Period != 0 {
			period = p.Period
		}
		o.typ, o.config, o.period, o.weight, o.perfName = typ, uint64(i), period, period, p.Event
	default:
		return nil, fmt.Errorf("event %s: %s events have no perf equivalent", ev.Name, p.Kind)
	}
	return o, nil
}

// Sample writes a sample of r.Event, which DefineEvent declared. The
// callchain is written as otrace keeps it, leaf first with the kernel's
// context markers; its first address is the sample's IP and its first
// marker the sample's CPU mode. r.Lost is not written: the losses reach
// Lost as their own records.
func (w *Writer) Sample(r *event.Record) error {
	if err := w.usable(); err != nil {
		return err
	}
	o := w.byEv[r.Event]
	if o == nil {
		name := "<nil>"
		if r.Event != nil {
			name = r.Event.Name
		}
		return w.fail(fmt.Errorf("perfdata: sample of event %s, which was not defined with DefineEvent", name))
	}
	misc := o.misc
	var chain []uint64
	rawLen := 0
	size := recHeaderSize + 8*5 // identifier, tid, time, cpu, period
	if o.st&sampleCallchain != 0 {
		chain = r.Callchain
		size += 16 + 8*len(chain) // ip, nr
	}
	if o.st&sampleRaw != 0 {
		// The kernel pads the payload so that it and its size end on 8 bytes.
		rawLen = align8(4+len(r.Raw)) - 4
		size += 4 + rawLen
	}
	if size > maxRecordSize {
		return w.fail(fmt.Errorf("perfdata: a sample of %s with %d callchain addresses and %d payload bytes does not fit a perf.data record of at most %d bytes",
			o.name, len(chain), len(r.Raw), maxRecordSize))
	}
	var ip uint64
	if o.st&sampleCallchain != 0 {
		var mode uint16
		ip, mode = leaf(chain)
		if mode != 0 {
			misc = mode
		}
	}
	b := w.begin(recSample, misc, r.Time)
	b = le.AppendUint64(b, o.id)
	if o.st&sampleIP != 0 {
		b = le.AppendUint64(b, ip)
	}
	b = le.AppendUint32(b, uint32(r.PID))
	b = le.AppendUint32(b, uint32(r.TID))
	b = le.AppendUint64(b, r.Time)
	b = le.AppendUint64(b, uint64(r.CPU))
	b = le.AppendUint64(b, o.weight)
	if o.st&sampleCallchain != 0 {
		b = le.AppendUint64(b, uint64(len(chain)))
		for _, pc := range chain {
			b = le.AppendUint64(b, pc)
		}
	}
	if o.st&sampleRaw != 0 {
		b = le.AppendUint32(b, uint32(rawLen))
		b = append(b, r.Raw...)
		b = append(b, make([]byte, rawLen-len(r.Raw))...)
	}
	if !w.sawSample || r.Time < w.firstTime {
		w.firstTime = r.Time
	}
	w.lastTime = max(w.lastTime, r.Time)
	w.sawSample = true
	w.maxCPU = max(w.maxCPU, r.CPU)
	return w.end(b)
}

// contextMin is the smallest callchain context marker (PERF_CONTEXT_MAX
// is -4095): every u64 from it up is a marker, not an address.
const contextMin = ^uint64(0) - 4095 + 1

// leaf returns a callchain's first address and its CPU mode: that of the
// context marker before it or, in a chain stored without markers, the
// half of the address space it is in (kernel text lives in the top half).
// An empty chain gives 0 and no mode.
func leaf(chain []uint64) (uint64, uint16) {
	var mode uint16
	for _, pc := range chain {
		switch {
		case pc == event.ContextKernel:
			mode = miscKernel
		case pc == event.ContextUser:
			mode = miscUser
		case pc >= contextMin:
			mode = 0
		default:
			if mode == 0 {
				mode = miscUser
				if pc >= 1<<63 {
					mode = miscKernel
				}
			}
			return pc, mode
		}
	}
	return 0, mode
}

// Comm writes a COMM record; an exec sets perf's exec flag.
func (w *Writer) Comm(c process.Comm) error {
	if err := w.usable(); err != nil {
		return err
	}
	name := strings.TrimRight(c.Comm, "\x00")
	if len(name) > 255 {
		name = name[:255]
	}
	var misc uint16
	if c.Exec {
		misc = miscCommExec
	}
	b := w.begin(recComm, misc, c.Time)
	b = le.AppendUint32(b, uint32(c.PID))
	b = le.AppendUint32(b, uint32(c.TID))
	b = appendPadded(b, name)
	b = w.trailer(b, c.PID, c.TID, c.Time, 0)
	if name != "" {
		w.comms[c.TID] = name
	}
	return w.end(b)
}

// Fork writes a FORK record.
func (w *Writer) Fork(f process.Fork) error {
	if err := w.usable(); err != nil {
		return err
	}
	if len(w.parents) < maxInterned {
		w.parents[f.TID] = [2]int32{f.PPID, f.PTID}
	}
	if c, ok := w.comms[f.PTID]; ok {
		w.comms[f.TID] = c
	}
	return w.task(recFork, f.PID, f.PPID, f.TID, f.PTID, f.Time)
}

// Exit writes an EXIT record, with the parent its FORK named if there
// was one.
func (w *Writer) Exit(e process.Exit) error {
	if err := w.usable(); err != nil {
		return err
	}
	p, ok := w.parents[e.TID]
	if !ok {
		p = [2]int32{e.PID, e.TID}
	}
	delete(w.parents, e.TID)
	return w.task(recExit, e.PID, p[0], e.TID, p[1], e.Time)
}

func (w *Writer) task(t uint32, pid, ppid, tid, ptid int32, time uint64) error {
	b := w.begin(t, 0, time)
	b = le.AppendUint32(b, uint32(pid))
	b = le.AppendUint32(b, uint32(ppid))
	b = le.AppendUint32(b, uint32(tid))
	b = le.AppendUint32(b, uint32(ptid))
	b = le.AppendUint64(b, time)
	b = w.trailer(b, pid, tid, time, 0)
	return w.end(b)
}

// Mmap writes an MMAP2 record of a user mapping, with its build id when it
// has one of 1 to 20 bytes (perf 6.1 overflows a buffer on a longer one),
// or, for the kernel's own mappings (pid -1 or a "[kernel.kallsyms]"
// path), the MMAP record perf synthesizes for them.
func (w *Writer) Mmap(m process.Mmap) error {
	if err := w.usable(); err != nil {
		return err
	}
	path := m.Path
	if len(path) > 4095 {
		path = path[:4095] // PATH_MAX, NUL included
	}
	id := m.BuildID
	if len(id) > maxBuildID {
		id = nil
	}
	if m.PID == -1 || strings.HasPrefix(path, kernelDSO) {
		// perf names the kernel's build id after the DSO, not the map.
		if len(id) > 0 && strings.HasPrefix(path, kernelDSO) {
			w.buildIDs[kernelDSO] = id
		}
		b := w.begin(recMmap, miscKernel, m.Time)
		b = le.AppendUint32(b, uint32(m.PID))
		b = le.AppendUint32(b, 0)
		b = le.AppendUint64(b, m.Start)
		b = le.AppendUint64(b, m.Len)
		b = le.AppendUint64(b, m.Pgoff)
		b = appendPadded(b, path)
		b = w.trailer(b, m.PID, 0, m.Time, 0)
		return w.end(b)
	}
	misc := uint16(miscUser)
	if m.Prot&protExec == 0 {
		misc |= miscMmapData
	}
	if len(id) > 0 {
		misc |= miscMmapBuildID
		w.anyID = true
		if _, ok := w.buildIDs[path]; !ok && path != "" && len(w.buildIDs) < maxFeatureItems {
			w.buildIDs[path] = id
		}
	}
	b := w.begin(recMmap2, misc, m.Time)
	b = le.AppendUint32(b, uint32(m.PID))
	b = le.AppendUint32(b, uint32(m.PID)) // otrace does not keep the mapping thread
	b = le.AppendUint64(b, m.Start)
	b = le.AppendUint64(b, m.Len)
	b = le.AppendUint64(b, m.Pgoff)
	if len(id) > 0 {
		// build_id_size, two reserved fields, the id in 20 bytes.
		b = append(b, byte(len(id)), 0, 0, 0)
		b = append(b, id...)
		b = append(b, make([]byte, maxBuildID-len(id))...)
	} else {
		b = append(b, make([]byte, 24)...) // maj, min, ino, ino_generation: unknown
	}
	b = le.AppendUint32(b, m.Prot)
	b = le.AppendUint32(b, recFlagMapPrivate)
	b = appendPadded(b, path)
	b = w.trailer(b, m.PID, m.PID, m.Time, 0)
	return w.end(b)
}

// Lost writes a LOST record: l.Count records of CPU l.CPU were dropped.
func (w *Writer) Lost(l session.Lost) error {
	if err := w.usable(); err != nil {
		return err
	}
	b := w.begin(recLost, 0, l.Time)
	b = le.AppendUint64(b, 0) // the event's id: perf reads 0 as the first
	b = le.AppendUint64(b, l.Count)
	b = w.trailer(b, -1, -1, l.Time, l.CPU)
	w.maxCPU = max(w.maxCPU, l.CPU)
	return w.end(b)
}

// trailer appends the sample_id_all fields of a non-sample record.
func (w *Writer) trailer(b []byte, pid, tid int32, time uint64, cpu uint32) []byte {
	b = le.AppendUint32(b, uint32(pid))
	b = le.AppendUint32(b, uint32(tid))
	b = le.AppendUint64(b, time)
	b = le.AppendUint64(b, uint64(cpu))
	return le.AppendUint64(b, 0) // identifier 0: synthesized
}

// roundEvery is how far record times advance between FINISHED_ROUND
// records. Perf (and the Reader) deliver, at the end of a round, what the
// round before it held, so a record may come up to roundEvery later than
// newer ones and still be delivered in order: the live collector's merge
// slack is a few milliseconds, and the processes found in /proc at the
// start carry the scan's time while the kernel's records from before it
// follow. Perf holds about two rounds of records in memory.
const roundEvery = 100_000_000 // ns

// begin starts a record of type t and the given time in the buffer, after
// a FINISHED_ROUND when the time has moved on by roundEvery; end fills in
// its size. Records without a time (0) are delivered at once by perf and
// leave the rounds alone.
func (w *Writer) begin(t uint32, misc uint16, time uint64) []byte {
	switch {
	case time == 0:
	case !w.timed:
		w.timed, w.roundTime, w.maxTime = true, time, time
	case time >= w.roundTime+roundEvery:
		w.buf = le.AppendUint32(w.buf, recFinishedRound)
		w.buf = le.AppendUint16(w.buf, 0)
		w.buf = le.AppendUint16(w.buf, recHeaderSize)
		w.roundTime = w.maxTime
		fallthrough
	default:
		w.maxTime = max(w.maxTime, time)
	}
	b := le.AppendUint32(w.buf, t)
	b = le.AppendUint16(b, misc)
	return le.AppendUint16(b, 0)
}

// end completes the record begun in b and writes the buffer out when it
// is full.
func (w *Writer) end(b []byte) error {
	start := len(w.buf)
	size := len(b) - start
	if size > maxRecordSize {
		return w.fail(fmt.Errorf("perfdata: a %s record of %d bytes is larger than perf.data's %d", recName(le.Uint32(b[start:])), size, maxRecordSize))
	}
	le.PutUint16(b[start+6:], uint16(size))
	w.buf = b
	if len(w.buf) >= writerFlushAt {
		return w.write()
	}
	return nil
}

// write writes the buffer out.
func (w *Writer) write() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.w.Write(w.buf)
	w.off += int64(n)
	w.buf = w.buf[:0]
	if err != nil {
		return w.fail(fmt.Errorf("perfdata: writing perf.data: %w", err))
	}
	return nil
}

func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("perfdata: write after Close")
	}
	return nil
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

func align8(n int) int { return (n + 7) &^ 7 }

// appendPadded appends s, its NUL and zeros up to a multiple of 8 bytes.
func appendPadded(b []byte, s string) []byte {
	b = append(b, s...)
	return append(b, make([]byte, align8(len(s)+1)-len(s))...)
}
