package perfdata

import "io"

const (
	// bufSize is the read buffer: large enough that a read brings in
	// thousands of records. A record is at most 64 KiB (its size is a
	// u16), so the buffer grows at most to maxBuf.
	bufSize    = 1 << 20
	minBufSize = 4 << 10
	maxBuf     = 1 << 17
	// maxEmptyReads is how many (0, nil) reads in a row count as a stuck
	// reader.
	maxEmptyReads = 100
)

// input reads records from the data section (file mode) or the stream
// after the pipe header.
type input struct {
	src io.Reader
	// buf[start:end] holds bytes read but not yet consumed; off is the
	// file offset of buf[start].
	buf        []byte
	start, end int
	off        int64
	rerr       error // io.EOF or the read error that stopped filling buf
}

func newInput(src io.Reader, off int64, size int) *input {
	return &input{src: src, off: off, buf: make([]byte, min(max(size, minBufSize), bufSize))}
}

// fill makes at least n bytes (n <= maxBuf) available at buf[start:],
// reading as much as fits with each call. It reports false when the input
// ends first or a read fails; rerr says which.
func (in *input) fill(n int) bool {
	if in.end-in.start >= n {
		return true
	}
	if in.start+n > len(in.buf) {
		copy(in.buf, in.buf[in.start:in.end])
		in.end -= in.start
		in.start = 0
	}
	for empty := 0; in.end-in.start < n && in.rerr == nil; {
		if in.end == len(in.buf) {
			// Grow only once the bytes are really there, so a corrupt
			// size cannot make the reader allocate for data it lacks.
			nb := make([]byte, min(2*len(in.buf), maxBuf))
			in.end = copy(nb, in.buf[in.start:in.end])
			in.start = 0
			in.buf = nb
		}
		m, err := in.src.Read(in.buf[in.end:])
		in.end += m
		switch {
		case err != nil:
			in.rerr = err
		case m == 0:
			if empty++; empty >= maxEmptyReads {
				in.rerr = io.ErrNoProgress
			}
		default:
			empty = 0
		}
	}
	return in.end-in.start >= n
}

func (in *input) consume(n int) {
	in.start += n
	in.off += int64(n)
}

func (in *input) buffered() int { return in.end - in.start }

// blob reads n bytes that follow a record in pipe mode into a new slice,
// growing it as the bytes arrive so that a corrupt size allocates no more
// than the input holds. It reports how many bytes it got.
func (in *input) blob(n uint64) ([]byte, bool) {
	b := make([]byte, 0, min(n, 1<<20))
	for uint64(len(b)) < n {
		if !in.fill(1) {
			return b, false
		}
		k := int(min(uint64(in.buffered()), n-uint64(len(b))))
		b = append(b, in.buf[in.start:in.start+k]...)
		in.consume(k)
	}
	return b, true
}

// skip consumes n bytes without keeping them.
func (in *input) skip(n uint64) bool {
	for n > 0 {
		if !in.fill(1) {
			return false
		}
		k := int(min(uint64(in.buffered()), n))
		in.consume(k)
		n -= uint64(k)
	}
	return true
}
