package perfdata

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// The layouts below follow tools/perf/Documentation/perf.data-file-format.txt
// and include/uapi/linux/perf_event.h.

// Magic is the first eight bytes of a perf.data file (file or pipe mode)
// written on a little-endian machine.
const Magic = "PERFILE2"

// magicBigEndian is Magic as a big-endian machine writes it.
const magicBigEndian = "2ELIFREP"

const (
	fileHeaderSize = 104 // magic, size, attr_size, attrs, data, event_types, 256-bit feature bitmap
	pipeHeaderSize = 16  // magic, size
	sectionSize    = 16  // u64 offset, u64 size
	featureBits    = 256
	recHeaderSize  = 8 // u32 type, u16 misc, u16 size

	// attrSizeVer0 is the smallest perf_event_attr (Linux 2.6.31).
	attrSizeVer0 = 64
	// maxAttrSize bounds attr.size: today's is 136 bytes; a few pages leave
	// room for growth but refuse garbage.
	maxAttrSize = 4096
	// maxAttrs and maxIDs bound what a header may declare.
	maxAttrs = 1 << 12
	maxIDs   = 1 << 20
	// maxFeatureSize bounds a feature section read into memory (the
	// tracing data is the largest, a few hundred KiB).
	maxFeatureSize = 64 << 20
	// maxBlobSize bounds data that follows a record in pipe mode
	// (tracing data) and is read into memory.
	maxBlobSize = 64 << 20
	// maxInMemory bounds a file-mode perf.data read from a stream that
	// cannot seek: its feature sections come after the data, so the
	// whole file is held in memory.
	maxInMemory = 256 << 20
)

var le = binary.LittleEndian

// Record types written by the kernel.
const (
	recMmap           = 1
	recLost           = 2
	recComm           = 3
	recExit           = 4
	recThrottle       = 5
	recUnthrottle     = 6
	recFork           = 7
	recRead           = 8
	recSample         = 9
	recMmap2          = 10
	recAux            = 11
	recItraceStart    = 12
	recLostSamples    = 13
	recSwitch         = 14
	recSwitchCPUWide  = 15
	recNamespaces     = 16
	recKsymbol        = 17
	recBPFEvent       = 18
	recCgroup         = 19
	recTextPoke       = 20
	recAuxOutputHWID  = 21
	lastKernelRecType = recAuxOutputHWID
)

// Record types perf synthesizes (user types start at 64).
const (
	recUserStart     = 64
	recHeaderAttr    = 64
	recEventType     = 65 // deprecated, ignored
	recTracingData   = 66
	recBuildID       = 67
	recFinishedRound = 68
	recIDIndex       = 69
	recAuxtraceInfo  = 70
	recAuxtrace      = 71
	recAuxtraceError = 72
	recThreadMap     = 73
	recCPUMap        = 74
	recStatConfig    = 75
	recStat          = 76
	recStatRound     = 77
	recEventUpdate   = 78
	recTimeConv      = 79
	recHeaderFeature = 80
	recCompressed    = 81
	recFinishedInit  = 82
	lastUserRecType  = recFinishedInit
)

var recNames = map[uint32]string{
	recMmap: "MMAP", recLost: "LOST", recComm: "COMM", recExit: "EXIT",
	recThrottle: "THROTTLE", recUnthrottle: "UNTHROTTLE", recFork: "FORK",
	recRead: "READ", recSample: "SAMPLE", recMmap2: "MMAP2", recAux: "AUX",
	recItraceStart: "ITRACE_START", recLostSamples: "LOST_SAMPLES",
	recSwitch: "SWITCH", recSwitchCPUWide: "SWITCH_CPU_WIDE",
	recNamespaces: "NAMESPACES", recKsymbol: "KSYMBOL", recBPFEvent: "BPF_EVENT",
	recCgroup: "CGROUP", recTextPoke: "TEXT_POKE", recAuxOutputHWID: "AUX_OUTPUT_HW_ID",
	recHeaderAttr: "HEADER_ATTR", recEventType: "HEADER_EVENT_TYPE",
	recTracingData: "HEADER_TRACING_DATA", recBuildID: "HEADER_BUILD_ID",
	recFinishedRound: "FINISHED_ROUND", recIDIndex: "ID_INDEX",
	recAuxtraceInfo: "AUXTRACE_INFO", recAuxtrace: "AUXTRACE",
	recAuxtraceError: "AUXTRACE_ERROR", recThreadMap: "THREAD_MAP",
	recCPUMap: "CPU_MAP", recStatConfig: "STAT_CONFIG", recStat: "STAT",
	recStatRound: "STAT_ROUND", recEventUpdate: "EVENT_UPDATE",
	recTimeConv: "TIME_CONV", recHeaderFeature: "HEADER_FEATURE",
	recCompressed: "COMPRESSED", recFinishedInit: "FINISHED_INIT",
}

