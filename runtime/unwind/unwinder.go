package unwind

import (
	"debug/elf"
	"encoding/binary"

	"otrace/runtime/process"
	"otrace/runtime/symbols"
)

// Method says how a frame's address was recovered.
type Method uint8

const (
	FromRegs Method = iota // the sampled instruction pointer
	FromCFI                // the caller's frame, by the callee's CFI
	FromFP                 // by frame pointers: no CFI covered the callee
	numMethods
)

func (m Method) String() string {
	switch m {
	case FromRegs:
		return "regs"
	case FromCFI:
		return "cfi"
	case FromFP:
		return "fp"
	}
	return "?"
}

// Stop says why a stack ended.
type Stop uint8

const (
	StopEnd        Stop = iota // the outermost frame: its return address is undefined, or zero
	StopNoRegs                 // the sample carried no user registers
	StopNoMapping              // an address outside every mapping of the process
	StopNoCFI                  // no CFI and no usable frame pointer
	StopOutOfStack             // a rule needed memory outside the copied stack
	StopBadRule                // a rule that cannot be evaluated (register unknown, expression)
	StopNoProgress             // the stack pointer did not move up
	StopMaxDepth               // MaxFrames reached
	numStops
)

func (s Stop) String() string {
	return [...]string{"end", "no-regs", "no-mapping", "no-cfi", "out-of-stack", "bad-rule", "no-progress", "max-depth", "?"}[min(s, numStops)]
}

// Mappings is the process model the unwinder reads: which files each
// process had mapped (*process.Table is one).
type Mappings interface {
	Process(pid int32) *process.Process
	MappingAt(pid int32, addr, time uint64) *process.Mapping
}

// Files opens the ELF file behind a mapping and its separate debug file,
// either of which may be nil (*symbols.Resolver is one). The unwinder
// keeps one Table per distinct *elf.File.
type Files interface {
	ELF(obj symbols.Object) (bin, debug *elf.File)
}

// Config is what an Unwinder needs.
type Config struct {
	Arch     Arch
	Mappings Mappings
	Files    Files // nil: no CFI, frame pointers only
	// MaxFrames bounds a stack; 0 means 127, perf's default
	// (kernel.perf_event_max_stack).
	MaxFrames int
}

// Sample is one sampled user context.
type Sample struct {
	PID  int32
	Time uint64
	// Regs are the registers perf copied, in ascending order of the perf
	// register numbers set in RegsMask.
	Regs     []uint64
	RegsMask uint64
	// Stack is the copy of the stack from the stack pointer up.
	Stack []byte
}

// Stack is an unwound stack: return addresses leaf first, how each was
// found, and why the walk stopped. Unwind reuses its slices.
type Stack struct {
	PCs  []uint64
	How  []Method
	Stop Stop
}

// Stats counts what an Unwinder did.
type Stats struct {
	Stacks uint64
	Frames [numMethods]uint64 // by Method
	Stops  [numStops]uint64   // by Stop
	Tables int                // binaries whose CFI was indexed
}

// Unwinder walks copied user stacks. It caches per process the sorted
// executable mappings and per binary the CFI Table.
type Unwinder struct {
	cfg    Config
	arch   *archInfo
	order  binary.ByteOrder
	procs  map[int32]*procMaps
	tables map[*elf.File]*Table
	stats  Stats
}

// New returns an Unwinder for cfg; nil when the architecture is unknown.
func New(cfg Config) *Unwinder {
	a := infoOf(cfg.Arch)
	if a == nil {
		return nil
	}
	if cfg.MaxFrames <= 0 {
		cfg.MaxFrames = 127
	}
	return &Unwinder{cfg: cfg, arch: a, order: binary.LittleEndian,
		procs: map[int32]*procMaps{}, tables: map[*elf.File]*Table{}}
}

// Stats returns the counters so far.
func (u *Unwinder) Stats() Stats { return u.stats }

// Unwind walks s into out.
func (u *Unwinder) Unwind(s *Sample, out *Stack) {
	out.PCs, out.How = out.PCs[:0], out.How[:0]
	out.Stop = u.walk(s, out)
	u.stats.Stacks++
	u.stats.Stops[out.Stop]++
	for _, h := range out.How {
		u.stats.Frames[h]++
	}
}

// regsOf loads the sampled registers into DWARF numbering.
func (u *Unwinder) regsOf(s *Sample, r *regFile) bool {
	i := 0
	for bit := 0; bit < 64 && i < len(s.Regs); bit++ {
		if s.RegsMask&(1<<bit) == 0 {
			continue
		}
		if bit < len(u.arch.perfToDwarf) {
			if d := u.arch.perfToDwarf[bit]; d >= 0 {
				r.set(uint8(d), s.Regs[i])
			}
		}
		i++
	}
	_, okPC := r.get(u.arch.pc)
	_, okSP := r.get(u.arch.sp)
	return okPC && okSP
}

