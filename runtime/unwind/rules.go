package unwind

import (
	"strconv"
	"strings"
)

// ruleKind says how a register (or the CFA) of the caller is recovered.
type ruleKind uint8

const (
	ruleSame      ruleKind = iota // the register keeps its value
	ruleUndefined                 // not recoverable (for the RA: the outermost frame)
	ruleOffset                    // saved at CFA+off
	ruleValOffset                 // the value is CFA+off
	ruleRegister                  // the value is in register reg
	ruleExpr                      // saved at the address expression off computes
	ruleValExpr                   // the value is what expression off computes
	cfaRegOffset                  // CFA = reg + off
	cfaExpr                       // CFA = what expression off computes
)

// rule is one register's rule; for expressions off indexes Rules.exprs.
type rule struct {
	kind ruleKind
	reg  uint8
	off  int64
}

// regRule is a rule for one register other than "same value".
type regRule struct {
	reg uint8
	rule
}

// row is the rules in force from start to the next row.
type row struct {
	start uint64
	cfa   rule
	first uint32 // into Rules.regs
	n     uint16
	// signed is arm64 RA_SIGN_STATE: the saved return address carries a
	// pointer-authentication code to strip.
	signed bool
}

// Rules are the compiled rows of one FDE: for any address of its range,
// how to find the CFA and the caller's registers.
type Rules struct {
	Start, End uint64
	// Signal is set for signal trampolines: the caller's PC is the
	// interrupted instruction, not a return address.
	Signal bool
	ra     uint8
	rows   []row
	regs   []regRule
	exprs  [][]byte
	arch   *archInfo
}

// find returns the row in force at vaddr, which must be in [Start, End).
func (r *Rules) find(vaddr uint64) *row {
	lo, hi := 0, len(r.rows)
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if r.rows[m].start <= vaddr {
			lo = m
		} else {
			hi = m
		}
	}
	return &r.rows[lo]
}

// DW_CFA_* opcodes.
const (
	cfaAdvanceLoc        = 0x40
	cfaOffset            = 0x80
	cfaRestore           = 0xc0
	cfaNop               = 0x00
	cfaSetLoc            = 0x01
	cfaAdvanceLoc1       = 0x02
	cfaAdvanceLoc2       = 0x03
	cfaAdvanceLoc4       = 0x04
	cfaOffsetExtended    = 0x05
	cfaRestoreExtended   = 0x06
	cfaUndefined         = 0x07
	cfaSameValue         = 0x08
	cfaRegister          = 0x09
	cfaRememberState     = 0x0a
	cfaRestoreState      = 0x0b
	cfaDefCFA            = 0x0c
	cfaDefCFARegister    = 0x0d
	cfaDefCFAOffset      = 0x0e
	cfaDefCFAExpression  = 0x0f
	cfaExpression        = 0x10
	cfaOffsetExtendedSF  = 0x11
	cfaDefCFASF          = 0x12
	cfaDefCFAOffsetSF    = 0x13
	cfaValOffset         = 0x14
	cfaValOffsetSF       = 0x15
	cfaValExpression     = 0x16
	cfaAdvanceLoc8       = 0x1d // MIPS, harmless elsewhere
	cfaNegateRAState     = 0x2d // arm64 (GNU_window_save on SPARC)
	cfaGNUArgsSize       = 0x2e
	cfaGNUNegOffsetExtSF = 0x2f
)

// Bounds on what one FDE may make the compiler do.
const (
	maxRows     = 1 << 14
	maxRemember = 64
)

// regState is the rules of every tracked register at one point.
type regState struct {
	cfa  rule
	regs [maxRegs]rule
	// raSigned is arm64's RA_SIGN_STATE, toggled by negate_ra_state.
	raSigned bool
}

// compiler runs an FDE's instructions into rows.
type compiler struct {
	sec     *Section
	arch    *archInfo
	fde     *FDE
	out     *Rules
	cur     regState
	initial regState
	stack   []regState
	loc     uint64
}

