package event

// Callchain context markers (PERF_CONTEXT_*): a callchain as the kernel
// records it starts each part with a marker saying whose addresses follow.
const (
	ContextKernel = ^uint64(0) - 128 + 1 // -128
	ContextUser   = ^uint64(0) - 512 + 1 // -512
	// contextMax is the largest marker value: every u64 at or above it is
	// a marker, not an address.
	contextMax = ^uint64(0) - 4095 + 1 // -4095
)

// StackMode says which stacks a probe collects.
type StackMode uint8

const (
	NoStack     StackMode = iota
	KernelStack           // the kernel's part of the callchain
	UserStack             // the user-space part
	BothStacks
	// DwarfStack is the kernel's part of the callchain plus a copy of the
	// user registers and stack (Record.UserRegs, Record.UserStack), which
	// the user part is unwound from with DWARF CFI (runtime/unwind).
	DwarfStack
)

func (m StackMode) String() string {
	switch m {
	case KernelStack:
		return "kernel"
	case UserStack:
		return "user"
	case BothStacks:
		return "both"
	case DwarfStack:
		return "dwarf"
	}
	return "none"
}

// ParseStackMode reads "kernel", "user", "both" or "dwarf".
func ParseStackMode(s string) (StackMode, bool) {
	switch s {
	case "kernel":
		return KernelStack, true
	case "user":
		return UserStack, true
	case "both":
		return BothStacks, true
	case "dwarf":
		return DwarfStack, true
	case "none", "":
		return NoStack, true
	}
	return NoStack, false
}

// SplitCallchain splits a callchain as the kernel records it (context
// markers included, leaf first) into its kernel and user parts, without
// copying. Addresses after another marker (a guest's) are dropped. A chain
// without markers (a recording that stored none) is classified by address:
// on 64-bit Linux, kernel text lives in the top half.
func SplitCallchain(chain []uint64) (kernel, user []uint64) {
	if len(chain) == 0 {
		return nil, nil
	}
	if chain[0] < contextMax {
		i := 0
		for i < len(chain) && chain[i] >= 1<<63 {
			i++
		}
		return chain[:i], chain[i:]
	}
	part := -1 // 0 kernel, 1 user, -1 other
	start := 0
	for i := 0; i <= len(chain); i++ {
		if i < len(chain) && chain[i] < contextMax {
			continue
		}
		seg := chain[start:i]
		switch part {
		case 0:
			kernel = seg
		case 1:
			user = seg
		}
		if i == len(chain) {
			break
		}
		switch chain[i] {
		case ContextKernel:
			part = 0
		case ContextUser:
			part = 1
		default:
			part = -1
		}
		start = i + 1
	}
	return kernel, user
}

// Sizes of the user stack a DwarfStack event copies. The kernel wants a
// multiple of 8 below 64 KiB (a record's size is 16 bits), and trims the
// copy further so that the whole record fits.
const (
	DefaultStackSize = 16 << 10
	MaxStackSize     = 64<<10 - 8
)
