package perf

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"unsafe"

	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

func TestParseDecodesEveryRecordType(t *testing.T) {
	sid := sampleID{pid: 300, tid: 301, time: 5_000_000, cpu: 2, id: idLeader}
	payload := switchPayload(300, 0)
	tests := []struct {
		name  string
		rec   []byte
		want  []any
		stats Stats
	}{
		{
			name: "a tracepoint sample delivers its pid, tid, time, cpu and RAW payload",
			rec:  sample{id: idTracepoint, pid: 300, tid: 301, time: 1_000, cpu: 3, raw: payload}.encode(stTracepoint),
			// 64 bytes of payload: the u32 size brings it to 68 (4 zero
			// bytes of padding), which the kernel counts in the size.
			want:  []any{seen{Event: evSwitch, Time: 1_000, CPU: 3, PID: 300, TID: 301, Raw: append(slices.Clone(payload), 0, 0, 0, 0)}},
			stats: Stats{Samples: 1},
		},
		{
			name:  "a RAW payload that fills its padding exactly is delivered whole",
			rec:   sample{id: idTracepoint, pid: 1, tid: 1, time: 7, raw: []byte("abcd")}.encode(stTracepoint),
			want:  []any{seen{Event: evSwitch, Time: 7, PID: 1, TID: 1, Raw: []byte("abcd")}},
			stats: Stats{Samples: 1},
		},
		{
			name: "a profile sample skips IP and PERIOD and keeps the callchain",
			rec: sample{id: idProfile, ip: 0x401000, pid: 300, tid: 302, time: 2_000, cpu: 1, period: 1_001_001,
				chain: []uint64{ctxUser, 0x401000, 0x401234, 0x7f0000001000}}.encode(stProfile),
			want:  []any{seen{Event: evProfile, Time: 2_000, CPU: 1, PID: 300, TID: 302, Callchain: []uint64{ctxUser, 0x401000, 0x401234, 0x7f0000001000}}},
			stats: Stats{Samples: 1},
		},
		{
			name: "a callchain is delivered whole, context markers included",
			rec: sample{id: idProfile, pid: 300, tid: 300, time: 3, chain: []uint64{
				ctxKernel, 0xffffffff81000010, 0xffffffffff600000, ctxUser, 0x401000,
				ctxHV, ctxGuest, ctxGuestKernel, 0xffffffff81000020, ctxGuestUser, 0x402000, ctxMax,
				// -4096 is below PERF_CONTEXT_MAX (-4095): an address, not a marker.
				ctxMax - 1,
			}}.encode(stProfile),
			want: []any{seen{Event: evProfile, Time: 3, PID: 300, TID: 300, Callchain: []uint64{
				ctxKernel, 0xffffffff81000010, 0xffffffffff600000, ctxUser, 0x401000,
				ctxHV, ctxGuest, ctxGuestKernel, 0xffffffff81000020, ctxGuestUser, 0x402000, ctxMax, ctxMax - 1}}},
			stats: Stats{Samples: 1},
		},
		{
			name:  "a callchain of markers only is delivered as markers",
			rec:   sample{id: idProfile, pid: 300, tid: 300, time: 3, chain: []uint64{ctxKernel, ctxUser}}.encode(stProfile),
			want:  []any{seen{Event: evProfile, Time: 3, PID: 300, TID: 300, Callchain: []uint64{ctxKernel, ctxUser}}},
			stats: Stats{Samples: 1},
		},
		{
			name: "a sample with every supported field reads RAW after the callchain",
			rec: sample{id: idEveryField, ip: 0xffffffff81000000, pid: 9, tid: 10, time: 4_000, cpu: 2, period: 1,
				chain: []uint64{ctxKernel, 0xffffffff81000000}, raw: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, misc: miscKernel}.encode(stEveryField),
			want: []any{seen{Event: evEvery, Time: 4_000, CPU: 2, PID: 9, TID: 10, Callchain: []uint64{ctxKernel, 0xffffffff81000000},
				Raw: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}},
			stats: Stats{Samples: 1},
		},
		{
			name:  "a sample with only the fields every event asks for has no payload",
			rec:   sample{id: idBare, pid: 5, tid: 6, time: 8, cpu: 3}.encode(idAll),
			want:  []any{seen{Event: evBare, Time: 8, CPU: 3, PID: 5, TID: 6}},
			stats: Stats{Samples: 1},
		},
		{
			name:  "a software sample skips its IP and PERIOD",
			rec:   sample{id: idSoftware, ip: 0x401000, pid: 5, tid: 6, time: 8, cpu: 1, period: 1}.encode(stSoftware),
			want:  []any{seen{Event: evFaults, Time: 8, CPU: 1, PID: 5, TID: 6}},
			stats: Stats{Samples: 1},
		},
		{
			name:  "a sample of the parser's own process is dropped and counted as Self",
			rec:   sample{id: idTracepoint, pid: selfPID, tid: selfPID + 1, time: 9, raw: payload}.encode(stTracepoint),
			stats: Stats{Self: 1},
		},
		{
			name:  "a sample of an undeclared id is counted as Unknown",
			rec:   sample{id: 0xdead, pid: 1, tid: 1, time: 9, raw: payload}.encode(stTracepoint),
			stats: Stats{Unknown: 1},
		},
		{
			name:  "a sample of the ring's side-band event, which has no otrace event, is counted as Unknown",
			rec:   sample{id: idLeader, pid: 1, tid: 1, time: 9}.encode(idAll),
			stats: Stats{Unknown: 1},
		},
		{
			name: "COMM delivers the pid, tid and name at the trailer's time",
			rec:  commRecord(false, 300, 301, "worker", sid),
			want: []any{process.Comm{Time: 5_000_000, PID: 300, TID: 301, Comm: "worker"}},
		},
		{
			name: "COMM with the exec flag in misc says Exec",
			rec:  commRecord(true, 300, 300, "getppid-loop", sid),
			want: []any{process.Comm{Time: 5_000_000, PID: 300, TID: 300, Comm: "getppid-loop", Exec: true}},
		},
		{
			name: "COMM of a 15-character name, the longest the kernel sends, is whole",
			rec:  commRecord(false, 300, 301, "kworker/u4:1-ev", sid),
			want: []any{process.Comm{Time: 5_000_000, PID: 300, TID: 301, Comm: "kworker/u4:1-ev"}},
		},
		{
			name: "FORK delivers the child and its parent",
			rec:  taskRecord(recFork, 400, 300, 401, 301, 4_999_999, sid),
			want: []any{process.Fork{Time: 5_000_000, PID: 400, TID: 401, PPID: 300, PTID: 301}},
		},
		{
			name: "EXIT delivers the pid and tid",
			rec:  taskRecord(recExit, 400, 300, 401, 401, 4_999_999, sid),
			want: []any{process.Exit{Time: 5_000_000, PID: 400, TID: 401}},
		},
		{
			name: "MMAP is an executable mapping",
			rec:  mmapRecord(300, 301, 0x400000, 0x2000, 0, "/usr/bin/dd", sid),
			want: []any{process.Mmap{Time: 5_000_000, PID: 300, Start: 0x400000, Len: 0x2000, Prot: protExec, Path: "/usr/bin/dd"}},
		},
		{
			name: "MMAP2 with device numbers has no build id",
			rec: mmap2{pid: 300, tid: 301, addr: 0x7f0000000000, length: 0x1b000, pgoff: 0x26000, maj: 8, min: 1, ino: 1234,
				inoGeneration: 7, prot: 5, flags: 2, path: "/usr/lib/x86_64-linux-gnu/libc.so.6"}.encode(sid),
			want: []any{process.Mmap{Time: 5_000_000, PID: 300, Start: 0x7f0000000000, Len: 0x1b000, Pgoff: 0x26000, Prot: 5,
				Path: "/usr/lib/x86_64-linux-gnu/libc.so.6"}},
		},
		{
			name: "MMAP2 with a 20-byte build id delivers it",
			rec: mmap2{pid: 300, tid: 301, addr: 0x400000, length: 0x1000, buildID: seq(20, 0xa0), prot: 5, flags: 2,
				path: "/tmp/a.out"}.encode(sid),
			want: []any{process.Mmap{Time: 5_000_000, PID: 300, Start: 0x400000, Len: 0x1000, Prot: 5, Path: "/tmp/a.out", BuildID: seq(20, 0xa0)}},
		},
		{
			name: "MMAP2 with a 16-byte build id delivers only its size's bytes",
			rec: mmap2{pid: 300, tid: 301, addr: 0x400000, length: 0x1000, buildID: seq(16, 1), prot: 5,
				path: "/tmp/b.out"}.encode(sid),
			want: []any{process.Mmap{Time: 5_000_000, PID: 300, Start: 0x400000, Len: 0x1000, Prot: 5, Path: "/tmp/b.out", BuildID: seq(16, 1)}},
		},
		{
			name: "MMAP2 whose build id size exceeds 20 is cut to the 20 bytes the record holds",
			rec: mmap2{pid: 300, tid: 301, addr: 0x400000, length: 0x1000, buildID: seq(20, 1), buildIDSize: 255, prot: 5,
				path: "/tmp/c.out"}.encode(sid),
			want: []any{process.Mmap{Time: 5_000_000, PID: 300, Start: 0x400000, Len: 0x1000, Prot: 5, Path: "/tmp/c.out", BuildID: seq(20, 1)}},
		},
		{
			name: "MMAP2 of anonymous memory has the kernel's //anon path",
			rec:  mmap2{pid: 300, tid: 301, addr: 0x7fff0000, length: 0x1000, prot: 7, path: "//anon"}.encode(sid),
			want: []any{process.Mmap{Time: 5_000_000, PID: 300, Start: 0x7fff0000, Len: 0x1000, Prot: 7, Path: "//anon"}},
		},
		{
			name:  "LOST reports the count on the trailer's CPU",
			rec:   lostRecord(idLeader, 17, sid),
			want:  []any{session.Lost{Time: 5_000_000, CPU: 2, Count: 17}},
			stats: Stats{Lost: 17},
		},
		{
			name:  "LOST_SAMPLES reports the count and adds to LostSamples",
			rec:   lostSamplesRecord(3, sid),
			want:  []any{session.Lost{Time: 5_000_000, CPU: 2, Count: 3}},
			stats: Stats{LostSamples: 3},
		},
		{
			name:  "THROTTLE is counted and ticks the clock",
			rec:   throttleRecord(recThrottle, 4_999_000, idProfile, idProfile, sid),
			want:  []any{tick(5_000_000)},
			stats: Stats{Throttled: 1},
		},
		{
			name: "UNTHROTTLE ticks the clock",
			rec:  throttleRecord(recUnthrottle, 4_999_000, idProfile, idProfile, sid),
			want: []any{tick(5_000_000)},
		},
		{
			name: "SWITCH ticks the clock",
			rec:  switchRecord(true, sid),
			want: []any{tick(5_000_000)},
		},
		{
			name: "SWITCH_CPU_WIDE ticks the clock",
			rec:  switchCPUWideRecord(false, 500, 501, sid),
			want: []any{tick(5_000_000)},
		},
		{
			name:  "a record type otrace does not ask for is counted as Unknown",
			rec:   withBody(recNamespaces, wire(nil).i32(1).i32(1).u64(0), sid),
			stats: Stats{Unknown: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestParser()
			var sink logSink
			p.Parse(tc.rec, &sink)
			if !reflect.DeepEqual(sink.got, tc.want) {
				t.Errorf("delivered\n%s\nwant\n%s", dump(sink.got), dump(tc.want))
			}
			if p.Stats != tc.stats {
				t.Errorf("stats %+v, want %+v", p.Stats, tc.stats)
			}
		})
	}
}

