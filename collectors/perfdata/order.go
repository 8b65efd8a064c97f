package perfdata

import (
	"cmp"
	"slices"
)

const (
	// maxQueued and maxQueuedBytes bound the records held while waiting
	// for a FINISHED_ROUND. Perf ends a round after every pass over its
	// buffers, so a file that exceeds them has no rounds (or one huge
	// round); the reader then delivers the older half of what it holds
	// and counts a forced flush.
	maxQueued      = 1 << 20
	maxQueuedBytes = 128 << 20
)

// queued is one record held for ordering; its bytes are
// arena[at:at+n] of the arena it was stored in.
type queued struct {
	time uint64
	seq  uint64 // file order, to keep records of equal time in it
	at   uint32
	n    uint32
}

// queue orders records the way perf report does. Perf writes each CPU's
// ring in turn, in passes, and ends each pass with FINISHED_ROUND; a ring
// is in time order, the file is not. A record of round n+1 is newer than
// every record read in round n-1, so when round n ends, everything up to
// the newest time seen by the end of round n-1 can be delivered in order.
type queue struct {
	arena []byte // bytes of pending records
	// pending holds the records waiting for their round to close: the
	// first sorted of them, carried over sorted from the last flush, then
	// those pushed since.
	pending []queued
	sorted  int

	// ready holds the sorted records being delivered, from ready[rpos];
	// their bytes live in readyArena, which is not written until all are
	// delivered. Then the two buffers take the next flush's carry-over.
	ready      []queued
	rpos       int
	readyArena []byte
	merge      []queued // scratch for merging the carry-over with new records

	seq          uint64
	lastTime     uint64 // time of the record pushed before, for records without one
	maxTime      uint64 // newest time pushed
	prevRoundMax uint64 // newest time pushed before the last FINISHED_ROUND
	forced       uint64 // flushes forced by the bounds
	// maxN and maxBytes override maxQueued and maxQueuedBytes when set.
	maxN, maxBytes int
}

// push stores a copy of rec. A record without a time takes the time of the
// record before it in the file, so that it stays among its neighbours.
func (q *queue) push(rec []byte, time uint64, hasTime bool) {
	if !hasTime {
		time = q.lastTime
	}
	q.lastTime = time
	q.maxTime = max(q.maxTime, time)
	q.pending = append(q.pending, queued{time: time, seq: q.seq, at: uint32(len(q.arena)), n: uint32(len(rec))})
	q.seq++
	q.arena = append(q.arena, rec...)
}

// full reports whether the bounds force a flush.
func (q *queue) full() bool {
	n, b := q.maxN, q.maxBytes
	if n == 0 {
		n, b = maxQueued, maxQueuedBytes
	}
	return len(q.pending) >= n || len(q.arena) >= b
}

// roundEnd handles a FINISHED_ROUND: what the round before it could not
// have been followed by an older record is ready.
func (q *queue) roundEnd() {
	q.flush(q.prevRoundMax, false)
	q.prevRoundMax = q.maxTime
}

// flushAll makes every pending record ready (the file ended).
func (q *queue) flushAll() { q.flush(^uint64(0), false) }

// forceHalf makes the older half of the pending records ready.
func (q *queue) forceHalf() {
	q.forced++
	q.flush(0, true)
}

// flush sorts the pending records and makes those up to limit (or, when
// half is set, the older half) ready. It must be called only when ready
// is empty.
func (q *queue) flush(limit uint64, half bool) {
	q.sort()
	if len(q.pending) == 0 {
		return
	}
	k := len(q.pending) / 2
	if !half {
		k, _ = slices.BinarySearchFunc(q.pending, limit, func(e queued, t uint64) int {
			if e.time <= t {
				return -1
			}
			return 1
		})
	}
	if k == 0 {
		return
	}
	// The ready records keep their arena; the rest move, still sorted,
	// to the buffers the ready records used before.
	rest := q.pending[k:]
	arena := q.readyArena[:0]
	carry := q.ready[:0]
	for _, e := range rest {
		carry = append(carry, queued{time: e.time, seq: e.seq, at: uint32(len(arena)), n: e.n})
		arena = append(arena, q.arena[e.at:e.at+e.n]...)
	}
	q.ready, q.rpos, q.readyArena = q.pending[:k], 0, q.arena
	q.pending, q.arena, q.sorted = carry, arena, len(carry)
}

// sort sorts the records pushed since the last flush (a few runs, one per
// ring copied) and merges them with the sorted carry-over.
func (q *queue) sort() {
	old, added := q.pending[:q.sorted], q.pending[q.sorted:]
	if !slices.IsSortedFunc(added, cmpQueued) {
		slices.SortFunc(added, cmpQueued)
	}
	if len(old) > 0 && len(added) > 0 && cmpQueued(old[len(old)-1], added[0]) > 0 {
		m := q.merge[:0]
		i, j := 0, 0
		for i < len(old) && j < len(added) {
			if cmpQueued(old[i], added[j]) <= 0 {
				m = append(m, old[i])
				i++
			} else {
				m = append(m, added[j])
				j++
			}
		}
		m = append(append(m, old[i:]...), added[j:]...)
		q.merge, q.pending = q.pending[:0], m
	}
	q.sorted = len(q.pending)
}

// next returns the next ready record, or false when none is ready.
func (q *queue) next() ([]byte, uint64, bool) {
	if q.rpos == len(q.ready) {
		return nil, 0, false
	}
	e := q.ready[q.rpos]
	q.rpos++
	return q.readyArena[e.at : e.at+e.n], e.time, true
}

// idle reports whether no record is ready.
func (q *queue) idle() bool { return q.rpos == len(q.ready) }

func cmpQueued(a, b queued) int {
	if c := cmp.Compare(a.time, b.time); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}
