package stacks

import (
	"encoding/binary"
	"runtime"
	"testing"

	"otrace/runtime/event"
	"otrace/runtime/unwind"
)

// fpRecord is a DwarfStack record of process 5 whose stack holds a
// frame-pointer chain: the leaf at 0x1100 in /bin/app, called from 0x1200
// and 0x1300. The fake resolver has no ELF files, so the unwinder walks
// frame pointers.
func fpRecord(t *testing.T, time uint64) *event.Record {
	const sp = 0x7fff0000
	stack := make([]byte, 64)
	le := binary.LittleEndian
	le.PutUint64(stack[0:], sp+16)  // saved FP
	le.PutUint64(stack[8:], 0x1200) // return address
	le.PutUint64(stack[16:], 0)     // the outermost frame record
	le.PutUint64(stack[24:], 0x1300)
	var perfIP, perfSP, perfFP int
	switch runtime.GOARCH {
	case "amd64":
		perfIP, perfSP, perfFP = 8, 7, 6
	case "arm64":
		perfIP, perfSP, perfFP = 32, 31, 29
	default:
		t.Skipf("no unwinder for %s", runtime.GOARCH)
	}
	mask := unwind.PerfRegsMask(unwind.ParseArch(runtime.GOARCH))
	var regs []uint64
	for bit := 0; bit < 64; bit++ {
		if mask&(1<<bit) == 0 {
			continue
		}
		v := uint64(0)
		switch bit {
		case perfIP:
			v = 0x1100
		case perfSP, perfFP:
			v = sp
		}
		regs = append(regs, v)
	}
	return &event.Record{PID: 5, TID: 5, Time: time, UserRegs: regs, UserRegsMask: mask, UserStack: stack}
}

func TestUnwoundStacksAreInternedLikeCallchains(t *testing.T) {
	tab, _, _ := table()
	id := tab.Unwound(fpRecord(t, 10))
	if got := tab.Addrs(id); len(got) != 3 || got[0] != 0x1100 || got[1] != 0x1200 || got[2] != 0x1300 {
		t.Fatalf("unwound %x, want 1100 1200 1300", got)
	}
	if other := tab.Intern(false, 5, 10, []uint64{0x1100, 0x1200, 0x1300}); other != id {
		t.Errorf("the unwound stack is %d, the same callchain interns as %d", id, other)
	}
	if again := tab.Unwound(fpRecord(t, 11)); again != id {
		t.Errorf("the same stack unwound again is %d, first %d", again, id)
	}
	s := tab.UnwindStats()
	if s.Stacks != 2 || s.Frames[unwind.FromFP] != 4 {
		t.Errorf("stats %+v: want 2 stacks, 4 frames by frame pointers", s)
	}
	// e.ustack and e.stack in one handler unwind once.
	tab.Unwound(fpRecord(t, 11))
	if s := tab.UnwindStats(); s.Stacks != 2 {
		t.Errorf("the same record unwound twice: %d stacks", s.Stacks)
	}
	if id := tab.Unwound(&event.Record{PID: 5, Time: 12}); id != 0 {
		t.Errorf("a record without a stack copy unwound to %d", id)
	}
}
