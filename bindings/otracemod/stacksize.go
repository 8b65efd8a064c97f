package otracemod

import (
	"fmt"

	"github.com/d5/tengo/v2"

	"otrace/runtime/event"
)

// stackSize reads the stack_size option: bytes of user stack a DWARF
// stack copies per sample, rounded up to a multiple of 8 and capped at
// what a perf record can hold.
func stackSize(v tengo.Object, fn string) (uint32, error) {
	n, ok := v.(*tengo.Int)
	if !ok || n.Value <= 0 || n.Value > 64<<10 {
		return 0, fmt.Errorf("%s: stack_size must be a number of bytes from 8 to 65536 (default %d), not %s", fn, event.DefaultStackSize, v)
	}
	size := (n.Value + 7) &^ 7
	return uint32(min(size, event.MaxStackSize)), nil
}
