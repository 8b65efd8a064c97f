package perf

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"otrace/runtime/process"
)

// fakeRing is a ring over ordinary memory: a metadata page that the test
// plays the kernel's side of, and size bytes of data.
func fakeRing(cpu, size int) *ring {
	return &ring{cpu: cpu, fd: -1, meta: &unix.PerfEventMmapPage{}, data: make([]byte, size), mask: uint64(size - 1)}
}

// startAt makes r an empty ring whose head and tail are at pos, as if pos
// bytes had gone through it.
func startAt(r *ring, pos uint64) {
	r.meta.Data_head, r.meta.Data_tail = pos, pos
	r.head, r.tail = pos, pos
	r.loaded = false
}

// produce writes records at the kernel's head, wrapping at the end of the
// data, and publishes the new head.
func produce(r *ring, recs ...[]byte) {
	head := r.meta.Data_head
	for _, rec := range recs {
		for i, c := range rec {
			r.data[(head+uint64(i))&r.mask] = c
		}
		head += uint64(len(rec))
	}
	if head-r.meta.Data_tail > uint64(len(r.data)) {
		panic("produce: the test overfills the ring")
	}
	r.meta.Data_head = head
}

// rec48 is a 48-byte record: a header and a body counting up from first.
func rec48(first byte) []byte {
	b := wire(nil).u32(recComm).u16(0).u16(48)
	return append(b, seq(40, first)...)
}

func inData(r *ring, b []byte) bool {
	start := uintptr(unsafe.Pointer(&r.data[0]))
	p := uintptr(unsafe.Pointer(&b[0]))
	return p >= start && p < start+uintptr(len(r.data))
}

func TestRingPeekReturnsWholeRecords(t *testing.T) {
	const size = 256
	tests := []struct {
		name    string
		start   uint64
		inPlace bool
	}{
		{"a record inside the buffer is read in place", 64, true},
		{"a record that ends exactly at the end of the buffer is read in place", size - 48, true},
		{"a record that wraps around the end is stitched whole", size - 16, false},
		{"a record whose header is the buffer's last 8 bytes is stitched whole", size - 8, false},
		{"positions many laps into the ring are masked", 1000*size + size - 24, false},
		{"positions that overflow 64 bits still give the right offset", ^uint64(0) - 15, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fakeRing(0, size)
			startAt(r, tc.start)
			want := rec48(1)
			produce(r, want)
			r.refresh()
			got, ok := r.peek()
			if !ok || !bytes.Equal(got, want) {
				t.Fatalf("peek = %v, %v; want the record %v", got, ok, want)
			}
			if inData(r, got) != tc.inPlace {
				t.Errorf("read in place: %v, want %v", inData(r, got), tc.inPlace)
			}
			if uintptr(unsafe.Pointer(&got[0]))%8 != 0 {
				t.Errorf("the record is not 8-byte aligned")
			}
		})
	}
}

func TestRingPeekReportsEmptyAndCorruptRings(t *testing.T) {
	tests := []struct {
		name    string
		header  []byte // written at the tail
		avail   uint64 // head - tail
		corrupt bool
	}{
		{name: "an empty ring has nothing and is not corrupt", avail: 0},
		{name: "a size of 0 is corrupt", header: wire(nil).u32(recComm).u16(0).u16(0), avail: 48, corrupt: true},
		{name: "a size below a header is corrupt", header: wire(nil).u32(recComm).u16(0).u16(4), avail: 48, corrupt: true},
		{name: "a size that is not a multiple of 8 is corrupt", header: wire(nil).u32(recComm).u16(0).u16(44), avail: 48, corrupt: true},
		{name: "a size beyond what the kernel published is corrupt", header: wire(nil).u32(recComm).u16(0).u16(56), avail: 48, corrupt: true},
		{name: "less than a header published is corrupt", header: wire(nil).u32(recComm).u16(0).u16(8), avail: 4, corrupt: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fakeRing(0, 128)
			startAt(r, 120) // headers never wrap: 120 is the last slot
			produce(r, tc.header)
			r.meta.Data_head = r.tail + tc.avail
			r.refresh()
			got, ok := r.peek()
			if got != nil || ok != !tc.corrupt {
				t.Errorf("peek = %v, %v; want nil, %v", got, ok, !tc.corrupt)
			}
		})
	}
}