// Compile runs the CIE's initial instructions and the FDE's into rows.
func Compile(sec *Section, f *FDE, a Arch) (*Rules, error) {
	arch := infoOf(a)
	if arch == nil {
		return nil, sec.errorf(f.Off, "unsupported architecture")
	}
	return compileFDE(sec, f, arch)
}

func compileFDE(sec *Section, f *FDE, arch *archInfo) (*Rules, error) {
	if f.CIE.RA >= uint64(arch.nregs) {
		return nil, sec.errorf(f.Off, "return address column "+strconv.FormatUint(f.CIE.RA, 10)+" is not a register of "+arch.arch.String())
	}
	cp := &compiler{sec: sec, arch: arch, fde: f, loc: f.Start,
		out: &Rules{Start: f.Start, End: f.End, Signal: f.CIE.Signal, ra: uint8(f.CIE.RA), arch: arch}}
	cp.cur.cfa = rule{kind: ruleUndefined}
	if err := cp.run(f.CIE.Initial, true); err != nil {
		return nil, err
	}
	cp.initial = cp.cur
	if err := cp.run(f.Instructions, false); err != nil {
		return nil, err
	}
	cp.emit()
	return cp.out, nil
}

// emit closes the row that starts at loc.
func (cp *compiler) emit() {
	out := cp.out
	if n := len(out.rows); n > 0 && out.rows[n-1].start == cp.loc {
		out.regs = out.regs[:out.rows[n-1].first]
		out.rows = out.rows[:n-1]
	}
	r := row{start: cp.loc, cfa: cp.cur.cfa, first: uint32(len(out.regs)), signed: cp.cur.raSigned}
	for i := 0; i < cp.arch.nregs; i++ {
		if cp.cur.regs[i].kind != ruleSame {
			out.regs = append(out.regs, regRule{reg: uint8(i), rule: cp.cur.regs[i]})
			r.n++
		}
	}
	out.rows = append(out.rows, r)
}

func (cp *compiler) advance(to uint64) error {
	if to < cp.loc {
		return cp.sec.errorf(cp.fde.Off, "instructions move the location backwards")
	}
	if to >= cp.fde.End {
		// Past the range: nothing later applies to an address in it.
		to = cp.fde.End
	}
	if to == cp.loc {
		return nil
	}
	if len(cp.out.rows) >= maxRows {
		return cp.sec.errorf(cp.fde.Off, "more than "+itoa(maxRows)+" rows")
	}
	cp.emit()
	cp.loc = to
	return nil
}

func (cp *compiler) set(reg uint64, r rule) {
	if reg < uint64(cp.arch.nregs) {
		cp.cur.regs[reg] = r
	}
}

func (cp *compiler) expr(b []byte) int64 {
	cp.out.exprs = append(cp.out.exprs, b)
	return int64(len(cp.out.exprs) - 1)
}

// run executes instructions; in the CIE (initial) location changes are
// not allowed.
func (cp *compiler) run(insns []byte, initial bool) error {
	c := &cursor{data: insns, order: cp.sec.cursor(0).order}
	cie := cp.fde.CIE
	bad := func(msg string) error { return cp.sec.errorf(cp.fde.Off, msg) }
	advance := func(delta uint64) error {
		if initial {
			return bad("a CIE's initial instructions move the location")
		}
		return cp.advance(cp.loc + delta*cie.CodeAlign)
	}
	for c.left() > 0 {
		op := c.u8()
		var err error
		switch op & 0xc0 {
		case cfaAdvanceLoc:
			err = advance(uint64(op & 0x3f))
		case cfaOffset:
			cp.set(uint64(op&0x3f), rule{kind: ruleOffset, off: int64(c.uleb()) * cie.DataAlign})
		case cfaRestore:
			if r := uint64(op & 0x3f); r < uint64(cp.arch.nregs) {
				cp.cur.regs[r] = cp.initial.regs[r]
			}
		default:
			err = cp.op(op, c, initial, advance)
		}
		if err != nil {
			return err
		}
		if c.bad {
			return bad("truncated instruction " + strconv.Itoa(int(op)))
		}
	}
	return nil
}

