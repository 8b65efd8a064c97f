package replay

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

const (
	// bufSize is the read buffer: large enough that a read syscall brings
	// in thousands of records. It grows, up to MaxRecordSize, only for a
	// record bigger than itself.
	bufSize    = 1 << 20
	minBufSize = 4 << 10
	// batchSize is how many records one Read handles before it returns, so
	// the session can check its deadlines.
	batchSize = 256
	// maxInterned bounds the strings and build ids kept for reuse; beyond
	// it each new one is allocated.
	maxInterned = 1 << 14
	// maxEmptyReads is how many (0, nil) reads in a row count as a stuck
	// reader.
	maxEmptyReads = 100
)

// Stats counts what a Reader has read so far.
type Stats struct {
	Records    uint64 // records after the file header, END not counted
	Samples    uint64 // SAMPLE records, delivered or not
	Unknown    uint64 // records of types this reader does not know, skipped
	NotEnabled uint64 // samples of events without handlers, skipped
	// OutOfOrder counts timed records (SAMPLE, COMM, FORK, EXIT, MMAP,
	// LOST) earlier than the latest time before them. They are delivered
	// as they are.
	OutOfOrder uint64
}

// Reader plays a recording back. It implements session.Source: Catalog
// and Enable are ready after Open, and Read delivers the recording's
// records in file order. Except for Interrupt, its methods must be called
// from one goroutine.
type Reader struct {
	name   string    // path for messages, "" when unknown
	src    io.Reader // the recording
	closer io.Closer // set when Open opened the file

	// buf[start:end] holds bytes read but not yet consumed; off is the
	// recording offset of buf[start].
	buf        []byte
	start, end int
	off        int64
	rerr       error // io.EOF or the read error that stopped filling buf

	cat      *catalog
	meta     map[string]string
	stats    Stats
	lastTime uint64

	// rec and chain are reused for every sample delivered.
	rec    event.Record
	chain  []uint64
	copies *intern.Copies // comms, paths and build ids, kept beyond the read buffer

	err         error // sticky: io.EOF after END, or what stopped reading
	interrupted atomic.Bool
	closed      bool
}

var _ session.Source = (*Reader)(nil)

