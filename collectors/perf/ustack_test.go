package perf

import (
	"bytes"
	"fmt"
	"testing"

	"otrace/runtime/event"
)

// A DWARF-stack event: the kernel's callchain, then REGS_USER and
// STACK_USER after RAW (none here), in the kernel's order.
const (
	idDwarf    = 0x1010
	stDwarf    = idAll | sampleIP | samplePeriod | sampleCallchain | sampleRegsUser | sampleStackUser
	dwarfMask  = 0x1c0 // three registers: perf numbers 6, 7, 8 (BP, SP, IP on x86-64)
	dwarfRegsN = 3
)

var evDwarf = &event.Event{ID: 7, Name: "profile:hz:999", Stack: event.DwarfStack}

func newDwarfParser() *Parser {
	p := NewParser(selfPID, testCPUs)
	p.Add(idDwarf, evDwarf, stDwarf, 0)
	p.AddUserRegs(idDwarf, dwarfMask)
	return p
}

// dwarfSample encodes a sample with abi, regs and a stack of size bytes
// of which dyn are valid.
func dwarfSample(abi uint64, regs []uint64, stack []byte, dyn uint64) []byte {
	w := wire{}.u64(idDwarf).u64(0x401000).i32(300).i32(301).u64(77).u32(0).u32(0).u64(1000)
	w = w.u64(2).u64(ctxKernel).u64(0xffffffff81000000)
	w = w.u64(abi)
	if abi != regsABINone {
		for _, r := range regs {
			w = w.u64(r)
		}
	}
	w = w.u64(uint64(len(stack)))
	if len(stack) > 0 {
		w = append(w, stack...)
		w = w.u64(dyn)
	}
	return frame(recSample, miscUser, w, nil)
}

// userSink keeps copies of what a sample carried.
type userSink struct {
	timeSink
	regs  []uint64
	mask  uint64
	stack []byte
	chain []uint64
}

func (s *userSink) Sample(r *event.Record) {
	s.at(r.Time)
	s.regs = append([]uint64(nil), r.UserRegs...)
	s.mask = r.UserRegsMask
	s.stack = append([]byte(nil), r.UserStack...)
	s.chain = append([]uint64(nil), r.Callchain...)
}

func TestDwarfSamplesCarryUserRegistersAndTheValidStack(t *testing.T) {
	stack := bytes.Repeat([]byte{0xab}, 64)
	for _, tc := range []struct {
		name      string
		rec       []byte
		regs      []uint64
		stackLen  int
		malformed bool
	}{
		{"a 64-bit task", dwarfSample(regsABI64, []uint64{1, 2, 3}, stack, 40), []uint64{1, 2, 3}, 40, false},
		{"a dyn_size past the copy", dwarfSample(regsABI64, []uint64{1, 2, 3}, stack, 1000), []uint64{1, 2, 3}, 64, false},
		{"a kernel thread (no user context)", dwarfSample(regsABINone, nil, nil, 0), nil, 0, false},
		{"a 32-bit task", dwarfSample(regsABI32, []uint64{1, 2, 3}, stack, 64), nil, 0, false},
		{"registers cut short", dwarfSample(regsABI64, []uint64{1, 2, 3}, stack, 64)[:8+8*9+16], nil, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newDwarfParser()
			if tc.malformed {
				le.PutUint16(tc.rec[6:], uint16(len(tc.rec)))
			}
			var sink userSink
			p.Parse(tc.rec, &sink)
			if tc.malformed {
				if p.Stats.Malformed != 1 || sink.calls != 0 {
					t.Fatalf("stats %+v, %d calls; want one malformed record", p.Stats, sink.calls)
				}
				return
			}
			if sink.calls != 1 {
				t.Fatalf("stats %+v, %d calls", p.Stats, sink.calls)
			}
			if fmt.Sprint(sink.regs) != fmt.Sprint(tc.regs) || len(sink.stack) != tc.stackLen {
				t.Errorf("regs %v stack %d bytes, want %v and %d", sink.regs, len(sink.stack), tc.regs, tc.stackLen)
			}
			if tc.regs != nil && sink.mask != dwarfMask {
				t.Errorf("mask %#x, want %#x", sink.mask, dwarfMask)
			}
			if len(sink.chain) != 2 || sink.chain[0] != ctxKernel {
				t.Errorf("callchain %x, want the kernel's part", sink.chain)
			}
		})
	}
}

// A sample without user registers must not show the ones of the sample
// before it: the parser reuses its record.
func TestDwarfSampleFieldsDoNotLeakIntoTheNextSample(t *testing.T) {
	p := newDwarfParser()
	var a, b userSink
	p.Parse(dwarfSample(regsABI64, []uint64{1, 2, 3}, make([]byte, 16), 16), &a)
	p.Parse(dwarfSample(regsABINone, nil, nil, 0), &b)
	if len(a.regs) != 3 || b.regs != nil || b.stack != nil {
		t.Errorf("first %v, second %v %v", a.regs, b.regs, b.stack)
	}
}

func TestParsingADwarfSampleAllocatesNothing(t *testing.T) {
	p := newDwarfParser()
	rec := dwarfSample(regsABI64, []uint64{1, 2, 3}, make([]byte, 8192), 8000)
	var sink timeSink
	p.Parse(rec, &sink)
	if n := testing.AllocsPerRun(100, func() { p.Parse(rec, &sink) }); n != 0 {
		t.Errorf("%v allocations per sample", n)
	}
}

// FuzzParseDwarfSample feeds arbitrary bytes as a record of a DWARF-stack
// event: no panic, one outcome per record, and user data inside it.
func FuzzParseDwarfSample(f *testing.F) {
	f.Add(dwarfSample(regsABI64, []uint64{1, 2, 3}, make([]byte, 32), 24))
	f.Add(dwarfSample(regsABINone, nil, nil, 0))
	f.Add(dwarfSample(regsABI32, []uint64{1, 2, 3}, make([]byte, 8), 8))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := newDwarfParser()
		var sink userSink
		p.Parse(b, &sink)
		dropped := p.Stats.Unknown + p.Stats.Malformed + p.Stats.Self
		if sink.calls+int(dropped) != 1 {
			t.Fatalf("%d sink calls and %d dropped", sink.calls, dropped)
		}
		if len(sink.stack) > len(b) || (len(sink.regs) != 0 && len(sink.regs) != dwarfRegsN) {
			t.Fatalf("%d regs, %d stack bytes from a %d-byte record", len(sink.regs), len(sink.stack), len(b))
		}
	})
}