func dump(v []any) string {
	s := ""
	for _, x := range v {
		s += fmt.Sprintf("  %T %+v\n", x, x)
	}
	return s
}

// seq returns n bytes counting up from first.
func seq(n int, first byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = first + byte(i)
	}
	return b
}

func TestLostIsCountedPerCPU(t *testing.T) {
	p := newTestParser()
	var sink logSink
	for _, l := range []struct {
		cpu uint32
		n   uint64
	}{{0, 5}, {1, 2}, {1, 3}, {3, 7}, {9, 100}} {
		p.Parse(lostRecord(idLeader, l.n, sampleID{time: 1, cpu: l.cpu, id: idLeader}), &sink)
	}
	// CPU 9 is beyond the parser's CPUs: in the total, in no CPU's count.
	if want := []uint64{5, 5, 0, 7}; !slices.Equal(p.LostByCPU, want) {
		t.Errorf("LostByCPU = %v, want %v", p.LostByCPU, want)
	}
	if p.Stats.Lost != 117 {
		t.Errorf("Stats.Lost = %d, want 117", p.Stats.Lost)
	}
	if n := countOf[session.Lost](sink.got); n != 5 {
		t.Errorf("%d Lost calls, want 5", n)
	}
}

func TestMalformedRecordsAreCountedAndNotDelivered(t *testing.T) {
	sid := sampleID{pid: 1, tid: 1, time: 10, cpu: 0, id: idLeader}
	full := sample{id: idEveryField, ip: 1, pid: 1, tid: 1, time: 2, cpu: 0, period: 1,
		chain: []uint64{ctxUser, 0x401000}, raw: []byte("payload!")}.encode(stEveryField)
	tests := []struct {
		name string
		rec  []byte
	}{
		{"an empty record", nil},
		{"a record shorter than its header", []byte{9, 0, 0, 0}},
		{"a sample with a header only", frame(recSample, miscUser, nil, nil)},
		{"a sample with a partial identifier", headerAnd(recSample, 4)},
		{"a tracepoint sample cut before its time", frame(recSample, miscUser, wire(nil).u64(idTracepoint).i32(1).i32(1), nil)},
		{"a tracepoint sample cut before its cpu", frame(recSample, miscUser, wire(nil).u64(idTracepoint).i32(1).i32(1).u64(2), nil)},
		{"a profile sample cut inside its IP", headerAnd(recSample, 12, idProfile)},
		{"a profile sample cut before its period", frame(recSample, miscUser, wire(nil).u64(idProfile).u64(1).i32(1).i32(1).u64(2).u32(0).u32(0), nil)},
		{"a software sample cut before its period", frame(recSample, miscUser, wire(nil).u64(idSoftware).u64(1).i32(1).i32(1).u64(2).u32(0).u32(0), nil)},
		{"a profile sample cut before its callchain count", frame(recSample, miscUser, wire(nil).u64(idProfile).u64(1).i32(1).i32(1).u64(2).u32(0).u32(0).u64(1), nil)},
		{"a callchain longer than the record", frame(recSample, miscUser, wire(nil).u64(idProfile).u64(1).i32(1).i32(1).u64(2).u32(0).u32(0).u64(1).u64(3).u64(0x401000), nil)},
		{"a callchain count that is negative as an int", frame(recSample, miscUser, wire(nil).u64(idProfile).u64(1).i32(1).i32(1).u64(2).u32(0).u32(0).u64(1).u64(1<<63).u64(0x401000), nil)},
		{"a callchain count near 2^64 whose bytes would overflow", frame(recSample, miscUser, wire(nil).u64(idProfile).u64(1).i32(1).i32(1).u64(2).u32(0).u32(0).u64(1).u64(1<<61).u64(0x401000), nil)},
		{"a tracepoint sample cut before its RAW size", frame(recSample, miscUser, wire(nil).u64(idTracepoint).i32(1).i32(1).u64(2).u32(0).u32(0), nil)},
		{"a RAW size beyond the record", frame(recSample, miscUser, wire(nil).u64(idTracepoint).i32(1).i32(1).u64(2).u32(0).u32(0).u32(60).u32(0), nil)},
		{"a RAW size of 2^32-1", frame(recSample, miscUser, wire(nil).u64(idTracepoint).i32(1).i32(1).u64(2).u32(0).u32(0).u32(^uint32(0)).u32(0), nil)},
		{"a sample with every field cut inside its RAW data", resize(full, len(full)-8)},
		{"a sample with every field cut inside its callchain", resize(full, 16+8+8+8+8+8+8+8)},
	}
	// Every non-sample type: too short for the trailer, and a body too
	// short for the type's fixed fields.
	for _, typ := range []struct {
		name string
		typ  uint32
		min  int // the fixed part of the body
	}{
		{"MMAP", recMmap, 32}, {"LOST", recLost, 16}, {"COMM", recComm, 8}, {"EXIT", recExit, 24},
		{"THROTTLE", recThrottle, 24}, {"UNTHROTTLE", recUnthrottle, 24}, {"FORK", recFork, 24},
		{"MMAP2", recMmap2, 72}, {"LOST_SAMPLES", recLostSamples, 8}, {"SWITCH", recSwitch, 0},
		{"SWITCH_CPU_WIDE", recSwitchCPUWide, 8},
	} {
		tests = append(tests, struct {
			name string
			rec  []byte
		}{"a " + typ.name + " too short for its trailer", headerAnd(typ.typ, trailerSize-8)})
		if typ.min > 0 {
			tests = append(tests, struct {
				name string
				rec  []byte
			}{"a " + typ.name + " with a body too short for its fields", withBody(typ.typ, make([]byte, typ.min-8), sid)})
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestParser()
			var sink logSink
			p.Parse(tc.rec, &sink)
			if sink.calls() != 0 {
				t.Errorf("delivered\n%s", dump(sink.got))
			}
			if want := (Stats{Malformed: 1}); p.Stats != want {
				t.Errorf("stats %+v, want %+v", p.Stats, want)
			}
		})
	}
}