func (cp *compiler) op(op uint8, c *cursor, initial bool, advance func(uint64) error) error {
	cie := cp.fde.CIE
	bad := func(msg string) error { return cp.sec.errorf(cp.fde.Off, msg) }
	switch op {
	case cfaNop:
	case cfaSetLoc:
		b := bases{section: cp.sec.Addr}
		enc := uint8(peAbsptr)
		if !cp.sec.Debug {
			enc = cie.FDEEncoding
			// pc-relative set_loc is relative to the instruction's own
			// place, which this cursor does not know: refuse it.
			if enc&0x70 == pePcrel {
				return bad("pc-relative DW_CFA_set_loc is not supported")
			}
		}
		to, ok := c.pointer(enc, cie.AddrSize, &b)
		if !ok && !c.bad {
			return bad("DW_CFA_set_loc: unsupported address encoding")
		}
		if initial {
			return bad("a CIE's initial instructions move the location")
		}
		return cp.advance(to)
	case cfaAdvanceLoc1:
		return advance(uint64(c.u8()))
	case cfaAdvanceLoc2:
		return advance(uint64(c.u16()))
	case cfaAdvanceLoc4:
		return advance(uint64(c.u32()))
	case cfaAdvanceLoc8:
		return advance(c.u64())
	case cfaOffsetExtended:
		reg := c.uleb()
		cp.set(reg, rule{kind: ruleOffset, off: int64(c.uleb()) * cie.DataAlign})
	case cfaOffsetExtendedSF:
		reg := c.uleb()
		cp.set(reg, rule{kind: ruleOffset, off: c.sleb() * cie.DataAlign})
	case cfaGNUNegOffsetExtSF:
		reg := c.uleb()
		cp.set(reg, rule{kind: ruleOffset, off: -int64(c.uleb()) * cie.DataAlign})
	case cfaValOffset:
		reg := c.uleb()
		cp.set(reg, rule{kind: ruleValOffset, off: int64(c.uleb()) * cie.DataAlign})
	case cfaValOffsetSF:
		reg := c.uleb()
		cp.set(reg, rule{kind: ruleValOffset, off: c.sleb() * cie.DataAlign})
	case cfaRestoreExtended:
		if r := c.uleb(); r < uint64(cp.arch.nregs) {
			cp.cur.regs[r] = cp.initial.regs[r]
		}
	case cfaUndefined:
		cp.set(c.uleb(), rule{kind: ruleUndefined})
	case cfaSameValue:
		cp.set(c.uleb(), rule{kind: ruleSame})
	case cfaRegister:
		reg, from := c.uleb(), c.uleb()
		if from >= uint64(cp.arch.nregs) {
			cp.set(reg, rule{kind: ruleUndefined})
		} else {
			cp.set(reg, rule{kind: ruleRegister, reg: uint8(from)})
		}
	case cfaRememberState:
		if len(cp.stack) >= maxRemember {
			return bad("DW_CFA_remember_state nested too deep")
		}
		cp.stack = append(cp.stack, cp.cur)
	case cfaRestoreState:
		if len(cp.stack) == 0 {
			return bad("DW_CFA_restore_state without remember_state")
		}
		// The CFA rule is restored too (DWARF 5 6.4.2.4); arm64's sign
		// state is not part of it, but GCC pairs them, so keep it simple.
		cp.cur = cp.stack[len(cp.stack)-1]
		cp.stack = cp.stack[:len(cp.stack)-1]
	case cfaDefCFA:
		reg, off := c.uleb(), c.uleb()
		return cp.defCFA(reg, int64(off))
	case cfaDefCFASF:
		reg, off := c.uleb(), c.sleb()
		return cp.defCFA(reg, off*cie.DataAlign)
	case cfaDefCFARegister:
		reg := c.uleb()
		off := cp.cur.cfa.off
		if cp.cur.cfa.kind != cfaRegOffset {
			off = 0
		}
		return cp.defCFA(reg, off)
	case cfaDefCFAOffset:
		off := c.uleb()
		if cp.cur.cfa.kind != cfaRegOffset {
			return bad("DW_CFA_def_cfa_offset without a register CFA")
		}
		cp.cur.cfa.off = int64(off)
	case cfaDefCFAOffsetSF:
		off := c.sleb()
		if cp.cur.cfa.kind != cfaRegOffset {
			return bad("DW_CFA_def_cfa_offset_sf without a register CFA")
		}
		cp.cur.cfa.off = off * cie.DataAlign
	case cfaDefCFAExpression:
		b := c.bytes(c.uleb())
		cp.cur.cfa = rule{kind: cfaExpr, off: cp.expr(b)}
	case cfaExpression:
		reg := c.uleb()
		b := c.bytes(c.uleb())
		cp.set(reg, rule{kind: ruleExpr, off: cp.expr(b)})
	case cfaValExpression:
		reg := c.uleb()
		b := c.bytes(c.uleb())
		cp.set(reg, rule{kind: ruleValExpr, off: cp.expr(b)})
	case cfaGNUArgsSize:
		c.uleb()
	case cfaNegateRAState:
		if cp.arch.arch != ARM64 {
			return bad("DW_CFA_GNU_window_save is not supported")
		}
		cp.cur.raSigned = !cp.cur.raSigned
	default:
		return bad("unknown CFA instruction " + strconv.Itoa(int(op)))
	}
	return nil
}

