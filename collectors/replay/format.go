package replay

import (
	"errors"
	"fmt"
	"strconv"
)

// The layout constants below are specified in FORMAT.md; change both
// together, and bump Version when a reader of the old version would
// misread the new bytes.

// Magic is the first eight bytes of every recording.
const Magic = "\x7fOTRACE\n"

// Version is the format version this package writes and the newest it reads.
const Version = 1

const (
	fileHeaderSize = 24 // magic, version, byte order, reserved, flags, header size, reserved
	maxHeaderSize  = 4096
	littleEndian   = 1
	bigEndian      = 2
	// Flag bits 0-15 are incompatible (a reader must refuse a file with a
	// bit it does not know); bits 16-31 are compatible (ignored). Version 1
	// defines none.
	incompatFlags = 0xffff

	recHeaderSize = 8 // u32 size, u16 type, u16 reserved
	align         = 8
	// MaxRecordSize is the largest record the Writer writes and the Reader
	// accepts, header and padding included.
	MaxRecordSize = 64 << 20
)

// Record types.
const (
	recMeta   = 1
	recEvent  = 2
	recSample = 3
	recComm   = 4
	recFork   = 5
	recExit   = 6
	recMmap   = 7
	recLost   = 8
	recEnd    = 9
)

// Fixed body sizes: the bytes of each record type before its variable
// part, not counting the 8-byte record header.
const (
	metaFixed   = 8  // u32 key length, u32 value length
	eventFixed  = 16 // u32 id, u16 name length, u16 system length, u32 format length, u32 reserved
	sampleFixed = 40 // u32 event, u32 cpu, u64 time, i32 pid, i32 tid, u64 lost, u32 callchain count, u32 raw length
	commFixed   = 24 // u64 time, i32 pid, i32 tid, u32 flags, u32 comm length
	forkFixed   = 24 // u64 time, i32 pid, tid, ppid, ptid
	exitFixed   = 16 // u64 time, i32 pid, i32 tid
	mmapFixed   = 48 // u64 time, i32 pid, u32 prot, u64 start, len, pgoff, u32 path length, u32 build-id length
	lostFixed   = 24 // u64 time, u32 cpu, u32 reserved, u64 count
	endFixed    = 16 // u64 records, u64 samples
)

// commExec is the COMM flag bit set when the name came from an exec.
const commExec = 1

// Recommended META keys. A recording may carry any others.
const (
	MetaOtraceVersion = "otrace_version"
	MetaHostname      = "hostname"
	MetaKernelRelease = "kernel_release"
	MetaArch          = "arch"
	MetaNumCPU        = "ncpus"
	MetaStartTime     = "start_time" // RFC 3339 with nanoseconds, UTC
	MetaCommandLine   = "command_line"
)

var recNames = [...]string{
	recMeta:   "META",
	recEvent:  "EVENT",
	recSample: "SAMPLE",
	recComm:   "COMM",
	recFork:   "FORK",
	recExit:   "EXIT",
	recMmap:   "MMAP",
	recLost:   "LOST",
	recEnd:    "END",
}

// recName names a record type for messages.
func recName(t uint16) string {
	if int(t) < len(recNames) && recNames[t] != "" {
		return recNames[t]
	}
	return "type-" + strconv.Itoa(int(t))
}

func knownType(t uint16) bool {
	return t >= recMeta && t <= recEnd
}

// fixedSize is the smallest body a record of a known type can have.
func fixedSize(t uint16) int {
	switch t {
	case recMeta:
		return metaFixed
	case recEvent:
		return eventFixed
	case recSample:
		return sampleFixed
	case recComm:
		return commFixed
	case recFork:
		return forkFixed
	case recExit:
		return exitFixed
	case recMmap:
		return mmapFixed
	case recLost:
		return lostFixed
	case recEnd:
		return endFixed
	}
	return 0
}

// padded rounds n up to the record alignment.
func padded(n int) int { return (n + align - 1) &^ (align - 1) }

// ErrTruncated is wrapped by the error a Reader returns when the recording
// ends before its END record: the recorder was killed, the disk filled up,
// or the file is still being written.
var ErrTruncated = errors.New("recording is truncated")

// FormatError reports bytes that are not a valid recording, naming the
// offset of the record (or header field) that is wrong.
type FormatError struct {
	Name string // the recording's path, or "" when the reader has none
	Off  int64  // byte offset in the recording
	Msg  string
	// Truncated is set when the recording ends early; Unwrap then returns
	// ErrTruncated.
	Truncated bool
}

func (e *FormatError) Error() string {
	prefix := "replay: "
	if e.Name != "" {
		prefix += e.Name + ": "
	}
	if e.Truncated {
		return fmt.Sprintf("%srecording is truncated at offset %d: %s", prefix, e.Off, e.Msg)
	}
	return fmt.Sprintf("%soffset %d: %s", prefix, e.Off, e.Msg)
}

// Unwrap returns ErrTruncated for a truncated recording, or nil.
func (e *FormatError) Unwrap() error {
	if e.Truncated {
		return ErrTruncated
	}
	return nil
}
