package perfdata

import (
	"bytes"

	"otrace/runtime/process"
	"otrace/runtime/session"
)

// push queues a kernel record under its time: a sample's own, or the
// sample_id_all trailer's of other records.
func (r *Reader) push(rec []byte) {
	t := le.Uint32(rec)
	var time uint64
	var ok bool
	if t == recSample {
		if a := r.sampleAttr(rec); a != nil {
			time, ok = a.sampleTime(rec)
		}
	} else if a := r.otherAttr(rec); a != nil {
		_, _, time, ok, _, _ = a.trailerFields(rec)
	}
	if !ok && (t == recFork || t == recExit) && len(rec) >= recHeaderSize+24 {
		time, ok = le.Uint64(rec[recHeaderSize+16:]), true
	}
	r.q.push(rec, time, ok)
}

// userRecord handles a record perf synthesized: it describes events,
// carries features or marks a round, and is handled when read.
func (r *Reader) userRecord(t uint32, rec []byte, off int64) error {
	body := rec[recHeaderSize:]
	switch t {
	case recFinishedRound:
		r.stats.Rounds++
		r.q.roundEnd()
	case recHeaderAttr:
		a, size, err := parseAttr(body)
		if err != nil {
			return r.formatError(off, "HEADER_ATTR record: %v", err)
		}
		ids := body[size:]
		if len(ids)/8 > maxIDs {
			return r.formatError(off, "HEADER_ATTR record has more than %d ids", maxIDs)
		}
		if len(r.attrs) >= maxAttrs {
			return r.formatError(off, "more than %d HEADER_ATTR records", maxAttrs)
		}
		for i := 0; i+8 <= len(ids); i += 8 {
			a.IDs = append(a.IDs, le.Uint64(ids[i:]))
		}
		r.addAttr(&a)
	case recTracingData:
		if len(body) < 4 {
			return r.formatError(off, "HEADER_TRACING_DATA record of %d bytes is too short", len(rec))
		}
		size := uint64(le.Uint32(body))
		if size > maxBlobSize {
			return r.formatError(off, "HEADER_TRACING_DATA of %d bytes is larger than %d", size, maxBlobSize)
		}
		at := r.in.off
		blob, ok := r.in.blob(size)
		if !ok {
			return r.truncated(at, "the stream ends inside the %d bytes of tracing data (%d present)", size, len(blob))
		}
		t, err := parseTracing(blob, at)
		if err != nil {
			return r.cursorError(err, "tracing data")
		}
		r.tracing = t
	case recHeaderFeature:
		if len(body) < 8 {
			return r.formatError(off, "HEADER_FEATURE record of %d bytes is too short", len(rec))
		}
		if f := le.Uint64(body); f < featureBits {
			return r.feature(int(f), body[8:], off+recHeaderSize+8)
		}
		r.stats.Unknown++
	case recEventUpdate:
		// u64 type, u64 id, then per type; type 2 is the event's name.
		if len(body) >= 16 && le.Uint64(body) == 2 && len(r.names) < maxIDs {
			id := le.Uint64(body[8:])
			r.names[id] = string(cstring(body[16:]))
			if a := r.byID[id]; a != nil && a.Name == "" {
				a.Name = r.names[id]
			}
		}
		r.stats.Skipped++
	case recBuildID:
		if err := r.buildIDTable(rec, off); err != nil {
			r.stats.Malformed++
		}
	case recAuxtrace:
		// The trace data follows the record: u64 size, offset, reference,
		// u32 idx, tid, cpu, reserved.
		r.noticeAuxtrace()
		r.stats.Skipped++
		if len(body) >= 8 {
			size := le.Uint64(body)
			at := r.in.off
			if !r.in.skip(size) {
				return r.truncated(at, "the file ends inside %d bytes of AUX trace data", size)
			}
		}
	case recAuxtraceInfo, recAuxtraceError:
		r.noticeAuxtrace()
		r.stats.Skipped++
	case recCompressed:
		r.noticeCompressed()
		r.stats.Skipped++
	case recEventType, recIDIndex, recThreadMap, recCPUMap, recStatConfig, recStat,
		recStatRound, recTimeConv, recFinishedInit:
		r.stats.Skipped++
	default:
		r.stats.Unknown++
	}
	return nil
}

