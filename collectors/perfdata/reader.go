package perfdata

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"sync/atomic"

	"otrace/runtime/event"
	"otrace/runtime/intern"
	"otrace/runtime/session"
)

// batchSize is how many records one Read reads or delivers before it
// returns, so the session can check its deadlines.
const batchSize = 1024

// maxInterned bounds the strings kept for reuse; beyond it each new one is
// allocated.
const maxInterned = 1 << 14

// maxCPUs bounds the per-CPU loss counts.
const maxCPUs = 1 << 12

// Options configure a Reader.
type Options struct {
	// Notice, when set, receives one message per unsupported feature the
	// file uses (zstd-compressed records, AUX traces, a malformed feature
	// section), so a user learns what was skipped.
	Notice func(string)
}

// Stats counts what a Reader has read so far.
type Stats struct {
	Records    uint64 // records read, of every type
	Samples    uint64 // SAMPLE records, delivered or not
	NotEnabled uint64 // samples of events without handlers, skipped
	UnknownIDs uint64 // samples whose event id no attr declares, skipped
	Unknown    uint64 // records of types this reader does not know, skipped
	// Skipped counts records of known types that carry nothing otrace
	// uses (SWITCH, KSYMBOL, ID_INDEX, CPU_MAP, COMPRESSED, ...).
	Skipped   uint64
	Malformed uint64 // records too short for their type, skipped
	// Lost counts events the kernel dropped (the counts of LOST records);
	// LostSamples those it dropped before writing them (LOST_SAMPLES).
	Lost        uint64
	LostSamples uint64
	Throttled   uint64 // THROTTLE records: the kernel slowed a sampling event
	Rounds      uint64 // FINISHED_ROUND records
	// OutOfOrder counts records delivered with a time earlier than one
	// delivered before them, which perf's rounds should rule out.
	OutOfOrder uint64
	// ForcedFlushes counts deliveries forced by the ordering queue's bounds
	// because no FINISHED_ROUND came.
	ForcedFlushes uint64
	// UserRegs and UserStacks count samples carrying the user registers
	// and a copy of the user stack (perf record --call-graph dwarf), which
	// a DWARF unwinder needs; UserStackBytes is the size of those copies.
	UserRegs       uint64
	UserStacks     uint64
	UserStackBytes uint64
}

// Reader plays a perf.data file back. It implements session.Source:
// Catalog, Enable and Meta are ready after Open, and Read delivers the
// file's records in time order. Except for Interrupt, its methods must be
// called from one goroutine.
//
// A sample's Record.Callchain is the callchain perf recorded, context
// markers included, with two additions that give every sample of a
// sampling event at least its leaf: a sampling event recorded without -g
// gets a marker and its sampled address, and a user-mode sample of a
// --call-graph dwarf capture (whose kernel callchain stops at the kernel)
// gets ContextUser and its sampled address appended; a DWARF unwinder
// would replace that part.
type Reader struct {
	name   string
	opts   Options
	closer io.Closer
	pipe   bool

	in *input
	// dataEnd is the file offset where the data section ends; -1 in pipe
	// mode, where the stream's end is the data's end.
	dataEnd int64

	attrs   []*Attr
	byID    map[uint64]*Attr
	lastID  uint64
	lastHit *Attr
	route   routing
	names   map[uint64]string // perf's event names by id
	tracing *tracing
	meta    map[string]string
	// buildIDs come from the BUILD_ID feature, by file name.
	buildIDs map[string][]byte
	cat      *session.RecordedCatalog
	defined  bool // the catalog was built; later attrs join it one by one

	q         queue
	lastTime  uint64
	delivered bool
	stats     Stats
	pending   []uint64 // per CPU: events lost since its last sample

	rec    event.Record
	chain  []uint64
	copies *intern.Copies // comms, paths and build ids, kept beyond the read buffer

	noticed     map[string]bool
	err         error // sticky: io.EOF at the end, or what stopped reading
	interrupted atomic.Bool
	closed      bool
}

var _ session.Source = (*Reader)(nil)

// Open opens the perf.data file at path ("-" reads standard input) and
// reads its header, attributes and feature sections.
func Open(path string) (*Reader, error) { return Options{}.Open(path) }

// NewReader reads a perf.data file from r. A file-mode perf.data is read
// in place when r is an io.ReaderAt and io.Seeker (an *os.File, a
// *bytes.Reader); from any other reader it is held in memory, up to 256
// MiB, because its feature sections follow its data. A pipe-mode perf.data
// is read as it arrives. Close does not close r.
func NewReader(r io.Reader) (*Reader, error) { return Options{}.NewReader(r) }

