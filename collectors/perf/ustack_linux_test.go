package perf

import (
	"os"
	"testing"

	"otrace/runtime/event"
)

func TestRingsGrowForUserStackCopiesWithinBounds(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the rings grow for root only")
	}
	dwarf := func(hz uint64, size uint32) *event.Event {
		return &event.Event{Stack: event.DwarfStack, StackSize: size, Config: &Spec{Freq: true, Period: hz}}
	}
	plain := &event.Event{Stack: event.BothStacks, Config: &Spec{Freq: true, Period: 999}}
	for _, tc := range []struct {
		name   string
		ncpu   int
		events []*event.Event
		want   int
	}{
		{"no stack copies keep the default", 2, []*event.Event{plain}, DefaultBufferSize},
		{"999 Hz of 16 KiB copies hold about a second", 2, []*event.Event{dwarf(999, 0)}, min(999*(16<<10+stackRecordExtra), maxStackRing)},
		{"a fast sampler is capped per CPU", 2, []*event.Event{dwarf(99999, 65528)}, maxStackRing},
		{"many CPUs share a bound", 64, []*event.Event{dwarf(999, 0)}, maxStackRingsAll / 64},
		{"slow samplers keep the default", 2, []*event.Event{dwarf(49, 8192)}, DefaultBufferSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := userStackRing(DefaultBufferSize, tc.ncpu, tc.events); got != max(tc.want, DefaultBufferSize) {
				t.Errorf("ring %d, want %d", got, max(tc.want, DefaultBufferSize))
			}
		})
	}
}
