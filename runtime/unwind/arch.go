package unwind

// Arch is a machine architecture whose registers the unwinder knows.
type Arch uint8

const (
	ArchUnknown Arch = iota
	AMD64
	ARM64
)

// ParseArch maps a GOARCH name to an Arch (ArchUnknown when unsupported).
func ParseArch(goarch string) Arch {
	switch goarch {
	case "amd64":
		return AMD64
	case "arm64":
		return ARM64
	}
	return ArchUnknown
}

func (a Arch) String() string {
	switch a {
	case AMD64:
		return "amd64"
	case ARM64:
		return "arm64"
	}
	return "unknown"
}

// maxRegs bounds the DWARF register numbers the unwinder tracks; rules for
// higher numbers (vector registers) are parsed and ignored.
const maxRegs = 34

// archInfo is what the unwinder needs to know of an architecture.
type archInfo struct {
	arch  Arch
	nregs int   // DWARF registers 0..nregs-1 are tracked
	sp    uint8 // DWARF number of the stack pointer
	fp    uint8 // of the frame pointer
	pc    uint8 // slot holding the program counter (a pseudo-register on arm64)
	ra    uint8 // default return-address column
	// perfMask is PERF_SAMPLE_REGS_USER's mask: the registers CFI may use.
	perfMask uint64
	// perfToDwarf maps a perf register number to a DWARF one, -1 unused.
	perfToDwarf []int8
	names       []string // DWARF register names, for dumps
	// stripPAC clears pointer-authentication bits of return addresses.
	stripPAC uint64
}

var amd64Info = archInfo{
	arch: AMD64, nregs: 17, sp: 7, fp: 6, pc: 16, ra: 16,
	// perf_regs.h (x86): AX BX CX DX SI DI BP SP IP (0-8), R8-R15 (16-23);
	// FLAGS and the segment registers (9-15) are no use to CFI.
	perfMask: 0x1ff | 0xff<<16,
	perfToDwarf: []int8{
		0: 0, 1: 3, 2: 2, 3: 1, 4: 4, 5: 5, 6: 6, 7: 7, 8: 16,
		9: -1, 10: -1, 11: -1, 12: -1, 13: -1, 14: -1, 15: -1,
		16: 8, 17: 9, 18: 10, 19: 11, 20: 12, 21: 13, 22: 14, 23: 15,
	},
	names: []string{"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"},
}

var arm64Info = func() archInfo {
	a := archInfo{arch: ARM64, nregs: 33, sp: 31, fp: 29, pc: 32, ra: 30,
		// perf_regs.h (arm64): X0-X30, SP, PC.
		perfMask: 1<<33 - 1,
		stripPAC: 1<<48 - 1,
	}
	a.perfToDwarf = make([]int8, 33)
	for i := range a.perfToDwarf {
		a.perfToDwarf[i] = int8(i)
		a.names = append(a.names, "x"+itoa(i))
	}
	a.names[29], a.names[30], a.names[31], a.names[32] = "fp", "lr", "sp", "pc"
	return a
}()

func infoOf(a Arch) *archInfo {
	switch a {
	case AMD64:
		return &amd64Info
	case ARM64:
		return &arm64Info
	}
	return nil
}

// PerfRegsMask is the PERF_SAMPLE_REGS_USER mask a collector asks for so
// that the unwinder gets every register CFI may name: on x86-64 IP, SP, BP
// and the general-purpose registers, on arm64 X0-X30, SP and PC. It is 0
// for an architecture the unwinder does not know.
func PerfRegsMask(a Arch) uint64 {
	if i := infoOf(a); i != nil {
		return i.perfMask
	}
	return 0
}

func (a *archInfo) regName(r int) string {
	if r >= 0 && r < len(a.names) {
		return a.names[r]
	}
	return "r" + itoa(r)
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