// Open opens the recording at path ("-" reads standard input) and reads its
// header, META and EVENT records.
func Open(path string) (*Reader, error) {
	if path == "-" {
		return newReader(os.Stdin, "stdin", nil, bufSize)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	size := bufSize
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() < bufSize {
		size = int(st.Size())
	}
	r, err := newReader(f, path, f, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// NewReader reads a recording from r, starting with its header, META and
// EVENT records. Close does not close r.
func NewReader(r io.Reader) (*Reader, error) {
	size := bufSize
	if l, ok := r.(interface{ Len() int }); ok && l.Len() < bufSize {
		size = l.Len() // an in-memory recording needs no more
	}
	return newReader(r, "", nil, size)
}

func newReader(src io.Reader, name string, closer io.Closer, size int) (*Reader, error) {
	r := &Reader{
		name:   name,
		src:    src,
		closer: closer,
		buf:    make([]byte, max(size, minBufSize)),
		cat:    newCatalog(name),
		meta:   map[string]string{},
		copies: intern.NewCopies(maxInterned),
	}
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	if err := r.readPreamble(); err != nil {
		return nil, err
	}
	return r, nil
}

// Catalog lists the events the recording declares.
func (r *Reader) Catalog() session.Catalog { return r.cat }

// Enable sets which events have handlers; samples of the others are
// skipped (and counted in Stats.NotEnabled). Every event must come from
// Catalog.
func (r *Reader) Enable(events []*event.Event) error { return r.cat.Enable(events) }

// Meta returns a copy of the recording's META entries.
func (r *Reader) Meta() map[string]string { return maps.Clone(r.meta) }

// Stats returns what has been read so far.
func (r *Reader) Stats() Stats { return r.stats }

// Interrupt makes the current or next Read return session.ErrInterrupted,
// and every Read after it. It is safe to call from any goroutine.
func (r *Reader) Interrupt() { r.interrupted.Store(true) }

// Close releases the reader and closes the file Open opened.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.buf = nil
	if r.closer != nil {
		if err := r.closer.Close(); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
	}
	return nil
}

var errClosed = errors.New("replay: Read after Close")

// Read delivers up to a batch of records to sink in file order. A sample's
// Record, with its Raw and Callchain, is reused for the next sample: sink
// must not keep it. Read returns io.EOF after the END record; a recording
// that ends without one gives an error wrapping ErrTruncated once every
// complete record before the cut has been delivered.
func (r *Reader) Read(sink session.Sink) error {
	if r.closed {
		return errClosed
	}
	for range batchSize {
		if r.interrupted.Load() {
			return session.ErrInterrupted
		}
		if r.err != nil {
			return r.err
		}
		t, body, off, err := r.next()
		if err == nil {
			err = r.record(t, body, off, sink)
		}
		if err != nil {
			r.err = err
			return err
		}
	}
	return nil
}

// readHeader checks the file header and skips to the first record.
func (r *Reader) readHeader() error {
	if !r.fill(fileHeaderSize) {
		if r.rerr != io.EOF {
			return r.readError(0)
		}
		got := r.buf[r.start:r.end]
		switch {
		case len(got) == 0:
			return r.formatError(0, "the file is empty; it is not an otrace recording")
		case !bytes.HasPrefix([]byte(Magic), got[:min(len(got), len(Magic))]):
			return r.badMagic(got)
		}
		return r.formatError(0, "the file of %d bytes is shorter than the %d-byte file header", len(got), fileHeaderSize)
	}
	h := r.buf[r.start : r.start+fileHeaderSize]
	if string(h[:len(Magic)]) != Magic {
		return r.badMagic(h)
	}
	switch v := le.Uint16(h[8:]); {
	case v == 0:
		return r.formatError(8, "bad format version 0")
	case v > Version:
		return r.formatError(8, "format version %d is newer than this otrace reads (version %d); upgrade otrace to read it", v, Version)
	}
	switch order := h[10]; order {
	case littleEndian:
	case bigEndian:
		return r.formatError(10, "the recording is big-endian; otrace reads only little-endian recordings")
	default:
		return r.formatError(10, "bad byte order %d (want %d, little-endian)", order, littleEndian)
	}
	if flags := le.Uint32(h[12:]); flags&incompatFlags != 0 {
		return r.formatError(12, "the recording uses features this otrace does not know (flags %#x); upgrade otrace to read it", flags&incompatFlags)
	}
	hsize := le.Uint32(h[16:])
	if hsize < fileHeaderSize || hsize > maxHeaderSize || hsize%align != 0 {
		return r.formatError(16, "bad file header size %d (want a multiple of %d from %d to %d)", hsize, align, fileHeaderSize, maxHeaderSize)
	}
	if !r.fill(int(hsize)) {
		if r.rerr != io.EOF {
			return r.readError(0)
		}
		return r.formatError(0, "the file of %d bytes is shorter than its %d-byte file header", r.end-r.start, hsize)
	}
	r.consume(int(hsize))
	return nil
}

func (r *Reader) badMagic(got []byte) error {
	got = got[:min(len(got), len(Magic))]
	hint := ""
	if string(got) == "PERFILE2" {
		hint = "; it looks like a perf.data file"
	}
	return r.formatError(0, "not an otrace recording (bad magic %q)%s", got, hint)
}

// readPreamble reads the META and EVENT records before the first other
// record, so that Catalog and Meta are complete before the first Read. A
// cut in the preamble is left for Read to report, after the header it
// does not count as a failure to open.
func (r *Reader) readPreamble() error {
	for r.fill(recHeaderSize) {
		if t := le.Uint16(r.buf[r.start+4:]); t != recMeta && t != recEvent {
			return nil
		}
		t, body, off, err := r.next()
		if err != nil {
			if errors.Is(err, ErrTruncated) {
				return nil
			}
			return err
		}
		if err := r.record(t, body, off, nil); err != nil {
			return err
		}
	}
	return nil
}

// fill makes at least n bytes (n <= MaxRecordSize) available at
// buf[start:], reading as much as fits with each call. It reports false
// when the recording ends first or a read fails; rerr says which.
func (r *Reader) fill(n int) bool {
	if r.end-r.start >= n {
		return true
	}
	if r.start+n > len(r.buf) {
		copy(r.buf, r.buf[r.start:r.end])
		r.end -= r.start
		r.start = 0
	}
	for empty := 0; r.end-r.start < n && r.rerr == nil; {
		if r.end == len(r.buf) {
			// Grow only once the bytes are really there, so a corrupt
			// size cannot make the reader allocate for data it lacks.
			nb := make([]byte, min(2*len(r.buf), MaxRecordSize))
			r.end = copy(nb, r.buf[r.start:r.end])
			r.start = 0
			r.buf = nb
		}
		m, err := r.src.Read(r.buf[r.end:])
		r.end += m
		switch {
		case err != nil:
			r.rerr = err
		case m == 0:
			if empty++; empty >= maxEmptyReads {
				r.rerr = io.ErrNoProgress
			}
		default:
			empty = 0
		}
	}
	return r.end-r.start >= n
}

func (r *Reader) consume(n int) {
	r.start += n
	r.off += int64(n)
}

// next returns the next record's type, body and offset, and consumes it.
// The body aliases buf until the next call.
func (r *Reader) next() (uint16, []byte, int64, error) {
	off := r.off
	if !r.fill(recHeaderSize) {
		if r.rerr != io.EOF {
			return 0, nil, off, r.readError(off)
		}
		if n := r.end - r.start; n > 0 {
			return 0, nil, off, r.truncated(off, "the file ends inside a record header (%d of %d bytes)", n, recHeaderSize)
		}
		return 0, nil, off, r.truncated(off, "the file ends after %d records without an END record", r.stats.Records)
	}
	h := r.buf[r.start:]
	size := le.Uint32(h)
	t := le.Uint16(h[4:])
	switch {
	case size == 0 && t == 0:
		return 0, nil, off, r.formatError(off, "zero bytes where a record header should be; the file was not completely written")
	case size < recHeaderSize:
		return 0, nil, off, r.formatError(off, "%s record size %d is smaller than the %d-byte record header", recName(t), size, recHeaderSize)
	case size > MaxRecordSize:
		return 0, nil, off, r.formatError(off, "%s record of %d bytes is larger than the %d-byte limit", recName(t), size, MaxRecordSize)
	case size%align != 0:
		return 0, nil, off, r.formatError(off, "%s record size %d is not a multiple of %d", recName(t), size, align)
	}
	if !r.fill(int(size)) {
		if r.rerr != io.EOF {
			return 0, nil, off, r.readError(off)
		}
		return 0, nil, off, r.truncated(off, "the file ends inside a %s record of %d bytes (%d bytes present)", recName(t), size, r.end-r.start)
	}
	body := r.buf[r.start+recHeaderSize : r.start+int(size)]
	r.consume(int(size))
	return t, body, off, nil
}

func (r *Reader) formatError(off int64, format string, args ...any) error {
	return &FormatError{Name: r.name, Off: off, Msg: fmt.Sprintf(format, args...)}
}

func (r *Reader) truncated(off int64, format string, args ...any) error {
	return &FormatError{Name: r.name, Off: off, Msg: fmt.Sprintf(format, args...), Truncated: true}
}

func (r *Reader) readError(off int64) error {
	name := r.name
	if name == "" {
		name = "recording"
	}
	return fmt.Errorf("replay: reading %s at offset %d: %w", name, off, r.rerr)
}
