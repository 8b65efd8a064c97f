package perfdata

import (
	"os"
	"testing"
)

// A small writer of perf.data bytes, for tests that need files perf would
// not write: cut, corrupt, out of order, or with record types perf rarely
// emits. It writes what perf writes, in the layout the format document
// gives.

// synthSampleType is the sample_type of synthetic events: what perf
// record uses for tracepoints when it records several events.
const synthSampleType = sampleIdentifier | sampleIP | sampleTID | sampleTime | sampleCPU | samplePeriod | sampleRaw

// synthAttr is one event of a synthetic file.
type synthAttr struct {
	typ        uint32
	config     uint64
	period     uint64
	freq       bool
	sampleType uint64
	ids        []uint64
}

// attrBytes encodes a 128-byte perf_event_attr with sample_id_all.
func (a synthAttr) attrBytes() []byte {
	b := make([]byte, 128)
	le.PutUint32(b, a.typ)
	le.PutUint32(b[4:], 128)
	le.PutUint64(b[8:], a.config)
	le.PutUint64(b[16:], a.period)
	le.PutUint64(b[24:], a.sampleType)
	flags := uint64(attrFlagSampleIDAll)
	if a.freq {
		flags |= attrFlagFreq
	}
	le.PutUint64(b[40:], flags)
	return b
}

// record frames body as a record of type t, padded to 8 bytes.
func record(t uint32, misc uint16, body []byte) []byte {
	for (recHeaderSize+len(body))%8 != 0 {
		body = append(body, 0)
	}
	b := le.AppendUint32(nil, t)
	b = le.AppendUint16(b, misc)
	b = le.AppendUint16(b, uint16(recHeaderSize+len(body)))
	return append(b, body...)
}

// synthSample is a SAMPLE of synthSampleType.
func synthSample(id, time uint64, cpu uint32, pid, tid int32, raw []byte) []byte {
	b := le.AppendUint64(nil, id)
	b = le.AppendUint64(b, 0xffffffff81000000) // ip
	b = le.AppendUint32(b, uint32(pid))
	b = le.AppendUint32(b, uint32(tid))
	b = le.AppendUint64(b, time)
	b = le.AppendUint32(b, cpu)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint64(b, 1) // period
	n := len(raw)
	for (4+n)%8 != 0 {
		n++
	}
	b = le.AppendUint32(b, uint32(n))
	b = append(b, raw...)
	b = append(b, make([]byte, n-len(raw))...)
	return record(recSample, miscKernel, b)
}

// trailer is the sample_id_all trailer of synthSampleType: pid, tid,
// time, cpu, identifier.
func trailer(id, time uint64, cpu uint32, pid, tid int32) []byte {
	b := le.AppendUint32(nil, uint32(pid))
	b = le.AppendUint32(b, uint32(tid))
	b = le.AppendUint64(b, time)
	b = le.AppendUint32(b, cpu)
	b = le.AppendUint32(b, 0)
	return le.AppendUint64(b, id)
}

func synthComm(id, time uint64, cpu uint32, pid, tid int32, comm string, exec bool) []byte {
	b := le.AppendUint32(nil, uint32(pid))
	b = le.AppendUint32(b, uint32(tid))
	name := append([]byte(comm), 0)
	for len(name)%8 != 0 {
		name = append(name, 0)
	}
	b = append(b, name...)
	var misc uint16
	if exec {
		misc = miscCommExec
	}
	return record(recComm, misc, append(b, trailer(id, time, cpu, pid, tid)...))
}

func synthLost(id, time uint64, cpu uint32, n uint64) []byte {
	b := le.AppendUint64(nil, id)
	b = le.AppendUint64(b, n)
	return record(recLost, 0, append(b, trailer(id, time, cpu, -1, -1)...))
}

func finishedRound() []byte { return record(recFinishedRound, 0, nil) }

// headerString encodes a perf_header_string padded to 64 bytes as perf
// pads it.
func headerString(s string) []byte {
	n := (len(s) + 1 + 63) &^ 63
	b := le.AppendUint32(nil, uint32(n))
	b = append(b, s...)
	return append(b, make([]byte, n-len(s))...)
}

