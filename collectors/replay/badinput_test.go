package replay

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// badInput is a recording that is wrong in one way, and what reading it
// should say.
type badInput struct {
	name string
	data []byte
	// want is a substring of the error; "" means the recording reads to
	// its END without error.
	want      string
	off       int64 // the offset the error names, when > 0
	truncated bool
	unknown   uint64 // Stats.Unknown after a successful read
}

func badInputs(t testing.TB) []badInput {
	good := writeRoundTrip(t).data
	firstSample := recordAt(t, good, recSample, 0)
	endAt := recordAt(t, good, recEnd, 0)
	with := func(off int, patch func(b []byte)) []byte {
		b := bytes.Clone(good)
		patch(b[off:])
		return b
	}
	header := func(version uint16, order byte, flags, size uint32) []byte {
		return append(fileHeader(version, order, flags, size), good[fileHeaderSize:]...)
	}
	ev := eventRec(1, "e:e", "", nil)
	withUnknown := append(bytes.Clone(good[:firstSample]), rec(77, []byte("from the future!"))...)
	withUnknown = append(withUnknown, good[firstSample:endAt]...)
	withUnknown = append(withUnknown, good[endAt:]...)
	le.PutUint64(withUnknown[len(withUnknown)-16:], le.Uint64(good[endAt+8:])+1)

	return []badInput{
		{name: "an empty file is not a recording", data: nil, want: "the file is empty"},
		{name: "a file with a bad magic is not a recording",
			data: append([]byte("\x7fELF\x02\x01\x01\x00"), good[8:]...), want: `not an otrace recording (bad magic "\x7fELF`},
		{name: "a short file that is not a recording says so",
			data: []byte("hello"), want: "bad magic"},
		{name: "a perf.data file is recognized as one",
			data: append([]byte("PERFILE2"), make([]byte, 100)...), want: "looks like a perf.data file"},
		{name: "a future version asks for an upgrade",
			data: header(Version+1, littleEndian, 0, fileHeaderSize), want: "format version 2 is newer than this otrace reads (version 1)", off: 8},
		{name: "version zero is refused",
			data: header(0, littleEndian, 0, fileHeaderSize), want: "bad format version 0"},
		{name: "a big-endian recording is refused",
			data: header(Version, bigEndian, 0, fileHeaderSize), want: "big-endian", off: 10},
		{name: "an unknown byte order is refused",
			data: header(Version, 7, 0, fileHeaderSize), want: "bad byte order 7"},
		{name: "unknown incompatible flags ask for an upgrade",
			data: header(Version, littleEndian, 1<<3, fileHeaderSize), want: "flags 0x8", off: 12},
		{name: "unknown compatible flags are ignored",
			data: header(Version, littleEndian, 1<<20, fileHeaderSize)},
		{name: "a longer header of a later minor revision is skipped",
			data: header(Version, littleEndian, 0, fileHeaderSize+16)},
		{name: "an absurd header size is refused",
			data: header(Version, littleEndian, 0, 1<<30), want: "bad file header size"},
		{name: "a truncated header is reported",
			data: good[:fileHeaderSize-4], want: "shorter than the 24-byte file header"},
		{name: "a record cut short is reported as truncated",
			data: good[:firstSample+20], want: "ends inside a SAMPLE record", off: int64(firstSample), truncated: true},
		{name: "a record header cut short is reported as truncated",
			data: good[:firstSample+4], want: "ends inside a record header", truncated: true},
		{name: "a recording without END is truncated",
			data: good[:endAt], want: "without an END record", off: int64(endAt), truncated: true},
		{name: "a record smaller than its header is an error",
			data: with(firstSample, func(b []byte) { le.PutUint32(b, 4) }), want: "SAMPLE record size 4 is smaller than the 8-byte record header", off: int64(firstSample)},
		{name: "a zero-filled tail is an error",
			data: append(bytes.Clone(good[:endAt]), make([]byte, 64)...), want: "zero bytes where a record header should be", off: int64(endAt)},
		{name: "an absurd record size is an error",
			data: with(firstSample, func(b []byte) { le.PutUint32(b, 0xfffffff8) }), want: "larger than the 67108864-byte limit"},
		{name: "a record size that breaks the alignment is an error",
			data: with(firstSample, func(b []byte) { le.PutUint32(b, 52) }), want: "not a multiple of 8"},
		{name: "a record size past the end of the file is truncation",
			data: with(firstSample, func(b []byte) { le.PutUint32(b, 1<<20) }), want: "ends inside a SAMPLE record of 1048576 bytes", truncated: true},
		{name: "a SAMPLE shorter than its fixed fields is an error",
			data: recording(ev, rec(recSample, make([]byte, 8))), want: "SAMPLE record of 16 bytes is shorter than its 48-byte minimum"},
		{name: "a SAMPLE whose callchain overruns the record is an error",
			data: with(firstSample, func(b []byte) { le.PutUint32(b[8+32:], 1<<30) }), want: "cannot hold 1073741824 callchain addresses"},
		{name: "a SAMPLE whose payload overruns the record is an error",
			data: with(firstSample, func(b []byte) { le.PutUint32(b[8+36:], 1<<31) }), want: "raw bytes"},
		{name: "an event id defined twice is an error",
			data: recording(ev, eventRec(1, "f:f", "", nil)), want: "event id 1 is defined twice, as e:e and f:f"},
		{name: "an event name defined twice is an error",
			data: recording(ev, eventRec(2, "e:e", "", nil)), want: "event e:e is defined twice"},
		{name: "an event without a name is an error",
			data: recording(eventRec(1, "", "", nil)), want: "empty name"},
		{name: "an event whose format does not parse is an error",
			data: recording(eventRec(1, "e:e", "e", []byte("name: e\nformat:\n\tfield:int x;\n"))), want: "EVENT e:e has a bad format"},
		{name: "an EVENT whose strings overrun the record is an error",
			data: recording(rec(recEvent, append(le.AppendUint32(le.AppendUint32(nil, 1), 0xffff), make([]byte, 8)...))), want: "cannot hold a 65535-byte name"},
		{name: "a sample of an undefined event is an error",
			data: recording(ev, sampleRec(2, 1, nil, nil)), want: "SAMPLE of event id 2, which no EVENT record before it defines"},
		{name: "a sample before its event's definition is an error",
			data: recording(sampleRec(1, 1, nil, nil), ev), want: "event id 1"},
		{name: "a COMM whose name overruns the record is an error",
			data: recording(rec(recComm, append(make([]byte, 20), 0xff, 0, 0, 0))), want: "COMM record of 32 bytes cannot hold a 255-byte name"},
		{name: "a META whose key overruns the record is an error",
			data: recording(rec(recMeta, le.AppendUint32(le.AppendUint32(nil, 9), 0))), want: "META record"},
		{name: "an MMAP whose path overruns the record is an error",
			data: recording(rec(recMmap, append(make([]byte, 40), 1, 0, 0, 0, 0, 0, 0, 0))), want: "MMAP record of 56 bytes cannot hold"},
		{name: "an END that miscounts is an error",
			data: with(endAt, func(b []byte) { le.PutUint64(b[8:], 3) }), want: "END record counts 3 records"},
		{name: "an unknown record type is skipped and counted", data: withUnknown, unknown: 1},
	}
}

func TestBadInputIsReportedWithItsOffset(t *testing.T) {
	for _, tc := range badInputs(t) {
		t.Run(tc.name, func(t *testing.T) {
			r, _, err := readAll(t, bytes.NewReader(tc.data), len(tc.data))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if got := r.Stats().Unknown; got != tc.unknown {
					t.Errorf("Stats().Unknown = %d, want %d", got, tc.unknown)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.want)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "replay: ") {
				t.Errorf("error %q, want one starting with replay: and containing %q", err, tc.want)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			if tc.off > 0 && fe.Off != tc.off {
				t.Errorf("error names offset %d, want %d", fe.Off, tc.off)
			}
			if isTruncated(err) != tc.truncated {
				t.Errorf("errors.Is(err, ErrTruncated) = %v, want %v", !tc.truncated, tc.truncated)
			}
		})
	}
}