func (u *Unwinder) walk(s *Sample, out *Stack) Stop {
	// Two register files, swapped after each step: the callee's and the
	// caller's being computed.
	var files [2]regFile
	regs, next := &files[0], &files[1]
	if !u.regsOf(s, regs) {
		return StopNoRegs
	}
	a := u.arch
	mem := memory{base: regs.v[a.sp], data: s.Stack, order: u.order}
	pm := u.proc(s.PID)
	exact := true // the PC is the interrupted instruction, not a return address
	how := FromRegs
	for {
		pc := regs.v[a.pc]
		if pc == 0 {
			return StopEnd
		}
		if len(out.PCs) >= u.cfg.MaxFrames {
			return StopMaxDepth
		}
		out.PCs = append(out.PCs, pc)
		out.How = append(out.How, how)
		look := pc
		if !exact {
			look--
		}
		mod := u.module(pm, s, look)
		if mod == nil {
			return StopNoMapping
		}
		var rules *Rules
		var rw *row
		if mod.table != nil {
			rules, rw = mod.table.lookup(look + mod.bias)
		}
		signal := false
		if rw != nil {
			if stop, ok := u.stepCFI(regs, next, rules, rw, &mem); !ok {
				return stop
			}
			how, signal = FromCFI, rules.Signal
		} else {
			if stop, ok := u.stepFP(regs, next, &mem); !ok {
				return stop
			}
			how = FromFP
		}
		// Callers' frames lie above their callees' (a frameless arm64 leaf
		// shares its caller's SP), except across a signal frame on an
		// alternate stack; the same SP and PC again would loop.
		oldSP, newSP := regs.v[a.sp], next.v[a.sp]
		if (newSP < oldSP && !signal) || (newSP == oldSP && next.v[a.pc] == pc) {
			return StopNoProgress
		}
		regs, next = next, regs
		exact = signal
	}
}

// stepCFI computes the caller's registers with a row of rules.
func (u *Unwinder) stepCFI(regs, next *regFile, r *Rules, rw *row, mem *memory) (Stop, bool) {
	a := u.arch
	var cfa uint64
	switch rw.cfa.kind {
	case cfaRegOffset:
		v, ok := regs.get(rw.cfa.reg)
		if !ok {
			return StopBadRule, false
		}
		cfa = v + uint64(rw.cfa.off)
	case cfaExpr:
		v, ok := u.expr(r, rw.cfa.off, regs, mem, 0, false)
		if !ok {
			return StopBadRule, false
		}
		cfa = v
	default:
		return StopBadRule, false
	}
	*next = *regs
	spSet, raLost := false, false
	for _, rr := range r.regs[rw.first : rw.first+uint32(rw.n)] {
		var v uint64
		ok := true
		switch rr.kind {
		case ruleUndefined:
			if rr.reg == r.ra {
				return StopEnd, false
			}
			ok = false
		case ruleOffset:
			v, ok = mem.read(cfa+uint64(rr.off), 8)
		case ruleValOffset:
			v = cfa + uint64(rr.off)
		case ruleRegister:
			v, ok = regs.get(rr.reg)
		case ruleExpr:
			var at uint64
			if at, ok = u.expr(r, rr.off, regs, mem, cfa, true); ok {
				v, ok = mem.read(at, 8)
			}
		case ruleValExpr:
			v, ok = u.expr(r, rr.off, regs, mem, cfa, true)
		}
		if ok {
			next.set(rr.reg, v)
		} else {
			next.clear(rr.reg)
			raLost = raLost || rr.reg == r.ra
		}
		if rr.reg == a.sp {
			spSet = true
		}
	}
	if !spSet {
		next.set(a.sp, cfa)
	}
	ra, ok := next.get(r.ra)
	if !ok {
		if raLost {
			return StopOutOfStack, false // or an expression that failed
		}
		return StopBadRule, false
	}
	if rw.signed && a.stripPAC != 0 {
		ra &= a.stripPAC
	}
	next.set(a.pc, ra)
	return 0, true
}

// stepFP follows the frame-pointer chain one frame: the frame record
// {saved FP, return address} sits at FP on x86-64 and arm64 alike.
func (u *Unwinder) stepFP(regs, next *regFile, mem *memory) (Stop, bool) {
	a := u.arch
	fp, ok := regs.get(a.fp)
	if !ok || fp < regs.v[a.sp] || fp&7 != 0 {
		return StopNoCFI, false
	}
	savedFP, ok1 := mem.read(fp, 8)
	ra, ok2 := mem.read(fp+8, 8)
	if !ok1 || !ok2 {
		return StopOutOfStack, false
	}
	*next = *regs
	next.set(a.fp, savedFP)
	next.set(a.sp, fp+16)
	if a.stripPAC != 0 {
		ra &= a.stripPAC
	}
	next.set(a.pc, ra)
	return 0, true
}

func (u *Unwinder) expr(r *Rules, i int64, regs *regFile, mem *memory, initial uint64, push bool) (uint64, bool) {
	if i < 0 || int(i) >= len(r.exprs) {
		return 0, false
	}
	return eval(r.exprs[i], regs, mem, initial, push)
}
