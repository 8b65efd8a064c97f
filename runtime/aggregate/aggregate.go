package aggregate

import (
	"fmt"
	"math"
	"strconv"
)

// Kind is what an aggregation computes per key.
type Kind uint8

// The aggregation kinds.
const (
	Count Kind = iota // how many times (or by how much) a key was counted
	Sum               // total of the values
	Min               // smallest value
	Max               // largest value
	Avg               // mean, kept as sum and count
	Stats             // count, mean, total, min and max
	Hist              // power-of-two histogram
	LHist             // linear histogram
)

var kindNames = [...]string{"count", "sum", "min", "max", "avg", "stats", "hist", "lhist"}

// String is the kind's name in scripts: "count", "hist"...
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// DefaultMaxKeys is the key cap of an aggregation whose Options do not set
// one.
const DefaultMaxKeys = 65536

// Options tune an aggregation.
type Options struct {
	// MaxKeys caps the number of keys; 0 means DefaultMaxKeys. Updates of
	// new keys beyond it are dropped and counted (Agg.Dropped).
	MaxKeys int
	// Linear are the bounds of an lhist; other kinds ignore them.
	Linear Linear
	// Warn, when not nil, receives one line the first time an update is
	// dropped.
	Warn func(msg string)
}

// Agg is one aggregation: a value per key. It belongs to one goroutine.
type Agg struct {
	kind     Kind
	name     string
	maxKeys  int
	lin      Linear
	nbuckets int
	warn     func(string)

	entries []Entry
	// Where each key's entry is, by key kind; none is -1 when the unkeyed
	// value does not exist.
	none   int32
	ints   map[int64]int32
	strs   map[string]int32
	tuples map[string]int32 // by appendKey encoding
	stacks map[uint64]int32 // by Stack.AggKey
	buf    []byte           // tuple encoding, reused

	dropped uint64
	warned  bool
}

// Entry is a key and its value.
type Entry struct {
	Key   Key
	Value Value
}

// New makes an empty aggregation. An empty name makes an unnamed one: it
// prints as "@" and Registry.PrintAll skips it.
func New(kind Kind, name string, opts Options) (*Agg, error) {
	if kind > LHist {
		return nil, fmt.Errorf("aggregate: unknown kind %d", kind)
	}
	a := &Agg{kind: kind, name: name, maxKeys: opts.MaxKeys, warn: opts.Warn, none: -1}
	if a.maxKeys == 0 {
		a.maxKeys = DefaultMaxKeys
	}
	if a.maxKeys < 0 || a.maxKeys > math.MaxInt32 {
		return nil, fmt.Errorf("max_keys must be from 1 to %d, got %d", math.MaxInt32, a.maxKeys)
	}
	switch kind {
	case Hist:
		a.nbuckets = HistBuckets
	case LHist:
		n, err := opts.Linear.Buckets()
		if err != nil {
			return nil, err
		}
		a.lin, a.nbuckets = opts.Linear, n
	}
	return a, nil
}

// Kind is what the aggregation computes.
func (a *Agg) Kind() Kind { return a.kind }

// Name is the aggregation's name, "" when it has none.
func (a *Agg) Name() string { return a.name }

// MaxKeys is the key cap.
func (a *Agg) MaxKeys() int { return a.maxKeys }

// Linear are an lhist's bounds.
func (a *Agg) Linear() Linear { return a.lin }

// Len is the number of keys (the unkeyed value counts as one).
func (a *Agg) Len() int { return len(a.entries) }

// Dropped is how many updates of new keys were dropped because the
// aggregation had MaxKeys keys: one per Add of a value, n per Add of n to a
// count, and every value of a key dropped by a Merge.
func (a *Agg) Dropped() uint64 { return a.dropped }

// Add adds x under key k: a count grows by x, every other kind takes x as
// one value. It reports false when k is new and the aggregation is full;
// the update is then counted in Dropped. Adding to a key seen before does
// not allocate. Add keeps no reference to k's tuple slice.
func (a *Agg) Add(k *Key, x int64) bool {
	i, ok := a.find(k)
	if !ok {
		if i = a.insert(k); i < 0 {
			if a.kind == Count {
				a.drop(uint64(max(x, 0)))
			} else {
				a.drop(1)
			}
			return false
		}
	}
	v := &a.entries[i].Value
	switch a.kind {
	case Count:
		v.Count += x
	case Sum, Avg:
		v.Count++
		v.sum.add(x)
	case Min:
		if v.Count == 0 || x < v.Min {
			v.Min = x
		}
		v.Count++
	case Max:
		if v.Count == 0 || x > v.Max {
			v.Max = x
		}
		v.Count++
	case Stats:
		if v.Count == 0 {
			v.Min, v.Max = x, x
		} else {
			v.Min, v.Max = min(v.Min, x), max(v.Max, x)
		}
		v.Count++
		v.sum.add(x)
	case Hist:
		v.Count++
		v.Buckets[histIndex(x)]++
	case LHist:
		v.Count++
		v.Buckets[a.lin.index(x, a.nbuckets)]++
	}
	return true
}

