package perf

import (
	"math/bits"

	"otrace/runtime/event"
)

// PERF_SAMPLE_REGS_ABI_*: how the user registers of a sample were saved.
const (
	regsABINone = 0 // no user context (a kernel thread)
	regsABI32   = 1 // a 32-bit task: registers the 64-bit unwinder cannot use
	regsABI64   = 2
)

// AddUserRegs declares the PERF_SAMPLE_REGS_USER mask perf event id was
// opened with, which says how many registers its samples carry.
func (p *Parser) AddUserRegs(id, mask uint64) {
	if s := p.streams[id]; s != nil {
		s.regsMask = mask
	}
}

// userContext reads REGS_USER and STACK_USER, which follow RAW in a
// sample:
//
//	{ u64 abi; u64 regs[weight(mask)]; }   regs only when abi != NONE
//	{ u64 size; char data[size]; u64 dyn_size; }   data and dyn_size only when size != 0
//
// Registers are decoded into the parser's reused slice; the stack stays
// in the ring, cut to dyn_size, the part the kernel could copy.
func (p *Parser) userContext(b []byte, off int, s *stream, r *event.Record) bool {
	st := s.sampleType
	abi := uint64(regsABINone)
	if st&sampleRegsUser != 0 {
		if len(b) < off+8 {
			return false
		}
		abi = le.Uint64(b[off:])
		off += 8
		if abi != regsABINone {
			n := bits.OnesCount64(s.regsMask)
			if len(b)-off < 8*n {
				return false
			}
			p.regs = p.regs[:0]
			for i := 0; i < n; i++ {
				p.regs = append(p.regs, le.Uint64(b[off+8*i:]))
			}
			off += 8 * n
			if abi == regsABI64 {
				r.UserRegs, r.UserRegsMask = p.regs, s.regsMask
			}
		}
	}
	if st&sampleStackUser != 0 {
		if len(b) < off+8 {
			return false
		}
		size := le.Uint64(b[off:])
		off += 8
		if size != 0 {
			if size > uint64(len(b)-off) || uint64(len(b)-off)-size < 8 {
				return false
			}
			data := b[off : off+int(size)]
			dyn := le.Uint64(b[off+int(size):])
			if dyn > size {
				dyn = size
			}
			if r.UserRegs != nil {
				r.UserStack = data[:dyn]
			}
		}
	}
	return true
}
