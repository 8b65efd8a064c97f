package intern

// Strings interns strings. Id 0 is the empty string; others are dense
// from 1 in first-seen order. Not safe for concurrent use.
type Strings struct {
	ids  map[string]uint32
	strs []string
}

// NewStrings returns an empty table.
func NewStrings() *Strings {
	return &Strings{ids: map[string]uint32{"": 0}, strs: []string{""}}
}

// ID returns the id of b's text, adding it when new. A hit does not
// allocate.
func (s *Strings) ID(b []byte) uint32 {
	if id, ok := s.ids[string(b)]; ok {
		return id
	}
	return s.add(string(b))
}

// IDOf is ID for a string.
func (s *Strings) IDOf(str string) uint32 {
	if id, ok := s.ids[str]; ok {
		return id
	}
	return s.add(str)
}

func (s *Strings) add(str string) uint32 {
	id := uint32(len(s.strs))
	s.strs = append(s.strs, str)
	s.ids[str] = id
	return id
}

// Str returns the string of id, and false for an id never handed out.
func (s *Strings) Str(id uint32) (string, bool) {
	if int(id) >= len(s.strs) {
		return "", false
	}
	return s.strs[id], true
}

// Len is the number of distinct strings, the empty one included.
func (s *Strings) Len() int { return len(s.strs) }