func TestRingReadsASequenceAcrossTheEndAndCommitsTheTail(t *testing.T) {
	r := fakeRing(0, 256)
	startAt(r, 200)
	var want [][]byte
	for i := range 4 { // 200..392: the second record wraps
		want = append(want, rec48(byte(10*i)))
	}
	big := append(wire(nil).u32(recComm).u16(0).u16(136), seq(128, 100)...)
	want = append(want, big) // a bigger record wrapping: scratch grows
	produce(r, want[:4]...)
	r.refresh()
	var got [][]byte
	for {
		b, ok := r.peek()
		if !ok {
			t.Fatalf("corrupt after %d records", len(got))
		}
		if b == nil {
			break
		}
		got = append(got, slices.Clone(b))
		r.tail += uint64(len(b))
	}
	if r.meta.Data_tail != 200 {
		t.Errorf("the tail reached the kernel (%d) before commit", r.meta.Data_tail)
	}
	r.commit()
	if r.meta.Data_tail != 392 {
		t.Errorf("after commit Data_tail = %d, want 392", r.meta.Data_tail)
	}
	// The kernel writes on into the space the commit freed.
	startAt(r, 500)
	produce(r, big)
	r.refresh()
	b, ok := r.peek()
	if !ok || b == nil {
		t.Fatalf("the big record is unreadable: %v", ok)
	}
	got = append(got, slices.Clone(b))
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("read\n%v\nwant\n%v", got, want)
	}
	r.skipAll()
	r.commit()
	if r.meta.Data_tail != r.meta.Data_head {
		t.Errorf("skipAll left Data_tail %d behind head %d", r.meta.Data_tail, r.meta.Data_head)
	}
}

// Streams of the merge tests: a side-band leader and a tracepoint on each
// of two CPUs.
const (
	idLeader0 = 0x3000 + iota
	idLeader1
	idSwitch0
	idSwitch1
)

func mergeSource(rings ...*ring) *Source {
	p := NewParser(selfPID, 2)
	p.Add(idLeader0, nil, idAll, 0)
	p.Add(idLeader1, nil, idAll, 1)
	p.Add(idSwitch0, evSwitch, stTracepoint, 0)
	p.Add(idSwitch1, evSwitch, stTracepoint, 1)
	return &Source{parser: p, rings: rings}
}

// at is a record of cpu at time t: a COMM when comm is set, else a
// sched_switch sample.
func at(cpu int, t uint64, comm string) []byte {
	if comm != "" {
		return commRecord(false, 7, 7, comm, sampleID{pid: 7, tid: 7, time: t, cpu: uint32(cpu), id: idLeader0 + uint64(cpu)})
	}
	return sample{id: idSwitch0 + uint64(cpu), pid: 7, tid: 7, time: t, cpu: uint32(cpu), raw: switchPayload(7, 8)}.encode(stTracepoint)
}

// times lists the times of what sink received, in order.
func times(got []any) []uint64 {
	var ts []uint64
	for _, g := range got {
		switch v := g.(type) {
		case seen:
			ts = append(ts, v.Time)
		case process.Comm:
			ts = append(ts, v.Time)
		default:
			panic(fmt.Sprintf("unexpected %T", g))
		}
	}
	return ts
}

