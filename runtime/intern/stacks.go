package intern

// StackID names an interned stack; 0 is the empty stack.
type StackID uint32

// Space says which address space a stack's addresses belong to: the
// kernel's, or one image of one process (a pid and how many times it had
// exec'd when the stack was taken, since an exec replaces every mapping).
type Space struct {
	Kernel bool
	PID    int32
	Exec   uint32
}

// Stacks interns stacks: equal addresses in the same Space get the same
// id. A stack keeps the time it was first seen, which says which mappings
// the addresses belonged to. Not safe for concurrent use.
type Stacks struct {
	first map[uint64]StackID // by hash: the first stack with it
	next  []StackID          // by id: the next stack with the same hash
	meta  []stackMeta        // by id
	arena []uint64
}

type stackMeta struct {
	space Space
	time  uint64
	off   uint32 // into arena
	n     uint32
}

// NewStacks returns a table holding only the empty stack.
func NewStacks() *Stacks {
	return &Stacks{first: map[uint64]StackID{}, next: []StackID{0}, meta: []stackMeta{{}}}
}

// hash mixes the space and the addresses (FNV-1a over 64-bit words, with
// a final avalanche).
func hash(sp Space, addrs []uint64) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	k := uint64(uint32(sp.PID))<<32 | uint64(sp.Exec)
	if sp.Kernel {
		k = ^uint64(0)
	}
	h = (h ^ k) * prime
	for _, a := range addrs {
		h = (h ^ a) * prime
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// Intern returns the id of addrs (leaf first) in space sp, adding it,
// stamped with time t, when new. A hit does not allocate.
func (s *Stacks) Intern(sp Space, t uint64, addrs []uint64) StackID {
	if len(addrs) == 0 {
		return 0
	}
	h := hash(sp, addrs)
	id, ok := s.first[h]
	if ok {
		for ; id != 0; id = s.next[id] {
			m := &s.meta[id]
			if m.space == sp && equal(s.arena[m.off:m.off+m.n], addrs) {
				return id
			}
		}
	}
	id = StackID(len(s.meta))
	s.meta = append(s.meta, stackMeta{space: sp, time: t, off: uint32(len(s.arena)), n: uint32(len(addrs))})
	s.arena = append(s.arena, addrs...)
	// Chain the new stack in front of those with the same hash.
	s.next = append(s.next, s.first[h])
	s.first[h] = id
	return id
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Stack returns a stack's space, first-seen time and addresses (leaf
// first; the slice must not be modified).
func (s *Stacks) Stack(id StackID) (Space, uint64, []uint64) {
	if int(id) >= len(s.meta) {
		return Space{}, 0, nil
	}
	m := s.meta[id]
	return m.space, m.time, s.arena[m.off : m.off+m.n : m.off+m.n]
}

// Len is the number of distinct stacks, the empty one included.
func (s *Stacks) Len() int { return len(s.meta) }
