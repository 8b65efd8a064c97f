package unwind

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// DW_OP_* opcodes used by CFI expressions.
const (
	opAddr       = 0x03
	opDeref      = 0x06
	opConst1u    = 0x08
	opConst1s    = 0x09
	opConst2u    = 0x0a
	opConst2s    = 0x0b
	opConst4u    = 0x0c
	opConst4s    = 0x0d
	opConst8u    = 0x0e
	opConst8s    = 0x0f
	opConstu     = 0x10
	opConsts     = 0x11
	opDup        = 0x12
	opDrop       = 0x13
	opOver       = 0x14
	opPick       = 0x15
	opSwap       = 0x16
	opRot        = 0x17
	opAbs        = 0x19
	opAnd        = 0x1a
	opDiv        = 0x1b
	opMinus      = 0x1c
	opMod        = 0x1d
	opMul        = 0x1e
	opNeg        = 0x1f
	opNot        = 0x20
	opOr         = 0x21
	opPlus       = 0x22
	opPlusUconst = 0x23
	opShl        = 0x24
	opShr        = 0x25
	opShra       = 0x26
	opXor        = 0x27
	opBra        = 0x28
	opEq         = 0x29
	opGe         = 0x2a
	opGt         = 0x2b
	opLe         = 0x2c
	opLt         = 0x2d
	opNe         = 0x2e
	opSkip       = 0x2f
	opLit0       = 0x30
	opLit31      = 0x4f
	opBreg0      = 0x70
	opBreg31     = 0x8f
	opBregx      = 0x92
	opDerefSize  = 0x94
	opNop        = 0x96
)

// Bounds on one evaluation: expressions may branch backwards.
const (
	maxExprStack = 64
	maxExprSteps = 1024
)

// regFile is a frame's registers: values by DWARF number and which of
// them are known.
type regFile struct {
	v     [maxRegs]uint64
	valid uint64
}

func (r *regFile) get(i uint8) (uint64, bool) {
	if int(i) >= maxRegs || r.valid&(1<<i) == 0 {
		return 0, false
	}
	return r.v[i], true
}

func (r *regFile) set(i uint8, v uint64) {
	r.v[i] = v
	r.valid |= 1 << i
}

func (r *regFile) clear(i uint8) { r.valid &^= 1 << i }

// memory is the copied stack: data holds the bytes at addresses
// [base, base+len(data)).
type memory struct {
	base  uint64
	data  []byte
	order binary.ByteOrder
}

func (m *memory) read(addr uint64, size int) (uint64, bool) {
	off := addr - m.base
	if addr < m.base || off >= uint64(len(m.data)) || uint64(len(m.data))-off < uint64(size) {
		return 0, false
	}
	b := m.data[off:]
	switch size {
	case 8:
		return m.order.Uint64(b), true
	case 4:
		return uint64(m.order.Uint32(b)), true
	case 2:
		return uint64(m.order.Uint16(b)), true
	case 1:
		return uint64(b[0]), true
	}
	return 0, false
}