// Get is k's value, if k is there. The pointer is valid until the next
// Add, Delete, Clear or Merge.
func (a *Agg) Get(k *Key) (*Value, bool) {
	i, ok := a.find(k)
	if !ok {
		return nil, false
	}
	return &a.entries[i].Value, true
}

// find is the index of k's entry.
func (a *Agg) find(k *Key) (int32, bool) {
	var i int32
	var ok bool
	switch k.Kind {
	case NoKey:
		i, ok = a.none, a.none >= 0
	case IntKey:
		i, ok = a.ints[k.Int]
	case StringKey:
		i, ok = a.strs[k.Str]
	case TupleKey:
		a.buf = appendKey(a.buf[:0], k)
		i, ok = a.tuples[string(a.buf)]
	case StackKey:
		i, ok = a.stacks[k.Stack.AggKey()]
	}
	return i, ok
}

// insert adds an entry for k, which is not there, and returns its index,
// or -1 when the aggregation is full.
func (a *Agg) insert(k *Key) int32 {
	if len(a.entries) >= a.maxKeys {
		return -1
	}
	i := int32(len(a.entries))
	e := Entry{Key: k.clone()}
	if a.nbuckets > 0 {
		e.Value.Buckets = make([]uint64, a.nbuckets)
	}
	a.entries = append(a.entries, e)
	a.setIndex(&e.Key, i)
	return i
}

// setIndex records that k's entry is at i.
func (a *Agg) setIndex(k *Key, i int32) {
	switch k.Kind {
	case NoKey:
		a.none = i
	case IntKey:
		if a.ints == nil {
			a.ints = map[int64]int32{}
		}
		a.ints[k.Int] = i
	case StringKey:
		if a.strs == nil {
			a.strs = map[string]int32{}
		}
		a.strs[k.Str] = i
	case TupleKey:
		if a.tuples == nil {
			a.tuples = map[string]int32{}
		}
		a.buf = appendKey(a.buf[:0], k)
		a.tuples[string(a.buf)] = i
	case StackKey:
		if a.stacks == nil {
			a.stacks = map[uint64]int32{}
		}
		a.stacks[k.Stack.AggKey()] = i
	}
}

// Delete removes k and its value, reporting whether it was there.
func (a *Agg) Delete(k *Key) bool {
	i, ok := a.find(k)
	if !ok {
		return false
	}
	switch k.Kind {
	case NoKey:
		a.none = -1
	case IntKey:
		delete(a.ints, k.Int)
	case StringKey:
		delete(a.strs, k.Str)
	case TupleKey:
		delete(a.tuples, string(a.buf)) // encoded by find
	case StackKey:
		delete(a.stacks, k.Stack.AggKey())
	}
	// Move the last entry into the hole.
	last := int32(len(a.entries) - 1)
	if i != last {
		a.entries[i] = a.entries[last]
		a.setIndex(&a.entries[i].Key, i)
	}
	a.entries[last] = Entry{}
	a.entries = a.entries[:last]
	return true
}

// Clear removes every key, and the drop count with them: what prints
// after a Clear is what came after it.
func (a *Agg) Clear() {
	clear(a.entries)
	a.entries = a.entries[:0]
	a.none = -1
	clear(a.ints)
	clear(a.strs)
	clear(a.tuples)
	clear(a.stacks)
	a.dropped = 0
}

// drop counts n dropped updates and warns the first time.
func (a *Agg) drop(n uint64) {
	a.dropped += n
	if a.warned || a.warn == nil {
		return
	}
	a.warned = true
	a.warn(fmt.Sprintf("%s reached max_keys %d: updates of new keys are dropped and counted; raise it with {max_keys: N}",
		a.label(), a.maxKeys))
}

// label names the aggregation in messages.
func (a *Agg) label() string {
	if a.name == "" {
		return "an unnamed " + a.kind.String()
	}
	return "@" + a.name
}
