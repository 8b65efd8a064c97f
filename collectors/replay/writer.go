package replay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// flushAt is how full the Writer's buffer gets before it is written out.
const flushAt = 256 << 10

var le = binary.LittleEndian

// Writer writes a recording. Records go out in the order they are given;
// the caller gives them in time order. A Writer is not safe for concurrent
// use. After the first error every method returns that error.
type Writer struct {
	w   io.Writer
	buf []byte
	err error

	events  map[uint32]string // defined event ids -> names
	names   map[string]uint32
	records uint64 // records written, END not counted
	samples uint64
	closed  bool
}

// NewWriter starts a recording on w: it writes the file header and one META
// record per entry of meta (in key order, so equal input gives equal
// bytes). The MetaXxx constants name the usual keys. Nothing reaches w
// until the buffer fills or Close is called.
func NewWriter(w io.Writer, meta map[string]string) (*Writer, error) {
	wr := &Writer{
		w:      w,
		buf:    make([]byte, 0, flushAt+4096),
		events: map[uint32]string{},
		names:  map[string]uint32{},
	}
	b := append(wr.buf, Magic...)
	b = le.AppendUint16(b, Version)
	b = append(b, littleEndian, 0)
	b = le.AppendUint32(b, 0) // flags
	b = le.AppendUint32(b, fileHeaderSize)
	b = le.AppendUint32(b, 0)
	wr.buf = b

	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := wr.meta(k, meta[k]); err != nil {
			return nil, err
		}
	}
	return wr, nil
}

func (w *Writer) meta(key, value string) error {
	if key == "" {
		return w.fail(errors.New("replay: META key is empty"))
	}
	if err := w.fits("META "+key, metaFixed, len(key), len(value)); err != nil {
		return err
	}
	b, start := w.begin(recMeta)
	b = le.AppendUint32(b, uint32(len(key)))
	b = le.AppendUint32(b, uint32(len(value)))
	b = append(b, key...)
	b = append(b, value...)
	return w.end(b, start)
}

// DefineEvent declares event id, which later samples refer to. name is the
// canonical probe name ("sched:sched_switch", "profile:hz:99"), system the
// tracefs subsystem its format belongs to, and formatText the tracefs
// "format" file's text, or nil for an event without a payload format. The
// text is parsed here so that a bad format fails the recorder, not the
// reader.
func (w *Writer) DefineEvent(id uint32, name, system string, formatText []byte) error {
	if err := w.usable(); err != nil {
		return err
	}
	if name == "" {
		return w.fail(fmt.Errorf("replay: event %d has no name", id))
	}
	if old, ok := w.events[id]; ok {
		return w.fail(fmt.Errorf("replay: event id %d defined twice, as %s and %s", id, old, name))
	}
	if old, ok := w.names[name]; ok {
		return w.fail(fmt.Errorf("replay: event %s defined twice, as ids %d and %d", name, old, id))
	}
	if len(name) > math.MaxUint16 || len(system) > math.MaxUint16 {
		return w.fail(fmt.Errorf("replay: event %d: name or system longer than %d bytes", id, math.MaxUint16))
	}
	if len(formatText) > 0 {
		if _, err := event.ParseFormat(system, formatText); err != nil {
			return w.fail(fmt.Errorf("replay: event %s: %w", name, err))
		}
	}
	if err := w.fits("EVENT "+name, eventFixed, len(name), len(system), len(formatText)); err != nil {
		return err
	}
	b, start := w.begin(recEvent)
	b = le.AppendUint32(b, id)
	b = le.AppendUint16(b, uint16(len(name)))
	b = le.AppendUint16(b, uint16(len(system)))
	b = le.AppendUint32(b, uint32(len(formatText)))
	b = le.AppendUint32(b, 0)
	b = append(b, name...)
	b = append(b, system...)
	b = append(b, formatText...)
	if err := w.end(b, start); err != nil {
		return err
	}
	w.events[id] = name
	w.names[name] = id
	return nil
}

// Sample writes one record of event id. lost counts the records of this
// CPU the collector dropped just before this one; callchain is leaf first;
// raw is laid out as the event's format says.
func (w *Writer) Sample(id uint32, time uint64, cpu uint32, pid, tid int32, lost uint64, callchain []uint64, raw []byte) error {
	if err := w.usable(); err != nil {
		return err
	}
	if _, ok := w.events[id]; !ok {
		return w.fail(fmt.Errorf("replay: sample of event id %d, which was not defined with DefineEvent", id))
	}
	if len(callchain) > (MaxRecordSize-recHeaderSize-sampleFixed)/8 {
		return w.fail(fmt.Errorf("replay: sample of %d callchain addresses does not fit in a %d-byte record", len(callchain), MaxRecordSize))
	}
	if err := w.fits("SAMPLE", sampleFixed, 8*len(callchain), len(raw)); err != nil {
		return err
	}
	b, start := w.begin(recSample)
	b = le.AppendUint32(b, id)
	b = le.AppendUint32(b, cpu)
	b = le.AppendUint64(b, time)
	b = le.AppendUint32(b, uint32(pid))
	b = le.AppendUint32(b, uint32(tid))
	b = le.AppendUint64(b, lost)
	b = le.AppendUint32(b, uint32(len(callchain)))
	b = le.AppendUint32(b, uint32(len(raw)))
	for _, pc := range callchain {
		b = le.AppendUint64(b, pc)
	}
	b = append(b, raw...)
	w.samples++
	return w.end(b, start)
}

