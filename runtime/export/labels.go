package export

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
)

// Label is one label of a sample: a string (comm, any key a script
// chooses) or, when Numeric, a number with an optional unit (pid, tid).
type Label struct {
	Key     string
	Str     string
	Num     int64
	Unit    string
	Numeric bool
}

// StringLabel is a string label.
func StringLabel(key, value string) Label { return Label{Key: key, Str: value} }

// NumLabel is a numeric label; unit may be empty.
func NumLabel(key string, value int64, unit string) Label {
	return Label{Key: key, Num: value, Unit: unit, Numeric: true}
}

// Labels is a sample's labels, each key once, in any order.
type Labels []Label

// labelSets interns label sets: the same labels in any order get the same
// id, and a set seen before is found without allocating. Id 0 is the
// empty set.
type labelSets struct {
	seed  maphash.Seed
	first map[uint64]uint32 // by hash: the first set with it
	next  []uint32          // by id: the next set with the same hash
	sets  []labelSet        // by id
	arena []Label
}

type labelSet struct{ off, n uint32 }

func newLabelSets() labelSets {
	return labelSets{seed: maphash.MakeSeed(), first: map[uint64]uint32{}, next: []uint32{0}, sets: []labelSet{{}}}
}

// hash does not depend on the labels' order: it sums one mixed hash per
// label.
func (s *labelSets) hash(ls Labels) uint64 {
	var h uint64
	for i := range ls {
		l := &ls[i]
		x := maphash.String(s.seed, l.Key) * 0x9e3779b97f4a7c15
		if l.Numeric {
			x ^= uint64(l.Num)*0xff51afd7ed558ccd ^ maphash.String(s.seed, l.Unit) ^ 1
		} else {
			x ^= maphash.String(s.seed, l.Str)
		}
		x ^= x >> 31
		x *= 0xc4ceb9fe1a85ec53
		x ^= x >> 29
		h += x
	}
	return h
}

func (s *labelSets) intern(ls Labels) (uint32, error) {
	if len(ls) == 0 {
		return 0, nil
	}
	h := s.hash(ls)
	for id := s.first[h]; id != 0; id = s.next[id] {
		if s.equal(id, ls) {
			return id, nil
		}
	}
	for i, l := range ls {
		if l.Key == "" {
			return 0, fmt.Errorf("export: a label has no key")
		}
		for _, m := range ls[:i] {
			if m.Key == l.Key {
				return 0, fmt.Errorf("export: label %q given twice", l.Key)
			}
		}
	}
	id := uint32(len(s.sets))
	off := len(s.arena)
	s.arena = append(s.arena, ls...)
	// Kept sorted by key, so writers print labels in a stable order.
	stored := s.arena[off:]
	slices.SortFunc(stored, func(a, b Label) int { return strings.Compare(a.Key, b.Key) })
	s.sets = append(s.sets, labelSet{off: uint32(off), n: uint32(len(ls))})
	s.next = append(s.next, s.first[h])
	s.first[h] = id
	return id, nil
}

// equal reports whether set id holds exactly ls; the stored set has
// distinct keys, so same length and every label found means equal.
func (s *labelSets) equal(id uint32, ls Labels) bool {
	set := s.get(id)
	if len(set) != len(ls) {
		return false
	}
	for i := range ls {
		l := &ls[i]
		found := false
		for j := range set {
			m := &set[j]
			if m.Key == l.Key {
				found = m.Numeric == l.Numeric && m.Str == l.Str && m.Num == l.Num && m.Unit == l.Unit
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// get returns set id's labels, sorted by key; the slice must not be
// modified.
func (s *labelSets) get(id uint32) []Label {
	set := s.sets[id]
	return s.arena[set.off : set.off+set.n : set.off+set.n]
}

// str returns the string label key of set id, if it has one.
func (s *labelSets) str(id uint32, key string) (string, bool) {
	for _, l := range s.get(id) {
		if l.Key == key && !l.Numeric {
			return l.Str, true
		}
	}
	return "", false
}