func TestDeliverMergesRingsInTimeOrderUpToTheCutoff(t *testing.T) {
	r0, r1 := fakeRing(0, 512), fakeRing(1, 512)
	startAt(r0, 440) // r0's first record wraps around its end
	startAt(r1, 0)
	produce(r0, at(0, 10, ""), at(0, 30, "bash"), at(0, 50, ""), at(0, 70, "dd"))
	produce(r1, at(1, 20, ""), at(1, 40, ""), at(1, 60, "sh"), at(1, 80, ""))
	s := mergeSource(r0, r1)
	var sink logSink

	if n := s.deliver(&sink, 55, 100); n != 5 {
		t.Errorf("deliver up to 55 passed %d records, want 5", n)
	}
	if got, want := times(sink.got), []uint64{10, 20, 30, 40, 50}; !slices.Equal(got, want) {
		t.Errorf("delivered times %v, want %v", got, want)
	}
	// Only the delivered records' space goes back to the kernel; 60 and
	// 70 stay for the next call.
	if want := uint64(440 + 2*len(at(0, 10, "")) + len(at(0, 30, "bash"))); r0.meta.Data_tail != want {
		t.Errorf("ring 0's Data_tail = %d, want %d", r0.meta.Data_tail, want)
	}
	if want := uint64(2 * len(at(1, 20, ""))); r1.meta.Data_tail != want {
		t.Errorf("ring 1's Data_tail = %d, want %d", r1.meta.Data_tail, want)
	}

	sink.reset()
	if n := s.deliver(&sink, ^uint64(0), 2); n != 2 {
		t.Errorf("deliver with limit 2 passed %d records", n)
	}
	if got, want := times(sink.got), []uint64{60, 70}; !slices.Equal(got, want) {
		t.Errorf("delivered times %v, want %v", got, want)
	}
	if r0.meta.Data_tail != r0.meta.Data_head {
		t.Errorf("ring 0 is read to its end but Data_tail %d != head %d", r0.meta.Data_tail, r0.meta.Data_head)
	}

	// A record the kernel writes meanwhile is merged with the one left.
	produce(r0, at(0, 75, ""))
	sink.reset()
	s.Drain(&sink)
	if got, want := times(sink.got), []uint64{75, 80}; !slices.Equal(got, want) {
		t.Errorf("Drain delivered times %v, want %v", got, want)
	}
	if n := s.deliver(&sink, ^uint64(0), 100); n != 0 {
		t.Errorf("deliver on empty rings passed %d records", n)
	}
	if s.OutOfOrder != 0 || s.parser.Stats.Malformed != 0 {
		t.Errorf("OutOfOrder %d, stats %+v", s.OutOfOrder, s.parser.Stats)
	}
	if s.parser.Stats.Samples != 6 {
		t.Errorf("Samples = %d, want 6", s.parser.Stats.Samples)
	}
}

func TestDeliverSkipsACorruptRingAndKeepsReadingTheOthers(t *testing.T) {
	r0, r1 := fakeRing(0, 512), fakeRing(1, 512)
	startAt(r0, 0)
	startAt(r1, 0)
	produce(r0, at(0, 10, ""), at(0, 30, ""))
	bad := at(1, 20, "")
	le.PutUint16(bad[6:], 12) // not a multiple of 8
	produce(r1, at(1, 5, ""), bad, at(1, 40, ""))
	s := mergeSource(r0, r1)
	var sink logSink
	s.Drain(&sink)
	if got, want := times(sink.got), []uint64{5, 10, 30}; !slices.Equal(got, want) {
		t.Errorf("delivered times %v, want %v", got, want)
	}
	if s.parser.Stats.Malformed != 1 {
		t.Errorf("Malformed = %d, want 1", s.parser.Stats.Malformed)
	}
	if r1.meta.Data_tail != r1.meta.Data_head {
		t.Errorf("the corrupt ring was not freed: Data_tail %d, head %d", r1.meta.Data_tail, r1.meta.Data_head)
	}
}

func TestDeliverRespectsItsLimit(t *testing.T) {
	r0, r1 := fakeRing(0, 1024), fakeRing(1, 1024)
	startAt(r0, 0)
	startAt(r1, 0)
	for i := range uint64(4) {
		produce(r0, at(0, 2*i, ""))
		produce(r1, at(1, 2*i+1, ""))
	}
	s := mergeSource(r0, r1)
	var sink logSink
	for _, want := range []int{3, 3, 2, 0} {
		if n := s.deliver(&sink, ^uint64(0), 3); n != want {
			t.Errorf("deliver passed %d records, want %d", n, want)
		}
	}
	if got, want := times(sink.got), []uint64{0, 1, 2, 3, 4, 5, 6, 7}; !slices.Equal(got, want) {
		t.Errorf("delivered times %v, want %v", got, want)
	}
	if n := s.deliver(&sink, ^uint64(0), 0); n != 0 {
		t.Errorf("deliver with limit 0 passed %d records", n)
	}
}