// headerAnd is a header of type typ followed by n bytes, the first u64 of
// them id when given: a record too short to be framed with frame.
func headerAnd(typ uint32, n int, id ...uint64) []byte {
	b := wire(nil).u32(typ).u16(miscUser).u16(uint16(8 + n))
	for _, v := range id {
		b = b.u64(v)
	}
	if len(b) > 8+n {
		return b[:8+n]
	}
	return b.zeros(8 + n - len(b))
}

// resize cuts rec to n bytes and sets its header's size to match, as a
// record of that size would appear in the ring.
func resize(rec []byte, n int) []byte {
	b := slices.Clone(rec[:n])
	if n >= 8 {
		le.PutUint16(b[6:], uint16(n))
	}
	return b
}

// validRecords is one well-formed record of every kind, for the
// truncation test and the fuzz corpus.
func validRecords() [][]byte {
	sid := sampleID{pid: 300, tid: 301, time: 5_000_000, cpu: 1, id: idLeader}
	return [][]byte{
		sample{id: idTracepoint, pid: 300, tid: 301, time: 1, cpu: 1, raw: switchPayload(300, 0)}.encode(stTracepoint),
		sample{id: idProfile, ip: 0x401000, pid: 300, tid: 301, time: 2, cpu: 1, period: 1_000_000,
			chain: []uint64{ctxKernel, 0xffffffff81000000, ctxUser, 0x401000, 0x402000}}.encode(stProfile),
		sample{id: idEveryField, ip: 0x401000, pid: 300, tid: 301, time: 3, cpu: 2, period: 1,
			chain: []uint64{ctxUser, 0x401000}, raw: []byte("raw")}.encode(stEveryField),
		sample{id: idBare, pid: 300, tid: 301, time: 4, cpu: 3}.encode(idAll),
		sample{id: idTracepoint, pid: selfPID, tid: selfPID, time: 5, raw: sysEnterPayload(selfPID, 110)}.encode(stTracepoint),
		commRecord(true, 300, 300, "getppid-loop", sid),
		taskRecord(recFork, 400, 300, 400, 301, 1, sid),
		taskRecord(recExit, 400, 300, 400, 400, 1, sid),
		mmapRecord(300, 300, 0x400000, 0x1000, 0, "/bin/true", sid),
		mmap2{pid: 300, tid: 300, addr: 0x400000, length: 0x1000, maj: 8, ino: 99, prot: 5, path: "/bin/true"}.encode(sid),
		mmap2{pid: 300, tid: 300, addr: 0x400000, length: 0x1000, buildID: seq(20, 0x10), prot: 5, path: "/bin/true"}.encode(sid),
		lostRecord(idLeader, 5, sid),
		lostSamplesRecord(6, sid),
		throttleRecord(recThrottle, 1, idProfile, idProfile, sid),
		throttleRecord(recUnthrottle, 1, idProfile, idProfile, sid),
		switchRecord(false, sid),
		switchCPUWideRecord(true, 10, 11, sid),
	}
}

