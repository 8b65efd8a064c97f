package intern

// Copies turns bytes read into a reused buffer (a perf ring, a file
// block) into values that outlive it, handing out one copy for equal
// bytes: comms, paths and build-ids repeat in every record naming a
// process or a mapping, and the process model keeps them. A value seen
// before costs a map lookup and no allocation. At most max distinct
// values of each kind are kept; past that a new one is copied each time,
// so hostile input cannot grow the table without bound. Not safe for
// concurrent use.
type Copies struct {
	max   int
	strs  map[string]string
	bytes map[string][]byte
}

// NewCopies returns an empty table keeping at most max values of each
// kind.
func NewCopies(max int) *Copies {
	return &Copies{max: max, strs: map[string]string{}, bytes: map[string][]byte{}}
}

// String returns b as a string.
func (c *Copies) String(b []byte) string {
	if s, ok := c.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(c.strs) < c.max {
		c.strs[s] = s
	}
	return s
}

// Bytes returns a copy of b; callers must not modify it. Empty is nil.
func (c *Copies) Bytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if v, ok := c.bytes[string(b)]; ok {
		return v
	}
	v := append([]byte(nil), b...)
	if len(c.bytes) < c.max {
		c.bytes[string(v)] = v
	}
	return v
}
