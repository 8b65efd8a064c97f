package perfdata

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"otrace/collectors/replay"
)

// Close ends the data section, then writes the feature sections, the
// events' ids and attributes, and the header. It does not close the
// underlying file. Calling Close again returns the first call's result.
func (w *Writer) Close() error {
	if w.closed {
		return w.closeError
	}
	w.closed = true
	w.closeError = w.finish()
	return w.closeError
}

func (w *Writer) finish() error {
	if w.err != nil {
		return w.err
	}
	if err := w.write(); err != nil {
		return err
	}
	data := section{fileHeaderSize, uint64(w.off) - fileHeaderSize}
	events := w.events
	if len(events) == 0 {
		// perf needs an event to read the process records by.
		events = []*outEvent{{name: "dummy", perfName: softwareNames[swDummy], id: 1, typ: typeSoftware, config: swDummy,
			period: 1, weight: 1, st: baseSampleType, flags: attrFlagSampleIDAll | attrFlagUseClockID}}
	}
	attrs := make([][]byte, len(events))
	for i, o := range events {
		attrs[i] = o.attr(i == 0, w.anyID)
	}
	feats := w.features(events, attrs)

	// The feature table follows the data; then the features, the ids and
	// the attributes.
	var bitmap [featureBits / 8]byte
	at := uint64(w.off) + uint64(len(feats))*sectionSize
	b := w.buf[:0]
	for _, f := range feats {
		bitmap[f.bit/8] |= 1 << (f.bit % 8)
		b = le.AppendUint64(b, at)
		b = le.AppendUint64(b, uint64(len(f.body)))
		at += uint64(len(f.body))
	}
	for _, f := range feats {
		b = append(b, f.body...)
	}
	idsAt := at
	for _, o := range events {
		b = le.AppendUint64(b, o.id)
	}
	attrsAt := idsAt + 8*uint64(len(events))
	for i, a := range attrs {
		b = append(b, a...)
		b = le.AppendUint64(b, idsAt+8*uint64(i))
		b = le.AppendUint64(b, 8)
	}
	w.buf = b
	if err := w.write(); err != nil {
		return err
	}
	h := fileHeader(nil, section{attrsAt, uint64(len(events)) * (attrSizeWritten + sectionSize)}, data)
	copy(h[72:], bitmap[:])
	return w.rewriteHeader(h)
}

// rewriteHeader writes h over the placeholder header and returns to the
// end of the file.
func (w *Writer) rewriteHeader(h []byte) error {
	_, err := w.w.Seek(w.base, io.SeekStart)
	if err == nil {
		_, err = w.w.Write(h)
	}
	if err == nil {
		_, err = w.w.Seek(w.base+w.off, io.SeekStart)
	}
	if err != nil {
		return w.fail(fmt.Errorf("perfdata: rewriting the perf.data header: %w", err))
	}
	return nil
}

// fileHeader appends a file header: magic, its size, the attribute entry
// size, the sections of the attributes, the data and the (unused) event
// types, and an empty feature bitmap.
func fileHeader(b []byte, attrs, data section) []byte {
	b = append(b, Magic...)
	b = le.AppendUint64(b, fileHeaderSize)
	b = le.AppendUint64(b, attrSizeWritten+sectionSize)
	for _, s := range []section{attrs, data, {}} {
		b = le.AppendUint64(b, s.off)
		b = le.AppendUint64(b, s.size)
	}
	return append(b, make([]byte, featureBits/8)...)
}

// attr encodes o as a perf_event_attr. The first event also asks for the
// process records (as perf's tracking event does) and, when MMAP2 records
// carry build ids, for those.
func (o *outEvent) attr(first, buildIDs bool) []byte {
	b := make([]byte, attrSizeWritten)
	le.PutUint32(b, o.typ)
	le.PutUint32(b[4:], attrSizeWritten)
	le.PutUint64(b[8:], o.config)
	le.PutUint64(b[16:], o.period)
	le.PutUint64(b[24:], o.st)
	flags := o.flags
	if first {
		flags |= attrFlagMmap | attrFlagComm | attrFlagTask | attrFlagMmap2 | attrFlagCommExec
		if buildIDs {
			flags |= attrFlagBuildID
		}
	}
	le.PutUint64(b[40:], flags)
	if flags&attrFlagUseClockID != 0 {
		le.PutUint32(b[92:], clockMonotonic) // otrace's times: event.Record.Time
	}
	return b
}