// eval runs a DWARF expression over a frame's registers and the stack
// copy, with initial (the CFA, for register rules) pushed first when push
// is set. It returns false for anything it cannot compute: an unknown
// register, memory outside the copy, an unsupported or malformed
// operation.
func eval(expr []byte, regs *regFile, mem *memory, initial uint64, push bool) (uint64, bool) {
	var stack [maxExprStack]uint64
	sp := 0
	if push {
		stack[0] = initial
		sp = 1
	}
	c := &cursor{data: expr, order: mem.order}
	pop := func() (uint64, bool) {
		if sp == 0 {
			return 0, false
		}
		sp--
		return stack[sp], true
	}
	for steps := 0; c.left() > 0; steps++ {
		if steps >= maxExprSteps || sp >= maxExprStack-1 {
			return 0, false
		}
		op := c.u8()
		switch {
		case op >= opLit0 && op <= opLit31:
			stack[sp] = uint64(op - opLit0)
			sp++
			continue
		case op >= opBreg0 && op <= opBreg31:
			v, ok := regs.get(op - opBreg0)
			off := c.sleb()
			if !ok {
				return 0, false
			}
			stack[sp] = v + uint64(off)
			sp++
			continue
		}
		switch op {
		case opAddr:
			stack[sp] = c.u64()
			sp++
		case opConst1u:
			stack[sp] = uint64(c.u8())
			sp++
		case opConst1s:
			stack[sp] = uint64(int64(int8(c.u8())))
			sp++
		case opConst2u:
			stack[sp] = uint64(c.u16())
			sp++
		case opConst2s:
			stack[sp] = uint64(int64(int16(c.u16())))
			sp++
		case opConst4u:
			stack[sp] = uint64(c.u32())
			sp++
		case opConst4s:
			stack[sp] = uint64(int64(int32(c.u32())))
			sp++
		case opConst8u, opConst8s:
			stack[sp] = c.u64()
			sp++
		case opConstu:
			stack[sp] = c.uleb()
			sp++
		case opConsts:
			stack[sp] = uint64(c.sleb())
			sp++
		case opBregx:
			r := c.uleb()
			off := c.sleb()
			if r >= maxRegs {
				return 0, false
			}
			v, ok := regs.get(uint8(r))
			if !ok {
				return 0, false
			}
			stack[sp] = v + uint64(off)
			sp++
		case opDup:
			if sp == 0 {
				return 0, false
			}
			stack[sp] = stack[sp-1]
			sp++
		case opDrop:
			if _, ok := pop(); !ok {
				return 0, false
			}
		case opOver:
			if sp < 2 {
				return 0, false
			}
			stack[sp] = stack[sp-2]
			sp++
		case opPick:
			i := int(c.u8())
			if i >= sp {
				return 0, false
			}
			stack[sp] = stack[sp-1-i]
			sp++
		case opSwap:
			if sp < 2 {
				return 0, false
			}
			stack[sp-1], stack[sp-2] = stack[sp-2], stack[sp-1]
		case opRot:
			if sp < 3 {
				return 0, false
			}
			stack[sp-1], stack[sp-2], stack[sp-3] = stack[sp-2], stack[sp-3], stack[sp-1]
		case opDeref, opDerefSize:
			size := 8
			if op == opDerefSize {
				size = int(c.u8())
			}
			a, ok := pop()
			if !ok {
				return 0, false
			}
			v, ok := mem.read(a, size)
			if !ok {
				return 0, false
			}
			stack[sp] = v
			sp++
		case opAbs, opNeg, opNot:
			if sp == 0 {
				return 0, false
			}
			v := stack[sp-1]
			switch op {
			case opAbs:
				if int64(v) < 0 {
					v = -v
				}
			case opNeg:
				v = -v
			case opNot:
				v = ^v
			}
			stack[sp-1] = v
		case opPlusUconst:
			if sp == 0 {
				return 0, false
			}
			stack[sp-1] += c.uleb()
		case opAnd, opDiv, opMinus, opMod, opMul, opOr, opPlus, opShl, opShr, opShra, opXor,
			opEq, opGe, opGt, opLe, opLt, opNe:
			if sp < 2 {
				return 0, false
			}
			b, a := stack[sp-1], stack[sp-2]
			sp--
			v, ok := binop(op, a, b)
			if !ok {
				return 0, false
			}
			stack[sp-1] = v
		case opSkip, opBra:
			off := int16(c.u16())
			if op == opBra {
				v, ok := pop()
				if !ok {
					return 0, false
				}
				if v == 0 {
					continue
				}
			}
			to := c.pos + int(off)
			if to < 0 || to > len(c.data) {
				return 0, false
			}
			c.pos = to
		case opNop:
		default:
			return 0, false
		}
		if c.bad {
			return 0, false
		}
	}
	if c.bad || sp == 0 {
		return 0, false
	}
	return stack[sp-1], true
}