// deliver decodes a queued kernel record and hands it to sink.
func (r *Reader) deliver(rec []byte, time uint64, sink session.Sink) {
	if r.delivered && time < r.lastTime {
		r.stats.OutOfOrder++
	} else {
		r.lastTime = time
	}
	r.delivered = true
	t, misc := le.Uint32(rec), le.Uint16(rec[4:])
	if t == recSample {
		r.sample(rec, misc, time, sink)
		return
	}
	if t > lastKernelRecType {
		r.stats.Unknown++
		return
	}
	var cpu uint32
	body := rec[recHeaderSize:]
	a := r.otherAttr(rec)
	if a != nil && a.trailer > 0 && len(body) >= a.trailer {
		_, _, _, _, cpu, _ = a.trailerFields(rec)
		body = body[:len(body)-a.trailer]
	}
	switch t {
	case recComm:
		if len(body) < 8 {
			r.malformed()
			return
		}
		sink.Comm(process.Comm{Time: time, PID: int32(le.Uint32(body)), TID: int32(le.Uint32(body[4:])),
			Comm: r.copies.String(cstring(body[8:])), Exec: misc&miscCommExec != 0})
	case recFork, recExit:
		if len(body) < 24 {
			r.malformed()
			return
		}
		pid, ppid := int32(le.Uint32(body)), int32(le.Uint32(body[4:]))
		tid, ptid := int32(le.Uint32(body[8:])), int32(le.Uint32(body[12:]))
		if t == recFork {
			sink.Fork(process.Fork{Time: time, PID: pid, TID: tid, PPID: ppid, PTID: ptid})
		} else {
			sink.Exit(process.Exit{Time: time, PID: pid, TID: tid})
		}
	case recMmap:
		// pid, tid, addr, len, pgoff, filename. MMAP has no protection;
		// perf marks data mappings in misc.
		if len(body) < 32 {
			r.malformed()
			return
		}
		prot := uint32(protRead | protExec)
		if misc&miscMmapData != 0 {
			prot = protRead
		}
		path := cstring(body[32:])
		sink.Mmap(process.Mmap{Time: time, PID: int32(le.Uint32(body)), Start: le.Uint64(body[8:]),
			Len: le.Uint64(body[16:]), Pgoff: le.Uint64(body[24:]), Prot: prot,
			Path: r.copies.String(path), BuildID: r.fileBuildID(path)})
	case recMmap2:
		r.mmap2(body, misc, a == nil || a.BuildID, time, sink)
	case recLost:
		if len(body) < 16 {
			r.malformed()
			return
		}
		n := le.Uint64(body[8:])
		r.stats.Lost += n
		r.addPending(cpu, n)
		sink.Lost(session.Lost{Time: time, CPU: cpu, Count: n})
	case recLostSamples:
		if len(body) < 8 {
			r.malformed()
			return
		}
		n := le.Uint64(body)
		r.stats.LostSamples += n
		r.addPending(cpu, n)
		sink.Lost(session.Lost{Time: time, CPU: cpu, Count: n})
	case recThrottle:
		r.stats.Throttled++
		sink.Tick(time)
	case recUnthrottle:
		sink.Tick(time)
	default:
		// READ, AUX, ITRACE_START, SWITCH, NAMESPACES, KSYMBOL, BPF_EVENT,
		// CGROUP, TEXT_POKE, AUX_OUTPUT_HW_ID.
		r.stats.Skipped++
	}
}

const (
	protRead = 1
	protExec = 4
)

// mmap2 decodes pid, tid, addr, len, pgoff, then either the device, inode
// and generation or (with miscMmapBuildID) a build id of up to 20 bytes,
// then prot, flags and the file name.
//
// The kernel sets miscMmapBuildID on the records of every event when one
// event on the machine asks for build ids (it does not reset the shared
// header), so the flag counts only for events that asked, and only with
// a possible size; perf 6.1 itself crashes on such records.
func (r *Reader) mmap2(body []byte, misc uint16, asked bool, time uint64, sink session.Sink) {
	if len(body) < 64 {
		r.malformed()
		return
	}
	path := cstring(body[64:])
	m := process.Mmap{Time: time, PID: int32(le.Uint32(body)), Start: le.Uint64(body[8:]),
		Len: le.Uint64(body[16:]), Pgoff: le.Uint64(body[24:]), Prot: le.Uint32(body[56:]),
		Path: r.copies.String(path)}
	if n := int(body[32]); misc&miscMmapBuildID != 0 && asked && n > 0 && n <= maxBuildID {
		m.BuildID = r.copies.Bytes(body[36 : 36+n])
	} else {
		m.BuildID = r.fileBuildID(path)
	}
	sink.Mmap(m)
}

// fileBuildID returns the BUILD_ID feature's id of a mapped file. Perf
// maps the kernel as "[kernel.kallsyms]_text" (after the symbol it is
// relocated by) and names its build id "[kernel.kallsyms]".
func (r *Reader) fileBuildID(path []byte) []byte {
	if id, ok := r.buildIDs[string(path)]; ok {
		return id
	}
	if bytes.HasPrefix(path, []byte(kernelDSO)) {
		return r.buildIDs[kernelDSO]
	}
	return nil
}

const kernelDSO = "[kernel.kallsyms]"

// maxBuildID is the longest build id (SHA-1) MMAP2 records carry.
const maxBuildID = 20

func (r *Reader) malformed() { r.stats.Malformed++ }

// addPending notes events a CPU lost, for its next sample's Record.Lost.
func (r *Reader) addPending(cpu uint32, n uint64) {
	if cpu >= maxCPUs {
		return
	}
	if int(cpu) >= len(r.pending) {
		r.pending = append(r.pending, make([]uint64, int(cpu)+1-len(r.pending))...)
	}
	r.pending[cpu] += n
}
