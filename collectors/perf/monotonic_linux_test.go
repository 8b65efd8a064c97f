package perf

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The reader's clock must agree with the kernel's CLOCK_MONOTONIC, which
// stamps the records: records newer than it are held back as too recent.
func TestMonotonicIsTheKernelClock(t *testing.T) {
	for range 100 {
		var before, after unix.Timespec
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &before)
		got := monotonic()
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &after)
		// A preemption between the reads widens the window, never shifts
		// it; the calibration may be off by its own read gap (µs at most).
		const tolerance = 50_000
		if got+tolerance < uint64(before.Nano()) || got > uint64(after.Nano())+tolerance {
			t.Fatalf("monotonic() = %d, outside [%d, %d] by more than %d ns", got, before.Nano(), after.Nano(), tolerance)
		}
	}
}