func binop(op uint8, a, b uint64) (uint64, bool) {
	bit := func(t bool) uint64 {
		if t {
			return 1
		}
		return 0
	}
	switch op {
	case opAnd:
		return a & b, true
	case opOr:
		return a | b, true
	case opXor:
		return a ^ b, true
	case opPlus:
		return a + b, true
	case opMinus:
		return a - b, true
	case opMul:
		return a * b, true
	case opDiv:
		if b == 0 || (int64(a) == -1<<63 && int64(b) == -1) {
			return 0, false
		}
		return uint64(int64(a) / int64(b)), true
	case opMod:
		if b == 0 {
			return 0, false
		}
		return a % b, true
	case opShl:
		if b >= 64 {
			return 0, true
		}
		return a << b, true
	case opShr:
		if b >= 64 {
			return 0, true
		}
		return a >> b, true
	case opShra:
		if b >= 64 {
			b = 63
		}
		return uint64(int64(a) >> b), true
	case opEq:
		return bit(a == b), true
	case opNe:
		return bit(a != b), true
	case opGe:
		return bit(int64(a) >= int64(b)), true
	case opGt:
		return bit(int64(a) > int64(b)), true
	case opLe:
		return bit(int64(a) <= int64(b)), true
	case opLt:
		return bit(int64(a) < int64(b)), true
	}
	return 0, false
}

var opNames = map[uint8]string{
	opAddr: "addr", opDeref: "deref", opConst1u: "const1u", opConst1s: "const1s",
	opConst2u: "const2u", opConst2s: "const2s", opConst4u: "const4u", opConst4s: "const4s",
	opConst8u: "const8u", opConst8s: "const8s", opConstu: "constu", opConsts: "consts",
	opDup: "dup", opDrop: "drop", opOver: "over", opPick: "pick", opSwap: "swap", opRot: "rot",
	opAbs: "abs", opAnd: "and", opDiv: "div", opMinus: "minus", opMod: "mod", opMul: "mul",
	opNeg: "neg", opNot: "not", opOr: "or", opPlus: "plus", opPlusUconst: "plus_uconst",
	opShl: "shl", opShr: "shr", opShra: "shra", opXor: "xor", opBra: "bra", opEq: "eq",
	opGe: "ge", opGt: "gt", opLe: "le", opLt: "lt", opNe: "ne", opSkip: "skip",
	opBregx: "bregx", opDerefSize: "deref_size", opNop: "nop",
}

// exprString prints an expression readably for golden dumps:
// "breg7+8; breg16+0; lit15; and; ...".
func exprString(expr []byte, arch *archInfo) string {
	c := &cursor{data: expr, order: binary.LittleEndian}
	var parts []string
	for c.left() > 0 && !c.bad {
		op := c.u8()
		switch {
		case op >= opLit0 && op <= opLit31:
			parts = append(parts, "lit"+itoa(int(op-opLit0)))
			continue
		case op >= opBreg0 && op <= opBreg31:
			off := c.sleb()
			parts = append(parts, "breg("+arch.regName(int(op-opBreg0))+")"+signed(off))
			continue
		}
		name, ok := opNames[op]
		if !ok {
			parts = append(parts, "op"+strconv.Itoa(int(op)))
			continue
		}
		switch op {
		case opConst1u, opConst1s, opPick, opDerefSize:
			name += " " + strconv.Itoa(int(c.u8()))
		case opConst2u, opConst2s, opSkip, opBra:
			name += " " + strconv.Itoa(int(int16(c.u16())))
		case opConst4u, opConst4s:
			name += " " + strconv.Itoa(int(int32(c.u32())))
		case opConst8u, opConst8s, opAddr:
			name += " " + strconv.FormatUint(c.u64(), 16)
		case opConstu, opPlusUconst:
			name += " " + strconv.FormatUint(c.uleb(), 10)
		case opConsts:
			name += " " + strconv.FormatInt(c.sleb(), 10)
		case opBregx:
			r := c.uleb()
			name = "breg(" + arch.regName(int(r)) + ")" + signed(c.sleb())
		}
		parts = append(parts, name)
	}
	return strings.Join(parts, "; ")
}

func signed(o int64) string {
	if o >= 0 {
		return "+" + strconv.FormatInt(o, 10)
	}
	return strconv.FormatInt(o, 10)
}