// feature is one feature section to write.
type feature struct {
	bit  int
	body []byte
}

// features builds the feature sections, in bit order.
func (w *Writer) features(events []*outEvent, attrs [][]byte) []feature {
	var fs []feature
	add := func(bit int, body []byte) {
		if body != nil {
			fs = append(fs, feature{bit, body})
		}
	}
	add(featTracingData, w.tracingData(events))
	add(featBuildID, w.buildIDTable())
	add(featHostname, w.metaString(replay.MetaHostname, ""))
	add(featOSRelease, w.metaString(replay.MetaKernelRelease, ""))
	add(featVersion, w.metaString(replay.MetaOtraceVersion, "otrace "))
	if arch := w.meta[replay.MetaArch]; arch != "" {
		add(featArch, appendHeaderString(nil, machine(arch)))
	}
	ncpus, _ := strconv.ParseUint(w.meta[replay.MetaNumCPU], 10, 32)
	avail := max(uint32(ncpus), w.maxCPU+1)
	if ncpus == 0 {
		ncpus = uint64(avail)
	}
	add(featNrCPUs, le.AppendUint32(le.AppendUint32(nil, avail), uint32(ncpus)))
	if cl := strings.Fields(w.meta[replay.MetaCommandLine]); len(cl) > 0 {
		b := le.AppendUint32(nil, uint32(len(cl)))
		for _, a := range cl {
			b = appendHeaderString(b, a)
		}
		add(featCmdline, b)
	}
	desc := le.AppendUint32(nil, uint32(len(events)))
	desc = le.AppendUint32(desc, attrSizeWritten)
	for i, o := range events {
		desc = append(desc, attrs[i]...)
		desc = le.AppendUint32(desc, 1)
		desc = appendHeaderString(desc, o.perfName)
		desc = le.AppendUint64(desc, o.id)
	}
	add(featEventDesc, desc)
	if w.sawSample {
		add(featSampleTime, le.AppendUint64(le.AppendUint64(nil, w.firstTime), w.lastTime))
	}
	return fs
}

// featSampleTime is HEADER_SAMPLE_TIME: the first and last sample's time.
const featSampleTime = 21

func (w *Writer) metaString(key, prefix string) []byte {
	v := w.meta[key]
	if v == "" {
		return nil
	}
	return appendHeaderString(nil, prefix+v)
}

// nameAlign is the alignment of perf's header strings (NAME_ALIGN).
const nameAlign = 64

// appendHeaderString appends a perf_header_string: a u32 length, then the
// string, its NUL and zeros up to a multiple of 64 bytes.
func appendHeaderString(b []byte, s string) []byte {
	n := (len(s) + 1 + nameAlign - 1) / nameAlign * nameAlign
	b = le.AppendUint32(b, uint32(n))
	b = append(b, s...)
	return append(b, make([]byte, n-len(s))...)
}

// machine turns Go's name for an architecture into uname -m's, which perf
// records (the inverse of goarch).
func machine(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "386":
		return "i686"
	case "arm64":
		return "aarch64"
	case "loong64":
		return "loongarch64"
	}
	return goarch
}