func TestTruncatedRecordsNeverPanic(t *testing.T) {
	p := newTestParser()
	var sink logSink
	for _, rec := range validRecords() {
		for n := 0; n < len(rec); n++ {
			// Cut with the header's size left alone (a bad slice) and
			// with it matching (a short record in the ring).
			p.Parse(rec[:n], &sink)
			p.Time(rec[:n])
			short := resize(rec, n)
			p.Parse(short, &sink)
			p.Time(short)
		}
	}
	if p.Stats.Malformed == 0 {
		t.Errorf("no truncation was counted as malformed: %+v", p.Stats)
	}
}

func TestTime(t *testing.T) {
	sid := sampleID{pid: 1, tid: 1, time: 77, cpu: 1, id: idLeader}
	tests := []struct {
		name string
		rec  []byte
		want uint64
		ok   bool
	}{
		{"a tracepoint sample's time is its TIME field", sample{id: idTracepoint, pid: 1, tid: 1, time: 123, raw: []byte("x")}.encode(stTracepoint), 123, true},
		{"a profile sample's time is found after its IP", sample{id: idProfile, ip: 999, pid: 1, tid: 1, time: 456, chain: []uint64{1}}.encode(stProfile), 456, true},
		{"a sample of otrace's own process still has a time", sample{id: idBare, pid: selfPID, tid: selfPID, time: 5}.encode(idAll), 5, true},
		{"a side-band sample's time is readable", sample{id: idLeader, pid: 1, tid: 1, time: 6}.encode(idAll), 6, true},
		{"a COMM's time is the trailer's", commRecord(false, 1, 1, "x", sid), 77, true},
		{"a LOST's time is the trailer's", lostRecord(idLeader, 1, sid), 77, true},
		{"a SWITCH's time is the trailer's", switchRecord(true, sid), 77, true},
		{"an unknown record type's time is the trailer's", withBody(recNamespaces, wire(nil).u64(0), sid), 77, true},
		{"a sample of an undeclared id has no time", sample{id: 0xbad, pid: 1, tid: 1, time: 6}.encode(idAll), 0, false},
		{"a sample cut before its time has none", frame(recSample, miscUser, wire(nil).u64(idTracepoint).i32(1).i32(1), nil), 0, false},
		{"a sample without an identifier has none", frame(recSample, miscUser, nil, nil), 0, false},
		{"a record shorter than a header has none", []byte{3, 0, 0}, 0, false},
		{"a non-sample record shorter than its trailer has none", headerAnd(recComm, 24), 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := newTestParser().Time(tc.rec)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Time = %d, %v; want %d, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestDeliveredStringsDoNotAliasTheInput(t *testing.T) {
	sid := sampleID{pid: 1, tid: 1, time: 1, id: idLeader}
	recs := [][]byte{
		commRecord(true, 1, 1, "original", sid),
		mmapRecord(1, 1, 0x1000, 0x1000, 0, "/original/path", sid),
		mmap2{pid: 1, tid: 1, addr: 0x1000, length: 0x1000, buildID: seq(20, 0x40), prot: 5, path: "/original/path2"}.encode(sid),
	}
	p := newTestParser()
	var sink logSink
	for _, rec := range recs {
		p.Parse(rec, &sink)
		// Overwrite everything after the header, as the kernel reuses
		// ring space once the tail moves on.
		for i := 8; i < len(rec); i++ {
			rec[i] = 'X'
		}
	}
	want := []any{
		process.Comm{Time: 1, PID: 1, TID: 1, Comm: "original", Exec: true},
		process.Mmap{Time: 1, PID: 1, Start: 0x1000, Len: 0x1000, Prot: protExec, Path: "/original/path"},
		process.Mmap{Time: 1, PID: 1, Start: 0x1000, Len: 0x1000, Prot: 5, Path: "/original/path2", BuildID: seq(20, 0x40)},
	}
	if !reflect.DeepEqual(sink.got, want) {
		t.Errorf("after the input changed, delivered\n%s\nwant\n%s", dump(sink.got), dump(want))
	}
}

func TestInternSharesOneStringPerName(t *testing.T) {
	p := newTestParser()
	var sink logSink
	sid := sampleID{time: 1, id: idLeader}
	p.Parse(commRecord(false, 1, 1, "bash", sid), &sink)
	p.Parse(commRecord(false, 2, 2, "bash", sid), &sink)
	a, b := sink.got[0].(process.Comm).Comm, sink.got[1].(process.Comm).Comm
	if a != "bash" || b != "bash" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Errorf("two COMMs of bash gave %q and %q at different addresses", a, b)
	}
}

func TestAddRedeclaringAnIDReplacesItsStream(t *testing.T) {
	p := newTestParser()
	var sink logSink
	rec := sample{id: idBare, pid: 1, tid: 1, time: 1}.encode(idAll)
	p.Parse(rec, &sink) // the parser now caches idBare's stream
	other := &event.Event{Name: "other"}
	p.Add(idBare, other, idAll, 0)
	p.Parse(rec, &sink)
	if got := sink.last().(seen).Event; got != other {
		t.Errorf("after Add, a sample of the id went to %q, want %q", got.Name, other.Name)
	}
}

func TestParseOfHotRecordsDoesNotAllocate(t *testing.T) {
	sid := sampleID{time: 1, id: idLeader}
	tests := []struct {
		name string
		rec  []byte
	}{
		{"a tracepoint sample", sample{id: idTracepoint, pid: 1, tid: 1, time: 1, raw: sysEnterPayload(1, 110)}.encode(stTracepoint)},
		{"a sample with a callchain", sample{id: idProfile, pid: 1, tid: 1, time: 1, chain: []uint64{ctxKernel, 0xffffffff81000000, ctxUser, 0x401000, 0x402000, 0x403000}}.encode(stProfile)},
		{"a sample of otrace itself", sample{id: idTracepoint, pid: selfPID, tid: selfPID, time: 1, raw: sysEnterPayload(1, 110)}.encode(stTracepoint)},
		{"a COMM of a name seen before", commRecord(false, 1, 1, "bash", sid)},
		{"an EXIT", taskRecord(recExit, 1, 1, 1, 1, 1, sid)},
		{"a LOST", lostRecord(idLeader, 1, sid)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestParser()
			var sink session.Sink = discard{}
			// AllocsPerRun's warm-up call interns the name and grows the
			// callchain slice.
			if n := testing.AllocsPerRun(100, func() { p.Parse(tc.rec, sink) }); n != 0 {
				t.Errorf("Parse allocates %v times per record", n)
			}
		})
	}
}
