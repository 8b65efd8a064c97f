package perfdata

import "fmt"

// cursor decodes a byte slice front to back. The first read past the end
// sets err, naming what was read and its file offset; later reads return
// zeros.
type cursor struct {
	b    []byte
	off  int
	base int64 // file offset of b[0]
	err  error
}

// fail records the first error at the cursor's offset.
func (c *cursor) fail(format string, args ...any) {
	if c.err == nil {
		c.err = &cursorError{off: c.base + int64(c.off), msg: fmt.Sprintf(format, args...)}
	}
}

// cursorError is turned into a FormatError by the reader, which knows the
// file's name.
type cursorError struct {
	off int64
	msg string
}

func (e *cursorError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.msg) }

func (c *cursor) left() int { return len(c.b) - c.off }

// take returns the next n bytes, or nil after an error.
func (c *cursor) take(n uint64, what string) []byte {
	if c.err != nil {
		return nil
	}
	if n > uint64(c.left()) {
		c.fail("%s of %d bytes does not fit the %d bytes left", what, n, c.left())
		return nil
	}
	b := c.b[c.off : c.off+int(n)]
	c.off += int(n)
	return b
}

func (c *cursor) u8(what string) uint8 {
	if b := c.take(1, what); b != nil {
		return b[0]
	}
	return 0
}

func (c *cursor) u32(what string) uint32 {
	if b := c.take(4, what); b != nil {
		return le.Uint32(b)
	}
	return 0
}

func (c *cursor) u64(what string) uint64 {
	if b := c.take(8, what); b != nil {
		return le.Uint64(b)
	}
	return 0
}

// headerString reads a perf_header_string: a u32 length (padding
// included) and that many bytes holding a NUL-terminated string.
func (c *cursor) headerString(what string) string {
	n := c.u32(what + " length")
	return string(cstring(c.take(uint64(n), what)))
}

// cstr reads a NUL-terminated string and its NUL.
func (c *cursor) cstr(what string) string {
	if c.err != nil {
		return ""
	}
	for i := c.off; i < len(c.b); i++ {
		if c.b[i] == 0 {
			s := string(c.b[c.off:i])
			c.off = i + 1
			return s
		}
	}
	c.fail("%s has no terminating NUL", what)
	return ""
}
