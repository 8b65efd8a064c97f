package perf

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"otrace/runtime/event"
)

// attrBuildID asks MMAP2 records for build ids instead of device numbers
// (Linux 5.12+); x/sys has no name for bit 34.
const attrBuildID = 1 << 34

// formatLost is PERF_FORMAT_LOST (Linux 6.0+): read() also returns the
// number of samples of this event that were lost.
const formatLost = 1 << 4

func baseAttr() unix.PerfEventAttr {
	return unix.PerfEventAttr{
		Size:    uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Bits:    unix.PerfBitDisabled | unix.PerfBitSampleIDAll | unix.PerfBitUseClockID,
		Clockid: unix.CLOCK_MONOTONIC,
	}
}

// leaderAttr is the attr of the per-CPU dummy event that owns the ring and
// reports process side-band records.
func leaderAttr(wakeup int, buildID bool) unix.PerfEventAttr {
	a := baseAttr()
	a.Type = typeSoftware
	a.Config = swDummy
	a.Sample_type = idAll
	a.Bits |= unix.PerfBitMmap | unix.PerfBitMmap2 | unix.PerfBitComm | unix.PerfBitCommExec |
		unix.PerfBitTask | unix.PerfBitWatermark
	if buildID {
		a.Bits |= attrBuildID
	}
	a.Wakeup = uint32(wakeup)
	return a
}

// sampleAttr is the attr of one otrace event, with the callchain its
// stack mode asks for.
func sampleAttr(sp *Spec, stack event.StackMode) unix.PerfEventAttr {
	a := baseAttr()
	a.Type = sp.Type
	a.Config = sp.Config
	a.Sample = sp.Period
	if sp.Freq {
		a.Bits |= unix.PerfBitFreq
	}
	a.Sample_type = sp.SampleType | idAll
	a.Read_format = formatLost
	switch stack {
	case event.KernelStack:
		a.Sample_type |= sampleCallchain
		a.Bits |= unix.PerfBitExcludeCallchainUser
	case event.UserStack:
		a.Sample_type |= sampleCallchain
		a.Bits |= unix.PerfBitExcludeCallchainKernel
	case event.BothStacks:
		a.Sample_type |= sampleCallchain
	}
	return a
}

// countAttr is the attr of a counting event: no samples, no ring.
func countAttr(sp *Spec) unix.PerfEventAttr {
	a := baseAttr()
	a.Type = sp.Type
	a.Config = sp.Config
	return a
}

// openEvent opens attr on one CPU, system-wide (pid -1) or for one task
// and, with inherit set, every thread and process it starts.
func openEvent(a *unix.PerfEventAttr, pid, cpu int) (int, error) {
	fd, err := unix.PerfEventOpen(a, pid, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return -1, err
	}
	return fd, nil
}

func eventID(fd int) (uint64, error) {
	var id uint64
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(unix.PERF_EVENT_IOC_ID), uintptr(unsafe.Pointer(&id)))
	if e != 0 {
		return 0, e
	}
	return id, nil
}

func setFilter(fd int, filter string) error {
	p, err := unix.BytePtrFromString(filter)
	if err != nil {
		return err
	}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(unix.PERF_EVENT_IOC_SET_FILTER), uintptr(unsafe.Pointer(p)))
	if e != 0 {
		return e
	}
	return nil
}

// openError explains a failed perf_event_open in terms of what to do.
func openError(what string, err error) error {
	switch {
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return fmt.Errorf("%s: permission denied: run as root or grant CAP_PERFMON (kernel.perf_event_paranoid = %s)", what, paranoid())
	case errors.Is(err, unix.EMFILE):
		return fmt.Errorf("%s: too many open files: raise the limit (ulimit -n) or trace fewer events or CPUs", what)
	case errors.Is(err, unix.ENODEV), errors.Is(err, unix.EOPNOTSUPP):
		return fmt.Errorf("%s: not supported by this machine (%v)", what, err)
	}
	return fmt.Errorf("%s: %v", what, err)
}

func paranoid() string {
	b, err := os.ReadFile("/proc/sys/kernel/perf_event_paranoid")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// onlineCPUs lists the CPUs perf events can be opened on.
func onlineCPUs() ([]int, error) {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return nil, fmt.Errorf("reading the online CPUs: %w", err)
	}
	return ParseCPUList(string(b))
}

// monotonic is CLOCK_MONOTONIC in ns, the clock every event is stamped
// with. It is read through Go's monotonic clock (the same kernel clock,
// read in the vDSO, counted from a start of its own) rather than
// clock_gettime: x/sys makes that a real system call, and a system call on
// each wake-up of the reader woke the runtime's monitor thread, which then
// polled every 20 µs to 10 ms: some 200 extra sleeps a second, idle.
func monotonic() uint64 {
	return monoBase + uint64(time.Since(monoAt))
}

// monoBase is CLOCK_MONOTONIC at Go's monotonic instant monoAt, both read
// as close together as three tries get them (a few hundred ns apart at
// most on an idle machine: well inside the reader's slack).
var monoBase, monoAt = calibrateMonotonic()

func calibrateMonotonic() (uint64, time.Time) {
	var base uint64
	var at time.Time
	best := time.Duration(-1)
	for range 3 {
		var before, after unix.Timespec
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &before)
		now := time.Now()
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &after)
		gap := time.Duration(after.Nano() - before.Nano())
		if best < 0 || gap < best {
			best, at = gap, now
			base = uint64(before.Nano()) + uint64(gap/2)
		}
	}
	return base, at
}
