package tracefs

import (
	"fmt"
	"strconv"
	"strings"
)

// What every uprobe event otrace creates records, beside the fields the
// kernel gives each one (__probe_ip; __probe_func and __probe_ret_ip on a
// return):
//
//   - an entry probe: the first six integer arguments, as u64 fields
//     arg0..arg5, read from the registers the C calling convention passes
//     them in (SysV on x86-64: di, si, dx, cx, r8, r9; AAPCS64 on arm64:
//     x0..x5). A function with fewer arguments leaves the rest as whatever
//     the registers held. Go functions pass arguments in other registers on
//     amd64 (ax, bx, cx, di, si, r8...), so there arg0..arg5 are not theirs.
//   - a return probe: the return value, as the u64 field retval.
//
// Each is the whole 64-bit register, unsigned: a long of -2 reads as
// 0xfffffffffffffffe, and an int argument's upper 32 bits are whatever the
// caller left there, so a script masks or sign-extends as the C type says.

// RetvalField names the return value's field of a return probe.
const RetvalField = "retval"

// ArgField names the field of argument i (0-based) of an entry probe.
func ArgField(i int) string { return "arg" + strconv.Itoa(i) }

// argRegisters returns the registers, as uprobe_events names them, that
// carry a C function's first six integer arguments on goarch.
func argRegisters(goarch string) ([]string, error) {
	switch goarch {
	case "amd64":
		return []string{"di", "si", "dx", "cx", "r8", "r9"}, nil
	case "arm64":
		return []string{"x0", "x1", "x2", "x3", "x4", "x5"}, nil
	}
	return nil, fmt.Errorf("uprobe: otrace knows which registers carry function arguments on amd64 and arm64, not on %s, so it cannot probe a function's entry here; a return probe (uretprobe) needs no registers", goarch)
}

// fetchArgs returns the fetch arguments of a probe command, each with its
// leading space: " arg0=%di:u64 ..." for an entry, " retval=$retval:u64"
// for a return.
func fetchArgs(goarch string, ret bool) (string, error) {
	if ret {
		return " " + RetvalField + "=$retval:u64", nil
	}
	regs, err := argRegisters(goarch)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, r := range regs {
		fmt.Fprintf(&b, " %s=%%%s:u64", ArgField(i), r)
	}
	return b.String(), nil
}

// probeCommand is the uprobe_events line that creates e on goarch.
func probeCommand(e *UprobeEvent, goarch string) (string, error) {
	args, err := fetchArgs(goarch, e.Return)
	if err != nil {
		return "", err
	}
	kind := 'p'
	if e.Return {
		kind = 'r'
	}
	return fmt.Sprintf("%c:%s/%s %s:%#x%s", kind, e.System, e.Name, e.ResolvedPath, e.FileOffset, args), nil
}
