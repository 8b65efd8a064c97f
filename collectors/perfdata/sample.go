package perfdata

import (
	"otrace/runtime/event"
	"otrace/runtime/session"
)

// sample decodes a SAMPLE record in the layout its attr's sample_type
// gives it and hands it to its event and to each matching variant.
func (r *Reader) sample(rec []byte, misc uint16, qtime uint64, sink session.Sink) {
	r.stats.Samples++
	a := r.sampleAttr(rec)
	if a == nil {
		r.stats.UnknownIDs++
		return
	}
	s := a.slot
	if s == nil || !s.Wanted() {
		r.stats.NotEnabled++
		return
	}
	out := &r.rec
	if !r.decodeSample(a, rec, misc, qtime, out) {
		r.malformed()
		return
	}
	if int(out.CPU) < len(r.pending) && r.pending[out.CPU] > 0 {
		out.Lost, r.pending[out.CPU] = r.pending[out.CPU], 0
	}
	s.Deliver(out, sink)
}

// decodeSample fills out from rec. Fields are in the kernel's order:
// identifier, ip, pid/tid, time, addr, id, stream id, cpu, period, read
// values, callchain, raw, branch stack, user registers, user stack; the
// fields after the user stack are not needed. It reports false when rec is
// too short for what its sample_type says it holds.
func (r *Reader) decodeSample(a *Attr, b []byte, misc uint16, qtime uint64, out *event.Record) bool {
	st := a.SampleType
	off := recHeaderSize
	have := func(n uint64) bool { return off <= len(b) && n <= uint64(len(b)-off) }
	u64 := func() uint64 { v := le.Uint64(b[off:]); off += 8; return v }

	*out = event.Record{Time: qtime, PID: -1, TID: -1}
	if st&sampleIdentifier != 0 {
		off += 8
	}
	var ip uint64
	hasIP := st&sampleIP != 0
	if hasIP {
		if !have(8) {
			return false
		}
		ip = u64()
	}
	if st&sampleTID != 0 {
		if !have(8) {
			return false
		}
		out.PID, out.TID = int32(le.Uint32(b[off:])), int32(le.Uint32(b[off+4:]))
		off += 8
	}
	if st&sampleTime != 0 {
		if !have(8) {
			return false
		}
		out.Time = u64()
	}
	for _, f := range [...]uint64{sampleAddr, sampleID, sampleStreamID} {
		if st&f != 0 {
			off += 8
		}
	}
	if st&sampleCPU != 0 {
		if !have(8) {
			return false
		}
		out.CPU = le.Uint32(b[off:])
		off += 8
	}
	if st&samplePeriod != 0 {
		off += 8
	}
	if off > len(b) {
		return false
	}
	if st&sampleRead != 0 && !r.skipRead(a, b, &off) {
		return false
	}
	if st&sampleCallchain != 0 {
		if !have(8) {
			return false
		}
		// Compared as u64: int(n) may be negative or, on 32-bit
		// machines, truncated.
		n := u64()
		if n > uint64(len(b)-off)/8 {
			return false
		}
		out.Callchain = r.addresses(b[off : off+8*int(n)])
		off += 8 * int(n)
		if hasIP && a.ExcludeCallchainUser && misc&miscCPUModeMask == miscUser {
			// The user part is left to a DWARF unwinder; until then the
			// sampled address is its leaf.
			r.chain = append(r.chain, event.ContextUser, ip)
			out.Callchain = r.chain
		}
	} else if hasIP && a.Type != typeTracepoint {
		// A sampling event recorded without -g: its one frame, after the
		// marker the kernel would have written.
		marker := uint64(0)
		switch misc & miscCPUModeMask {
		case miscKernel:
			marker = event.ContextKernel
		case miscUser:
			marker = event.ContextUser
		}
		if marker != 0 {
			r.chain = append(r.chain[:0], marker, ip)
			out.Callchain = r.chain
		}
	}
	if st&sampleRaw != 0 {
		if !have(4) {
			return false
		}
		n := uint64(le.Uint32(b[off:]))
		off += 4
		if !have(n) {
			return false
		}
		out.Raw = b[off : off+int(n) : off+int(n)]
		off += int(n)
	}
	if st&sampleBranchStack != 0 {
		if !have(8) {
			return false
		}
		n := u64()
		if a.BranchSampleType&branchSampleHWIdx != 0 {
			if !have(8) {
				return false
			}
			off += 8
		}
		if n > uint64(len(b)-off)/24 {
			return false
		}
		off += 24 * int(n)
	}
	if st&sampleRegsUser != 0 {
		if !have(8) {
			return false
		}
		if abi := u64(); abi != 0 {
			if !have(8 * uint64(a.nRegsUser)) {
				return false
			}
			off += 8 * a.nRegsUser
			r.stats.UserRegs++
		}
	}
	if st&sampleStackUser != 0 {
		if !have(8) {
			return false
		}
		size := u64()
		if size != 0 {
			// The copy, then how much of it the kernel filled.
			if size > uint64(len(b)-off) || !have(size+8) {
				return false
			}
			off += int(size)
			dyn := u64()
			r.stats.UserStacks++
			r.stats.UserStackBytes += min(dyn, size)
		}
	}
	return true
}

// skipRead steps over the read_format values of a sample: one value, or a
// group of them, each with the optional fields read_format asks for.
func (r *Reader) skipRead(a *Attr, b []byte, off *int) bool {
	if a.ReadFormat&readFormatGroup == 0 {
		*off += a.readSize
		return *off <= len(b)
	}
	if len(b)-*off < 8 {
		return false
	}
	nr := le.Uint64(b[*off:])
	*off += 8
	head, per := 0, 8
	for _, f := range [...]uint64{readFormatEnabled, readFormatRunning} {
		if a.ReadFormat&f != 0 {
			head += 8
		}
	}
	for _, f := range [...]uint64{readFormatID, readFormatLost} {
		if a.ReadFormat&f != 0 {
			per += 8
		}
	}
	if nr > maxReadGroupValues || uint64(head)+nr*uint64(per) > uint64(len(b)-*off) {
		return false
	}
	*off += head + int(nr)*per
	return true
}

// addresses copies a callchain, context markers included, into a reused
// slice.
func (r *Reader) addresses(b []byte) []uint64 {
	r.chain = r.chain[:0]
	for i := 0; i+8 <= len(b); i += 8 {
		r.chain = append(r.chain, le.Uint64(b[i:]))
	}
	return r.chain
}