// recName names a record type for messages.
func recName(t uint32) string {
	if n, ok := recNames[t]; ok {
		return n
	}
	return "type-" + strconv.FormatUint(uint64(t), 10)
}

// Header misc bits.
const (
	miscCPUModeMask = 7
	miscKernel      = 1
	miscUser        = 2
	miscCommExec    = 1 << 13
	miscMmapData    = 1 << 13
	miscMmapBuildID = 1 << 14
	miscBuildIDSize = 1 << 15
)

// Sample fields (perf_event_attr.sample_type), in the order the kernel
// writes them into a SAMPLE record, except IDENTIFIER, which comes first.
const (
	sampleIP           = 1 << 0
	sampleTID          = 1 << 1
	sampleTime         = 1 << 2
	sampleAddr         = 1 << 3
	sampleRead         = 1 << 4
	sampleCallchain    = 1 << 5
	sampleID           = 1 << 6
	sampleCPU          = 1 << 7
	samplePeriod       = 1 << 8
	sampleStreamID     = 1 << 9
	sampleRaw          = 1 << 10
	sampleBranchStack  = 1 << 11
	sampleRegsUser     = 1 << 12
	sampleStackUser    = 1 << 13
	sampleIdentifier   = 1 << 16
	branchSampleHWIdx  = 1 << 17 // attr.branch_sample_type: a hw_idx word precedes the entries
	readFormatEnabled  = 1 << 0
	readFormatRunning  = 1 << 1
	readFormatID       = 1 << 2
	readFormatGroup    = 1 << 3
	readFormatLost     = 1 << 4
	sampleIDAllMask    = sampleTID | sampleTime | sampleID | sampleStreamID | sampleCPU | sampleIdentifier
	maxReadGroupValues = 1 << 12
)

// Feature bits of the header (HEADER_*).
const (
	featTracingData = 1
	featBuildID     = 2
	featHostname    = 3
	featOSRelease   = 4
	featVersion     = 5
	featArch        = 6
	featNrCPUs      = 7
	featCmdline     = 11
	featEventDesc   = 12
	featAuxtrace    = 18
	featDirFormat   = 24
	featCompressed  = 27
)

// Perf event types (perf_event_attr.type).
const (
	typeHardware   = 0
	typeSoftware   = 1
	typeTracepoint = 2
	typeHWCache    = 3
	typeRaw        = 4
	typeBreakpoint = 5
)

// ErrTruncated is wrapped by the error a Reader returns when the file ends
// before the header, an attribute, a feature or the data section it
// declares: perf record was killed, the disk filled up, or the file is
// still being written.
var ErrTruncated = errors.New("perf.data is truncated")

// FormatError reports bytes that are not a valid perf.data file, naming the
// offset of the record or header field that is wrong.
type FormatError struct {
	Name string // the file's path, or "" when the reader has none
	Off  int64  // byte offset in the file (in pipe mode, in the stream)
	Msg  string
	// Truncated is set when the file ends early; Unwrap then returns
	// ErrTruncated.
	Truncated bool
}

func (e *FormatError) Error() string {
	prefix := "perfdata: "
	if e.Name != "" {
		prefix += e.Name + ": "
	}
	if e.Truncated {
		return fmt.Sprintf("%sperf.data is truncated at offset %d: %s", prefix, e.Off, e.Msg)
	}
	return fmt.Sprintf("%soffset %d: %s", prefix, e.Off, e.Msg)
}

// Unwrap returns ErrTruncated for a truncated file, or nil.
func (e *FormatError) Unwrap() error {
	if e.Truncated {
		return ErrTruncated
	}
	return nil
}

// IsPerfData reports whether b, the first bytes of a file, start like a
// perf.data file, so that a caller can tell it from other recordings.
func IsPerfData(b []byte) bool {
	return len(b) >= len(Magic) && (string(b[:len(Magic)]) == Magic || string(b[:len(Magic)]) == magicBigEndian)
}

// cstring returns b up to its first NUL.
func cstring(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}