// buildIDTable is the BUILD_ID feature: per mapped file with a known
// build id, a record of a header, pid -1 (the host), the id in 20 bytes
// with its size, and the path padded to 64 bytes.
func (w *Writer) buildIDTable() []byte {
	if len(w.buildIDs) == 0 {
		return nil
	}
	paths := make([]string, 0, len(w.buildIDs))
	for p := range w.buildIDs {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	var b []byte
	for _, p := range paths {
		id := w.buildIDs[p]
		n := (len(p) + 1 + nameAlign - 1) / nameAlign * nameAlign
		misc := uint16(miscBuildIDSize | miscUser)
		if strings.HasPrefix(p, kernelDSO) {
			misc = miscBuildIDSize | miscKernel
		}
		b = le.AppendUint32(b, 0)
		b = le.AppendUint16(b, misc)
		b = le.AppendUint16(b, uint16(recHeaderSize+4+24+n))
		b = le.AppendUint32(b, ^uint32(0)) // pid -1
		b = append(b, id...)
		b = append(b, make([]byte, maxBuildID-len(id))...)
		b = append(b, byte(len(id)), 0, 0, 0)
		b = append(b, p...)
		b = append(b, make([]byte, n-len(p))...)
	}
	return b
}

// The tracefs header_page and header_event texts: perf copies them into
// the tracing data, and libtraceevent reads the ring buffer's page layout
// from the first. They have been the same on every 64-bit kernel since
// 2.6.x; otrace does not record the machine's.
const (
	headerPage = "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n" +
		"\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n" +
		"\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n" +
		"\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n"
	headerEvent = "# compressed entry header\n" +
		"\ttype_len    :    5 bits\n" +
		"\ttime_delta  :   27 bits\n" +
		"\tarray       :   32 bits\n" +
		"\n" +
		"\tpadding     : type == 29\n" +
		"\ttime_extend : type == 30\n" +
		"\ttime_stamp : type == 31\n" +
		"\tdata max type_len  == 28\n"
	tracingVersion = "0.6"
)

// tracingData is the TRACING_DATA feature, laid out as perf's
// trace-event-info writes it: magic, version, byte order, long and page
// size, header_page, header_event, no ftrace formats, the formats of the
// recorded tracepoints by system, empty kallsyms and printk formats, and
// the saved cmdlines ("PID COMM" lines, from the COMM records).
func (w *Writer) tracingData(events []*outEvent) []byte {
	bySystem := map[string][]*outEvent{}
	var systems []string
	for _, o := range events {
		if o.format == nil {
			continue
		}
		s := o.format.System
		if _, ok := bySystem[s]; !ok {
			systems = append(systems, s)
		}
		bySystem[s] = append(bySystem[s], o)
	}
	if len(systems) == 0 {
		return nil
	}
	slices.Sort(systems)
	b := append([]byte(tracingMagic), tracingVersion...)
	b = append(b, 0, 0) // NUL, little-endian
	long := byte(8)
	if a := w.meta[replay.MetaArch]; a == "386" || a == "arm" || a == "mips" || a == "mipsle" {
		long = 4
	}
	b = append(b, long)
	b = le.AppendUint32(b, uint32(os.Getpagesize()))
	for _, h := range [][2]string{{"header_page", headerPage}, {"header_event", headerEvent}} {
		b = append(append(b, h[0]...), 0)
		b = le.AppendUint64(b, uint64(len(h[1])))
		b = append(b, h[1]...)
	}
	b = le.AppendUint32(b, 0) // ftrace formats
	b = le.AppendUint32(b, uint32(len(systems)))
	for _, s := range systems {
		evs := bySystem[s]
		slices.SortFunc(evs, func(x, y *outEvent) int { return cmp.Compare(x.config, y.config) })
		b = append(append(b, s...), 0)
		b = le.AppendUint32(b, uint32(len(evs)))
		for _, o := range evs {
			b = le.AppendUint64(b, uint64(len(o.format.Text)))
			b = append(b, o.format.Text...)
		}
	}
	b = le.AppendUint32(b, 0) // kallsyms
	b = le.AppendUint32(b, 0) // printk formats
	cmdlines := w.savedCmdlines()
	b = le.AppendUint64(b, uint64(len(cmdlines)))
	return append(b, cmdlines...)
}

// savedCmdlines lists the threads' names as tracefs saved_cmdlines does.
func (w *Writer) savedCmdlines() []byte {
	tids := make([]int32, 0, len(w.comms))
	for tid := range w.comms {
		tids = append(tids, tid)
	}
	slices.Sort(tids)
	var b []byte
	for _, tid := range tids {
		b = strconv.AppendInt(b, int64(tid), 10)
		b = append(b, ' ')
		b = append(b, w.comms[tid]...)
		b = append(b, '\n')
	}
	return b
}