// Open is the package's Open with these options.
func (o Options) Open(path string) (*Reader, error) {
	if path == "-" {
		return o.newReader(os.Stdin, "stdin", nil)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("perfdata: %w", err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("perfdata: %s is a directory (perf record --threads writes one); convert it with perf inject -i %s -o FILE", path, path)
	}
	r, err := o.newReader(f, path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// NewReader is the package's NewReader with these options.
func (o Options) NewReader(r io.Reader) (*Reader, error) { return o.newReader(r, "", nil) }

func (o Options) newReader(src io.Reader, name string, closer io.Closer) (*Reader, error) {
	r := &Reader{
		name:     name,
		opts:     o,
		closer:   closer,
		dataEnd:  -1,
		byID:     map[uint64]*Attr{},
		names:    map[uint64]string{},
		meta:     map[string]string{},
		buildIDs: map[string][]byte{},
		cat:      session.NewRecordedCatalog("perfdata", "perf.data", name),
		copies:   intern.NewCopies(maxInterned),
		noticed:  map[string]bool{},
	}
	if err := r.open(src); err != nil {
		return nil, err
	}
	return r, nil
}

// open reads the header and everything the catalog needs.
func (r *Reader) open(src io.Reader) error {
	if ra, size, ok := randomAccess(src); ok {
		return r.openAt(ra, size)
	}
	// A stream: the pipe header tells the two modes apart.
	var h [pipeHeaderSize]byte
	n, err := io.ReadFull(src, h[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return r.readError(0, err)
	}
	if err := r.checkMagic(h[:n], int64(n)); err != nil {
		return err
	}
	if le.Uint64(h[8:]) == pipeHeaderSize {
		// A pipe hands over at most 64 KiB a read.
		return r.openPipe(src, 64<<10)
	}
	// File mode from a stream: hold it in memory.
	rest, err := io.ReadAll(io.LimitReader(src, maxInMemory+1))
	if err != nil {
		return r.readError(pipeHeaderSize, err)
	}
	if len(rest) > maxInMemory {
		return fmt.Errorf("perfdata: %s: a perf.data read from a pipe is held in memory and this one is larger than %d MiB; pass its path instead, or record it in pipe mode (perf record -o -)",
			r.which(), maxInMemory>>20)
	}
	all := append(h[:], rest...)
	return r.openAt(bytes.NewReader(all), int64(len(all)))
}

// randomAccess returns src as an io.ReaderAt with its size, when it is one
// that can tell its size (a regular file, an in-memory reader).
func randomAccess(src io.Reader) (io.ReaderAt, int64, bool) {
	ra, ok := src.(io.ReaderAt)
	if !ok {
		return nil, 0, false
	}
	if f, ok := src.(*os.File); ok {
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return nil, 0, false
		}
		return ra, st.Size(), true
	}
	if s, ok := src.(interface{ Size() int64 }); ok {
		return ra, s.Size(), true
	}
	if sk, ok := src.(io.Seeker); ok {
		if n, err := sk.Seek(0, io.SeekEnd); err == nil {
			return ra, n, true
		}
	}
	return nil, 0, false
}

// checkMagic checks the first bytes (n of them were read).
func (r *Reader) checkMagic(got []byte, n int64) error {
	switch {
	case n == 0:
		return r.formatError(0, "the file is empty; it is not a perf.data file")
	case len(got) >= len(Magic) && string(got[:len(Magic)]) == magicBigEndian:
		return r.formatError(0, "the perf.data was written on a big-endian machine; otrace reads only little-endian perf.data files")
	case !bytes.HasPrefix([]byte(Magic), got[:min(len(got), len(Magic))]):
		hint := ""
		if bytes.HasPrefix(got, []byte("\x7fOTRACE")) {
			hint = "; it looks like an otrace recording"
		} else if bytes.HasPrefix(got, []byte("PERFFILE")) {
			hint = "; it is a perf.data of the first version, which perf stopped writing in 2010"
		}
		return r.formatError(0, "not a perf.data file (bad magic %q)%s", got[:min(len(got), len(Magic))], hint)
	case n < pipeHeaderSize:
		return r.truncated(0, "the file of %d bytes is shorter than the %d-byte header", n, pipeHeaderSize)
	}
	return nil
}

// Catalog lists the events the file recorded.
func (r *Reader) Catalog() session.Catalog { return r.cat }

// Enable sets which events have handlers; samples of the others are
// skipped (and counted in Stats.NotEnabled). Every event must come from
// Catalog.
func (r *Reader) Enable(events []*event.Event) error { return r.cat.Enable(events) }

// Meta returns the file's host name, kernel release, architecture (as Go
// names it), CPU count and perf command line under replay's META keys,
// and the perf version under MetaPerfVersion.
func (r *Reader) Meta() map[string]string { return maps.Clone(r.meta) }

// Attrs returns the file's events as perf recorded them, in file order.
// Callers must not modify them.
func (r *Reader) Attrs() []*Attr { return r.attrs }

// BuildIDs returns the build ids of the BUILD_ID feature (perf writes those
// of the files its samples hit) by file name; the kernel's is under
// "[kernel.kallsyms]".
func (r *Reader) BuildIDs() map[string][]byte { return maps.Clone(r.buildIDs) }

// Pipe reports whether the file is in pipe mode.
func (r *Reader) Pipe() bool { return r.pipe }

// Stats returns what has been read so far.
func (r *Reader) Stats() Stats {
	s := r.stats
	s.ForcedFlushes = r.q.forced
	return s
}

// Interrupt makes the current or next Read return session.ErrInterrupted,
// and every Read after it. It is safe to call from any goroutine.
func (r *Reader) Interrupt() { r.interrupted.Store(true) }

// Close releases the reader and closes the file Open opened.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.in = nil
	r.q = queue{}
	if r.closer != nil {
		if err := r.closer.Close(); err != nil {
			return fmt.Errorf("perfdata: %w", err)
		}
	}
	return nil
}

var errClosed = errors.New("perfdata: Read after Close")

// Read delivers a batch of records to sink in time order. A sample's
// Record, with its Raw and Callchain, is reused for the next sample: sink
// must not keep it. Read returns io.EOF at the end of the data; a file cut
// short gives an error wrapping ErrTruncated, and a corrupt one a
// *FormatError, once every complete record before the damage has been
// delivered.
func (r *Reader) Read(sink session.Sink) error {
	if r.closed {
		return errClosed
	}
	for range batchSize {
		if r.interrupted.Load() {
			return session.ErrInterrupted
		}
		if b, time, ok := r.q.next(); ok {
			r.deliver(b, time, sink)
			continue
		}
		if r.err != nil {
			if len(r.q.pending) > 0 {
				r.q.flushAll()
				continue
			}
			return r.err
		}
		if err := r.step(); err != nil {
			r.err = err
		}
	}
	return nil
}

// step reads one record: it queues kernel records and handles perf's own
// at once (they describe what follows). It returns io.EOF at the end.
func (r *Reader) step() error {
	rec, off, err := r.next()
	if err != nil {
		return err
	}
	r.stats.Records++
	t := le.Uint32(rec)
	if t < recUserStart {
		r.push(rec)
		if r.q.full() {
			r.q.forceHalf()
		}
		return nil
	}
	return r.userRecord(t, rec, off)
}

// next returns the next record, header included, and its offset. The
// record aliases the read buffer until the next call.
func (r *Reader) next() ([]byte, int64, error) {
	in := r.in
	off := in.off
	if r.dataEnd >= 0 && off >= r.dataEnd {
		return nil, off, io.EOF
	}
	if !in.fill(recHeaderSize) {
		if in.rerr != io.EOF {
			return nil, off, r.readError(off, in.rerr)
		}
		n := in.buffered()
		switch {
		case r.dataEnd >= 0:
			return nil, off, r.truncated(off, "the file ends at offset %d, inside the data section the header says ends at offset %d", off+int64(n), r.dataEnd)
		case n > 0:
			return nil, off, r.truncated(off, "the stream ends inside a record header (%d of %d bytes)", n, recHeaderSize)
		}
		return nil, off, io.EOF
	}
	h := in.buf[in.start:]
	t, size := le.Uint32(h), int(le.Uint16(h[6:]))
	switch {
	case size == 0 && t == 0:
		return nil, off, r.formatError(off, "zero bytes where a record header should be; the file was not completely written")
	case size < recHeaderSize:
		return nil, off, r.formatError(off, "%s record size %d is smaller than the %d-byte record header", recName(t), size, recHeaderSize)
	case r.dataEnd >= 0 && int64(size) > r.dataEnd-off:
		return nil, off, r.formatError(off, "%s record of %d bytes runs past the end of the data section at offset %d", recName(t), size, r.dataEnd)
	}
	if !in.fill(size) {
		if in.rerr != io.EOF {
			return nil, off, r.readError(off, in.rerr)
		}
		return nil, off, r.truncated(off, "the file ends inside a %s record of %d bytes (%d bytes present)", recName(t), size, in.buffered())
	}
	rec := in.buf[in.start : in.start+size]
	in.consume(size)
	return rec, off, nil
}

func (r *Reader) formatError(off int64, format string, args ...any) error {
	return &FormatError{Name: r.name, Off: off, Msg: fmt.Sprintf(format, args...)}
}

func (r *Reader) truncated(off int64, format string, args ...any) error {
	return &FormatError{Name: r.name, Off: off, Msg: fmt.Sprintf(format, args...), Truncated: true}
}

// cursorError turns a cursor's error into a FormatError.
func (r *Reader) cursorError(err error, what string) error {
	var ce *cursorError
	if errors.As(err, &ce) {
		return r.formatError(ce.off, "%s: %s", what, ce.msg)
	}
	return err
}

func (r *Reader) readError(off int64, err error) error {
	return fmt.Errorf("perfdata: reading %s at offset %d: %w", r.which(), off, err)
}