// tracingData encodes the tracing data perf writes, with the given event
// formats by system.
func tracingData(systems map[string][][]byte) []byte {
	b := append([]byte(tracingMagic), "0.6"...)
	b = append(b, 0, 0, 8) // NUL, little-endian, long size 8
	b = le.AppendUint32(b, 4096)
	for _, name := range []string{"header_page", "header_event"} {
		b = append(append(b, name...), 0)
		b = le.AppendUint64(b, 4)
		b = append(b, "text"...)
	}
	b = le.AppendUint32(b, 0) // no ftrace formats
	b = le.AppendUint32(b, uint32(len(systems)))
	for sys, formats := range systems {
		b = append(append(b, sys...), 0)
		b = le.AppendUint32(b, uint32(len(formats)))
		for _, f := range formats {
			b = le.AppendUint64(b, uint64(len(f)))
			b = append(b, f...)
		}
	}
	b = le.AppendUint32(b, 0) // kallsyms
	b = le.AppendUint32(b, 0) // printk
	return le.AppendUint64(b, 0)
}

// fileBytes lays out a file-mode perf.data: header, ids, attrs, data,
// feature table and feature sections.
func fileBytes(attrs []synthAttr, data []byte, features map[int][]byte) []byte {
	const attrEntry = 128 + sectionSize
	b := make([]byte, fileHeaderSize)
	copy(b, Magic)
	le.PutUint64(b[8:], fileHeaderSize)
	le.PutUint64(b[16:], attrEntry)
	var idSections []section
	for _, a := range attrs {
		idSections = append(idSections, section{uint64(len(b)), uint64(8 * len(a.ids))})
		for _, id := range a.ids {
			b = le.AppendUint64(b, id)
		}
	}
	le.PutUint64(b[24:], uint64(len(b)))
	le.PutUint64(b[32:], uint64(len(attrs)*attrEntry))
	for i, a := range attrs {
		b = append(b, a.attrBytes()...)
		b = le.AppendUint64(b, idSections[i].off)
		b = le.AppendUint64(b, idSections[i].size)
	}
	le.PutUint64(b[40:], uint64(len(b)))
	le.PutUint64(b[48:], uint64(len(data)))
	b = append(b, data...)
	var feats []int
	for f := range featureBits {
		if _, ok := features[f]; ok {
			feats = append(feats, f)
			b[72+f/8] |= 1 << (f % 8)
		}
	}
	table := len(b)
	b = append(b, make([]byte, len(feats)*sectionSize)...)
	for i, f := range feats {
		le.PutUint64(b[table+i*sectionSize:], uint64(len(b)))
		le.PutUint64(b[table+i*sectionSize+8:], uint64(len(features[f])))
		b = append(b, features[f]...)
	}
	return b
}

// pipeBytes lays out a pipe-mode perf.data: header, one HEADER_ATTR per
// event, the tracing data when given, then the records.
func pipeBytes(attrs []synthAttr, tracing []byte, records ...[]byte) []byte {
	b := append([]byte(Magic), make([]byte, 8)...)
	le.PutUint64(b[8:], pipeHeaderSize)
	for _, a := range attrs {
		body := a.attrBytes()
		for _, id := range a.ids {
			body = le.AppendUint64(body, id)
		}
		b = append(b, record(recHeaderAttr, 0, body)...)
	}
	if tracing != nil {
		for len(tracing)%8 != 0 {
			tracing = append(tracing, 0)
		}
		b = append(b, record(recTracingData, 0, le.AppendUint32(nil, uint32(len(tracing))))...)
		b = append(b, tracing...)
	}
	for _, r := range records {
		b = append(b, r...)
	}
	return b
}

// schedSwitchFormat is this machine's sched_switch format (from the
// fixture), so synthetic samples decode like real ones.
func schedSwitchFormat(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/sched_switch.format")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// switchPayload is a sched_switch payload whose prev_comm is comm.
func switchPayload(comm string) []byte {
	raw := make([]byte, 64)
	le.PutUint16(raw, 0x174) // common_type
	copy(raw[8:24], comm)    // prev_comm
	return raw
}

// schedFile is a file-mode perf.data of sched_switch samples (id 1) and
// the records given, with tracing data and a host name.
func schedFile(t testing.TB, records ...[]byte) []byte {
	t.Helper()
	var data []byte
	for _, r := range records {
		data = append(data, r...)
	}
	return fileBytes([]synthAttr{{typ: typeTracepoint, config: 0x174, period: 1, sampleType: synthSampleType, ids: []uint64{1, 2}},
		{typ: typeSoftware, config: swDummy, period: 1, sampleType: synthSampleType &^ sampleRaw, ids: []uint64{3, 4}}},
		data, map[int][]byte{
			featTracingData: tracingData(map[string][][]byte{"sched": {schedSwitchFormat(t)}}),
			featHostname:    headerString("synth"),
		})
}