// Comm writes a COMM record.
func (w *Writer) Comm(c process.Comm) error {
	if err := w.usable(); err != nil {
		return err
	}
	if err := w.fits("COMM", commFixed, len(c.Comm)); err != nil {
		return err
	}
	var flags uint32
	if c.Exec {
		flags |= commExec
	}
	b, start := w.begin(recComm)
	b = le.AppendUint64(b, c.Time)
	b = le.AppendUint32(b, uint32(c.PID))
	b = le.AppendUint32(b, uint32(c.TID))
	b = le.AppendUint32(b, flags)
	b = le.AppendUint32(b, uint32(len(c.Comm)))
	b = append(b, c.Comm...)
	return w.end(b, start)
}

// Fork writes a FORK record.
func (w *Writer) Fork(f process.Fork) error {
	if err := w.usable(); err != nil {
		return err
	}
	b, start := w.begin(recFork)
	b = le.AppendUint64(b, f.Time)
	b = le.AppendUint32(b, uint32(f.PID))
	b = le.AppendUint32(b, uint32(f.TID))
	b = le.AppendUint32(b, uint32(f.PPID))
	b = le.AppendUint32(b, uint32(f.PTID))
	return w.end(b, start)
}

// Exit writes an EXIT record.
func (w *Writer) Exit(e process.Exit) error {
	if err := w.usable(); err != nil {
		return err
	}
	b, start := w.begin(recExit)
	b = le.AppendUint64(b, e.Time)
	b = le.AppendUint32(b, uint32(e.PID))
	b = le.AppendUint32(b, uint32(e.TID))
	return w.end(b, start)
}

// Mmap writes an MMAP record.
func (w *Writer) Mmap(m process.Mmap) error {
	if err := w.usable(); err != nil {
		return err
	}
	if err := w.fits("MMAP", mmapFixed, len(m.Path), len(m.BuildID)); err != nil {
		return err
	}
	b, start := w.begin(recMmap)
	b = le.AppendUint64(b, m.Time)
	b = le.AppendUint32(b, uint32(m.PID))
	b = le.AppendUint32(b, m.Prot)
	b = le.AppendUint64(b, m.Start)
	b = le.AppendUint64(b, m.Len)
	b = le.AppendUint64(b, m.Pgoff)
	b = le.AppendUint32(b, uint32(len(m.Path)))
	b = le.AppendUint32(b, uint32(len(m.BuildID)))
	b = append(b, m.Path...)
	b = append(b, m.BuildID...)
	return w.end(b, start)
}

// Lost writes a LOST record: the collector dropped l.Count records of CPU
// l.CPU at about l.Time.
func (w *Writer) Lost(l session.Lost) error {
	if err := w.usable(); err != nil {
		return err
	}
	b, start := w.begin(recLost)
	b = le.AppendUint64(b, l.Time)
	b = le.AppendUint32(b, l.CPU)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint64(b, l.Count)
	return w.end(b, start)
}

// Close writes the END record, which tells a reader the recording is
// complete, and flushes the buffer. It does not close the underlying
// writer. Calling Close again returns the first call's result.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	if w.err != nil {
		w.closed = true
		return w.err
	}
	b, start := w.begin(recEnd)
	b = le.AppendUint64(b, w.records)
	b = le.AppendUint64(b, w.samples)
	if err := w.end(b, start); err != nil {
		w.closed = true
		return err
	}
	w.closed = true
	return w.flush()
}

// Flush writes the buffered records to the underlying writer, so that a
// recorder that dies later leaves a readable (if truncated) recording.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.flush()
}

func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("replay: write after Close")
	}
	return nil
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// fits checks that a record with the given fixed body and variable parts
// stays under MaxRecordSize.
func (w *Writer) fits(what string, fixed int, parts ...int) error {
	n := uint64(recHeaderSize + fixed)
	for _, p := range parts {
		n += uint64(p)
	}
	if n > MaxRecordSize {
		return w.fail(fmt.Errorf("replay: %s record of %d bytes exceeds the %d-byte limit", what, n, MaxRecordSize))
	}
	return nil
}

// begin starts a record of type t in the buffer, leaving its size to end.
func (w *Writer) begin(t uint16) ([]byte, int) {
	start := len(w.buf)
	b := le.AppendUint32(w.buf, 0)
	b = le.AppendUint16(b, t)
	b = le.AppendUint16(b, 0)
	return b, start
}

// end pads the record begun at start, fills in its size, and flushes when
// the buffer is full.
func (w *Writer) end(b []byte, start int) error {
	for len(b)%align != 0 {
		b = append(b, 0)
	}
	le.PutUint32(b[start:], uint32(len(b)-start))
	w.buf = b
	w.records++
	if len(w.buf) >= flushAt {
		return w.flush()
	}
	return nil
}

func (w *Writer) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.w.Write(w.buf)
	w.buf = w.buf[:0]
	if err != nil {
		return w.fail(fmt.Errorf("replay: writing recording: %w", err))
	}
	return nil
}
