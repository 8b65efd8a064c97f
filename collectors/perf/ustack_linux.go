package perf

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"otrace/runtime/event"
	"otrace/runtime/unwind"
)

// userStackAttr adds what a DwarfStack event needs to a's sample: the
// kernel's part of the callchain, the user registers CFI may name, and a
// copy of the user stack, which the user part is unwound from later.
func userStackAttr(a *unix.PerfEventAttr, ev *event.Event) error {
	if ev.Stack != event.DwarfStack {
		return nil
	}
	mask := unwind.PerfRegsMask(unwind.ParseArch(runtime.GOARCH))
	if mask == 0 {
		return fmt.Errorf("%s: {stack: \"dwarf\"} is supported on amd64 and arm64, not %s; use stack: \"user\"", ev.Name, runtime.GOARCH)
	}
	size := ev.StackSize
	if size == 0 {
		size = event.DefaultStackSize
	}
	size = min((size+7)&^7, event.MaxStackSize)
	a.Sample_type |= sampleCallchain | sampleRegsUser | sampleStackUser
	a.Bits |= unix.PerfBitExcludeCallchainUser
	a.Sample_regs_user = mask
	a.Sample_stack_user = size
	return nil
}

// Ring sizing for user stack copies. A 16 KiB copy makes a sample about
// 150 times larger than a callchain: a 4 MiB ring holds 250 ms of them at
// 999 Hz, which is enough on an idle machine (no loss measured) but not
// when other work keeps otrace off the CPU for longer (on a 2-CPU VM at a
// load of 12, 4 MiB rings lost 23 % of the samples; with otrace given the
// CPU at once, none). So when the user left the size to otrace, a run that
// copies stacks gets rings holding about a second of samples, within a
// bound on the memory locked for all CPUs.
const (
	maxStackRing     = 16 << 20  // per CPU
	maxStackRingsAll = 256 << 20 // all CPUs together
	stackRecordExtra = 512       // a sample's other fields: header, ids, regs, callchain
)

// userStackRing returns the ring size for events: size, or more for the
// events that copy user stacks, for root only (whose locked memory the
// kernel does not bound).
func userStackRing(size, ncpu int, events []*event.Event) int {
	if unix.Geteuid() != 0 {
		return size
	}
	want := 0
	for _, ev := range events {
		if ev.Stack != event.DwarfStack {
			continue
		}
		stack := int(ev.StackSize)
		if stack == 0 {
			stack = event.DefaultStackSize
		}
		rate := 1000 // samples a second per CPU when the event is not a frequency
		if sp, ok := ev.Config.(*Spec); ok && sp.Freq && sp.Period > 0 {
			rate = int(min(sp.Period, 100_000))
		}
		want += rate * (stack + stackRecordExtra)
	}
	want = min(want, maxStackRing, maxStackRingsAll/max(ncpu, 1))
	return max(size, want)
}
