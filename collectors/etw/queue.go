package etw

import (
	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// itemKind is what an item delivers.
type itemKind uint8

const (
	itemSample itemKind = iota
	itemComm
	itemFork
	itemExit
	itemMmap
	itemLost
	itemJIT
)

// item is one record waiting in the source's queue: ETW delivers each
// CPU's buffers separately, so records arrive out of order across CPUs,
// and a kernel event's stack walk arrives after it. Items are pooled.
type item struct {
	kind itemKind
	time uint64 // ns since the session started
	seq  uint64 // arrival order, to keep the sort stable
	idx  int    // position in the heap

	// itemSample
	ev     *event.Event
	fill   *event.Format // a format known only now, installed into ev.Format at delivery
	cpu    uint32
	pid    int32
	tid    int32
	raw    []byte
	kstack []uint64 // leaf first
	ustack []uint64

	// Stack walks find their event by raw timestamp and thread.
	stamp     int64
	stackTIDs [3]uint32
	nextSame  *item // the next item waiting for a stack with the same stamp
	waiting   bool  // registered for a stack walk

	comm process.Comm
	fork process.Fork
	exit process.Exit
	mmap process.Mmap
	lost session.Lost
	jit  session.JITCode
}

// itemHeap is a min-heap of items by (time, seq).
type itemHeap []*item

func (h itemHeap) less(i, j int) bool {
	if h[i].time != h[j].time {
		return h[i].time < h[j].time
	}
	return h[i].seq < h[j].seq
}

func (h itemHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}

func (h *itemHeap) push(it *item) {
	*h = append(*h, it)
	i := len(*h) - 1
	it.idx = i
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h *itemHeap) pop() *item {
	old := *h
	n := len(old) - 1
	old.swap(0, n)
	it := old[n]
	old[n] = nil
	*h = old[:n]
	h.down(0)
	return it
}

func (h itemHeap) down(i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}
