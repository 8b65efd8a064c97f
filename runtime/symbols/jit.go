package symbols

import (
	"container/heap"
	"slices"
	"sort"
)

// jitTable is one process's JIT-compiled functions: entries in the order
// they were learnt, painted onto disjoint segments where the latest entry
// covering an address owns it. Perf maps fill it a file at a time
// (paint); events that announce compiled code, such as the .NET runtime's
// MethodLoad on Windows, one function at a time (overlay, through
// Resolver.AddJIT).
type jitTable struct {
	entries []jitEntry
	segs    []jitSeg // sorted, disjoint
}

type jitEntry struct {
	start, end uint64
	name       string
}

type jitSeg struct {
	start, end uint64
	entry      int
}

// addedJIT is the table AddJIT fills for one process.
type addedJIT struct {
	jitTable
	cache map[uint64][]Frame
}

// AddJIT names the code at [start, start+size) of process pid, as a
// runtime announced it (a .NET method compiled on Windows). A later
// function over the same addresses replaces an earlier one, as code
// memory is reused. JIT looks these up before the process's perf map.
// size 0 names nothing: a function without code has no address.
func (r *Resolver) AddJIT(pid int32, start, size uint64, name string) {
	if size == 0 || name == "" {
		return
	}
	t := r.jits[pid]
	if t == nil {
		t = &addedJIT{cache: map[uint64][]Frame{}}
		r.jits[pid] = t
	}
	end := start + size
	if end < start {
		end = ^uint64(0)
	}
	t.overlay(jitEntry{start: start, end: end, name: name})
	if len(t.cache) > 0 {
		clear(t.cache)
	}
}

// overlay adds e over the painted segments without painting again, so
// that announcing functions one by one costs a search and a copy each.
func (t *jitTable) overlay(e jitEntry) {
	t.entries = append(t.entries, e)
	idx := len(t.entries) - 1
	i := sort.Search(len(t.segs), func(k int) bool { return t.segs[k].end > e.start })
	j := sort.Search(len(t.segs), func(k int) bool { return t.segs[k].start >= e.end })
	repl := make([]jitSeg, 0, 3)
	if i < j && t.segs[i].start < e.start {
		repl = append(repl, jitSeg{start: t.segs[i].start, end: e.start, entry: t.segs[i].entry})
	}
	repl = append(repl, jitSeg{start: e.start, end: e.end, entry: idx})
	if i < j && t.segs[j-1].end > e.end {
		repl = append(repl, jitSeg{start: e.end, end: t.segs[j-1].end, entry: t.segs[j-1].entry})
	}
	t.segs = slices.Replace(t.segs, i, j, repl...)
}

func (t *jitTable) frame(addr uint64) Frame {
	i := sort.Search(len(t.segs), func(i int) bool { return t.segs[i].start > addr }) - 1
	if i < 0 || addr >= t.segs[i].end {
		return Frame{Addr: addr, Module: "[unknown]"}
	}
	e := &t.entries[t.segs[i].entry]
	return Frame{Addr: addr, Func: demangleName(e.name), Offset: addr - e.start, Module: jitModule}
}

// paint lays the entries onto disjoint segments, later entries over
// earlier ones (a JIT reuses code memory and writes the new function
// after the old one). A size-0 entry reaches to the next entry that
// starts later (perf maps write such lines).
func (t *jitTable) paint() {
	n := len(t.entries)
	if n == 0 {
		t.segs = nil
		return
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return t.entries[order[a]].start < t.entries[order[b]].start })
	ends := make([]uint64, n)
	for k, i := range order {
		e := t.entries[i]
		ends[i] = e.end
		if e.end != e.start {
			continue
		}
		// Size 0: up to the next entry that starts later.
		rest := order[k+1:]
		j := sort.Search(len(rest), func(j int) bool { return t.entries[rest[j]].start > e.start })
		if j < len(rest) {
			ends[i] = t.entries[rest[j]].start
		} else if ends[i] = e.start + lastSymbolSpan; ends[i] < e.start {
			ends[i] = ^uint64(0)
		}
	}
	// Sweep the distinct boundaries left to right, keeping the entries
	// that started in a heap ordered by line number: the newest one that
	// has not ended owns the span up to the next boundary.
	bounds := make([]uint64, 0, 2*n)
	for i, e := range t.entries {
		bounds = append(bounds, e.start, ends[i])
	}
	sort.Slice(bounds, func(a, b int) bool { return bounds[a] < bounds[b] })
	bounds = slices.Compact(bounds)
	active := &newestFirst{}
	next := 0
	t.segs = t.segs[:0]
	for bi := 0; bi+1 < len(bounds); bi++ {
		at, segEnd := bounds[bi], bounds[bi+1]
		for next < n && t.entries[order[next]].start <= at {
			heap.Push(active, order[next])
			next++
		}
		for active.Len() > 0 && ends[(*active)[0]] <= at {
			heap.Pop(active)
		}
		if active.Len() == 0 {
			continue
		}
		owner := (*active)[0]
		if m := len(t.segs); m > 0 && t.segs[m-1].entry == owner && t.segs[m-1].end == at {
			t.segs[m-1].end = segEnd
			continue
		}
		t.segs = append(t.segs, jitSeg{start: at, end: segEnd, entry: owner})
	}
}

// newestFirst is a max-heap of entry indexes (line order).
type newestFirst []int

func (h newestFirst) Len() int           { return len(h) }
func (h newestFirst) Less(i, j int) bool { return h[i] > h[j] }
func (h newestFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *newestFirst) Push(x any)        { *h = append(*h, x.(int)) }
func (h *newestFirst) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
