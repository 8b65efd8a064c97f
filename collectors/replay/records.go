package replay

import (
	"io"

	"otrace/runtime/process"
	"otrace/runtime/session"
)

// record decodes one record and hands it to sink. sink is nil while Open
// reads the preamble, which holds only META and EVENT records.
func (r *Reader) record(t uint16, body []byte, off int64, sink session.Sink) error {
	if !knownType(t) {
		r.stats.Records++
		r.stats.Unknown++
		return nil
	}
	if fixed := fixedSize(t); len(body) < fixed {
		return r.formatError(off, "%s record of %d bytes is shorter than its %d-byte minimum",
			recName(t), len(body)+recHeaderSize, fixed+recHeaderSize)
	}
	if t == recEnd {
		return r.endRecord(body, off)
	}
	r.stats.Records++
	switch t {
	case recMeta:
		return r.metaRecord(body, off)
	case recEvent:
		return r.eventRecord(body, off)
	case recSample:
		return r.sample(body, off, sink)
	case recComm:
		n := uint64(le.Uint32(body[20:]))
		if commFixed+n > uint64(len(body)) {
			return r.formatError(off, "COMM record of %d bytes cannot hold a %d-byte name", len(body)+recHeaderSize, n)
		}
		c := process.Comm{
			Time: r.tick(le.Uint64(body)),
			PID:  int32(le.Uint32(body[8:])),
			TID:  int32(le.Uint32(body[12:])),
			Exec: le.Uint32(body[16:])&commExec != 0,
			Comm: r.copies.String(body[commFixed : commFixed+n]),
		}
		sink.Comm(c)
	case recFork:
		sink.Fork(process.Fork{
			Time: r.tick(le.Uint64(body)),
			PID:  int32(le.Uint32(body[8:])),
			TID:  int32(le.Uint32(body[12:])),
			PPID: int32(le.Uint32(body[16:])),
			PTID: int32(le.Uint32(body[20:])),
		})
	case recExit:
		sink.Exit(process.Exit{
			Time: r.tick(le.Uint64(body)),
			PID:  int32(le.Uint32(body[8:])),
			TID:  int32(le.Uint32(body[12:])),
		})
	case recMmap:
		return r.mmap(body, off, sink)
	case recLost:
		sink.Lost(session.Lost{
			Time:  r.tick(le.Uint64(body)),
			CPU:   le.Uint32(body[8:]),
			Count: le.Uint64(body[16:]),
		})
	}
	return nil
}

// tick notes a record's time for the out-of-order count and returns it.
func (r *Reader) tick(t uint64) uint64 {
	if t < r.lastTime {
		r.stats.OutOfOrder++
	} else {
		r.lastTime = t
	}
	return t
}

func (r *Reader) metaRecord(body []byte, off int64) error {
	kn, vn := uint64(le.Uint32(body)), uint64(le.Uint32(body[4:]))
	if metaFixed+kn+vn > uint64(len(body)) {
		return r.formatError(off, "META record of %d bytes cannot hold a %d-byte key and a %d-byte value", len(body)+recHeaderSize, kn, vn)
	}
	k := body[metaFixed : metaFixed+kn]
	r.meta[string(k)] = string(body[metaFixed+kn : metaFixed+kn+vn])
	return nil
}

func (r *Reader) eventRecord(body []byte, off int64) error {
	id := le.Uint32(body)
	nn, sn, fn := uint64(le.Uint16(body[4:])), uint64(le.Uint16(body[6:])), uint64(le.Uint32(body[8:]))
	if eventFixed+nn+sn+fn > uint64(len(body)) {
		return r.formatError(off, "EVENT record of %d bytes cannot hold a %d-byte name, %d-byte system and %d-byte format",
			len(body)+recHeaderSize, nn, sn, fn)
	}
	if nn == 0 {
		return r.formatError(off, "EVENT record for id %d has an empty name", id)
	}
	p := body[eventFixed:]
	name, system, text := string(p[:nn]), string(p[nn:nn+sn]), p[nn+sn:nn+sn+fn]
	if err := r.cat.define(id, name, system, text); err != nil {
		return r.formatError(off, "%v", err)
	}
	return nil
}

func (r *Reader) sample(body []byte, off int64, sink session.Sink) error {
	id := le.Uint32(body)
	s := r.cat.slot(id)
	if s == nil {
		return r.formatError(off, "SAMPLE of event id %d, which no EVENT record before it defines", id)
	}
	r.stats.Samples++
	t := r.tick(le.Uint64(body[8:]))
	nchain, nraw := uint64(le.Uint32(body[32:])), uint64(le.Uint32(body[36:]))
	rawAt := sampleFixed + 8*nchain
	if rawAt+nraw > uint64(len(body)) {
		return r.formatError(off, "SAMPLE record of %d bytes cannot hold %d callchain addresses and %d raw bytes",
			len(body)+recHeaderSize, nchain, nraw)
	}
	if !s.Wanted() {
		r.stats.NotEnabled++
		return nil
	}
	chain := r.chain[:0]
	for i := uint64(sampleFixed); i < rawAt; i += 8 {
		chain = append(chain, le.Uint64(body[i:]))
	}
	r.chain = chain
	rec := &r.rec
	rec.Time = t
	rec.CPU = le.Uint32(body[4:])
	rec.PID = int32(le.Uint32(body[16:]))
	rec.TID = int32(le.Uint32(body[20:]))
	rec.Lost = le.Uint64(body[24:])
	rec.Callchain = chain
	rec.Raw = body[rawAt : rawAt+nraw : rawAt+nraw]
	s.Deliver(rec, sink)
	return nil
}

func (r *Reader) mmap(body []byte, off int64, sink session.Sink) error {
	pn, bn := uint64(le.Uint32(body[40:])), uint64(le.Uint32(body[44:]))
	if mmapFixed+pn+bn > uint64(len(body)) {
		return r.formatError(off, "MMAP record of %d bytes cannot hold a %d-byte path and a %d-byte build id", len(body)+recHeaderSize, pn, bn)
	}
	p := body[mmapFixed:]
	sink.Mmap(process.Mmap{
		Time:    r.tick(le.Uint64(body)),
		PID:     int32(le.Uint32(body[8:])),
		Prot:    le.Uint32(body[12:]),
		Start:   le.Uint64(body[16:]),
		Len:     le.Uint64(body[24:]),
		Pgoff:   le.Uint64(body[32:]),
		Path:    r.copies.String(p[:pn]),
		BuildID: r.copies.Bytes(p[pn : pn+bn]),
	})
	return nil
}

// endRecord checks the END record's counts against what was read and ends the
// recording.
func (r *Reader) endRecord(body []byte, off int64) error {
	records, samples := le.Uint64(body), le.Uint64(body[8:])
	if records != r.stats.Records || samples != r.stats.Samples {
		return r.formatError(off, "END record counts %d records and %d samples, but %d records and %d samples came before it",
			records, samples, r.stats.Records, r.stats.Samples)
	}
	r.err = io.EOF
	return nil
}