func (cp *compiler) defCFA(reg uint64, off int64) error {
	if reg >= uint64(cp.arch.nregs) {
		return cp.sec.errorf(cp.fde.Off, "CFA in register "+strconv.FormatUint(reg, 10))
	}
	cp.cur.cfa = rule{kind: cfaRegOffset, reg: uint8(reg), off: off}
	return nil
}

// String prints the rows as readelf --debug-dump=frames-interp does, one
// line per row: "ADDR cfa=REG+OFF REG=c-OFF ...", for golden tests.
func (r *Rules) String() string {
	var b strings.Builder
	for i := range r.rows {
		rw := &r.rows[i]
		b.WriteString(strconv.FormatUint(rw.start, 16))
		b.WriteString(" cfa=")
		b.WriteString(r.ruleString(rw.cfa, -1))
		for _, rr := range r.regs[rw.first : rw.first+uint32(rw.n)] {
			b.WriteString(" ")
			b.WriteString(r.arch.regName(int(rr.reg)))
			b.WriteString("=")
			b.WriteString(r.ruleString(rr.rule, int(rr.reg)))
		}
		if rw.signed {
			b.WriteString(" ra_signed")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (r *Rules) ruleString(x rule, reg int) string {
	off := func(o int64) string {
		if o >= 0 {
			return "+" + strconv.FormatInt(o, 10)
		}
		return strconv.FormatInt(o, 10)
	}
	switch x.kind {
	case ruleSame:
		return "s"
	case ruleUndefined:
		return "u"
	case ruleOffset:
		return "c" + off(x.off)
	case ruleValOffset:
		return "v:c" + off(x.off)
	case ruleRegister:
		return r.arch.regName(int(x.reg))
	case ruleExpr, ruleValExpr, cfaExpr:
		p := "exp"
		if x.kind == ruleValExpr {
			p = "vexp"
		}
		if x.off >= 0 && int(x.off) < len(r.exprs) {
			return p + "(" + exprString(r.exprs[x.off], r.arch) + ")"
		}
		return p + "(?)"
	case cfaRegOffset:
		return r.arch.regName(int(x.reg)) + off(x.off)
	}
	return "?"
}
