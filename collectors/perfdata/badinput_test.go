package perfdata

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// badCase is a damaged perf.data and what reading it must give: an error
// from NewReader, or from Read after some complete samples.
type badCase struct {
	name    string
	data    []byte
	openErr string // substring of NewReader's error; "" if it must open
	readErr string // substring of the error Read ends with; "" for io.EOF
	samples int    // samples delivered before readErr
	trunc   bool   // the error wraps ErrTruncated
}

func badCases(t testing.TB) []badCase {
	sw := func(time uint64) []byte { return synthSample(1, time, 0, 10, 10, switchPayload("a")) }
	good := schedFile(t, sw(1), sw(2), sw(3), finishedRound())
	dataAt := int(le.Uint64(good[40:]))
	dataEnd := dataAt + int(le.Uint64(good[48:]))
	recLen := len(sw(1))
	patch := func(b []byte, off int, v uint64) []byte {
		b = bytes.Clone(b)
		le.PutUint64(b[off:], v)
		return b
	}
	pipe := pipeBytes([]synthAttr{{typ: typeTracepoint, config: 0x174, period: 1, sampleType: synthSampleType, ids: []uint64{1}}},
		tracingData(map[string][][]byte{"sched": {schedSwitchFormat(t)}}), sw(1), sw(2), finishedRound())
	tracingAt := bytes.Index(pipe, []byte(tracingMagic))
	return []badCase{
		{name: "an empty file is not a perf.data", data: nil, openErr: "offset 0: the file is empty; it is not a perf.data file"},
		{name: "other bytes are not a perf.data", data: []byte("#!/bin/sh\necho hello\n"), openErr: `offset 0: not a perf.data file (bad magic "#!/bin/s")`},
		{name: "an otrace recording is named as one", data: []byte("\x7fOTRACE\n\x01\x00\x01\x00\x00\x00\x00\x00"), openErr: "it looks like an otrace recording"},
		{name: "a big-endian perf.data is refused", data: append([]byte(magicBigEndian), make([]byte, 100)...), openErr: "written on a big-endian machine"},
		{name: "a file cut inside the magic is not a perf.data", data: []byte("PERF"), openErr: "shorter than the 16-byte header", trunc: true},
		{name: "a file cut inside the header is truncated", data: good[:60], openErr: "offset 0: the file of 60 bytes is shorter than the 104-byte header", trunc: true},
		{name: "a header of another size is refused", data: patch(good, 8, 96), openErr: "offset 8: header size 96 is neither 104 (a file) nor 16 (a pipe)"},
		{name: "an absurd attribute size is refused", data: patch(good, 16, 1<<40), openErr: "offset 16: attribute entry size 1099511627776 is not from 80 to 4112"},
		{name: "an attributes section past the end is truncated", data: patch(good, 24, 1<<20), openErr: "offset 24: the attributes section at offset 1048576", trunc: true},
		{name: "an absurd number of attributes is refused", data: patch(good, 32, 144<<20), openErr: "offset 32: 1048576 attributes is more than 4096"},
		{name: "a data section inside the header is refused", data: patch(good, 40, 8), openErr: "offset 40: the data section's offset 8 is inside the header"},
		{name: "a file that ends before its data section is truncated", data: patch(good, 40, 1<<50), openErr: "ends before its data section at offset 1125899906842624", trunc: true},
		{name: "an absurd data size is refused", data: patch(good, 48, 1<<63), openErr: "offset 48: the data section's size 9223372036854775808 is absurd"},
		{
			name: "a file cut inside the data delivers the complete samples, then names the offset",
			data: good[:dataAt+2*recLen+20], samples: 2, trunc: true,
			readErr: "perf.data is truncated at offset " + itoa(dataAt+2*recLen) + ": the file ends inside a SAMPLE record",
		},
		{
			name: "a file cut between records delivers them all, then says where the data should have gone on",
			data: good[:dataAt+3*recLen], samples: 3, trunc: true,
			readErr: "the file ends at offset " + itoa(dataAt+3*recLen) + ", inside the data section the header says ends at offset " + itoa(dataEnd),
		},
		{
			name: "a record smaller than its header stops reading after the records before it",
			data: func() []byte {
				b := bytes.Clone(good)
				le.PutUint16(b[dataAt+recLen+6:], 4)
				return b
			}(),
			samples: 1, readErr: "offset " + itoa(dataAt+recLen) + ": SAMPLE record size 4 is smaller than the 8-byte record header",
		},
		{
			name: "zeros where a record should be are named as an unfinished file",
			data: func() []byte {
				b := bytes.Clone(good)
				clear(b[dataAt+2*recLen : dataAt+3*recLen])
				return b
			}(),
			samples: 2, readErr: "zero bytes where a record header should be",
		},
		{
			name: "a record running past the data section is refused",
			data: func() []byte {
				b := bytes.Clone(good)
				le.PutUint16(b[dataAt+3*recLen+6:], 64)
				return b
			}(),
			samples: 3, readErr: "FINISHED_ROUND record of 64 bytes runs past the end of the data section",
		},
		{
			name: "a pipe cut inside a record delivers the complete samples",
			data: pipe[:len(pipe)-len(finishedRound())-10], samples: 1, trunc: true,
			readErr: "the file ends inside a SAMPLE record",
		},
		{
			name: "a pipe cut inside its tracing data is truncated",
			data: pipe[:tracingAt+100], trunc: true,
			readErr: "the stream ends inside the",
		},
		{
			name: "pipe tracing data of an absurd size is refused",
			data: func() []byte {
				b := bytes.Clone(pipe)
				le.PutUint32(b[tracingAt-8:], 1<<31)
				return b
			}(),
			readErr: "HEADER_TRACING_DATA of 2147483648 bytes is larger than",
		},
		{
			name: "corrupt tracing data is named with its offset",
			data: func() []byte {
				b := bytes.Clone(pipe)
				copy(b[tracingAt:], "\x17\x08\x44TRACING")
				return b
			}(),
			readErr: "offset " + itoa(tracingAt) + `: tracing data: tracing data starts with "\x17\bDTRACING", not the tracing magic`,
		},
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestBadInputGivesErrorsThatNameTheOffset(t *testing.T) {
	for _, tt := range badCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.data))
			if tt.openErr != "" {
				if err == nil {
					t.Fatalf("NewReader succeeded, want an error with %q", tt.openErr)
				}
				checkErr(t, err, tt.openErr, tt.trunc)
				return
			}
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			enableAll(t, r)
			s := &recSink{}
			err = drain(t, r, s, len(tt.data))
			if n := len(s.samples()); n != tt.samples {
				t.Errorf("delivered %d samples before the error, want %d", n, tt.samples)
			}
			if tt.readErr == "" {
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Read ended cleanly, want an error with %q", tt.readErr)
			}
			checkErr(t, err, tt.readErr, tt.trunc)
			if again := r.Read(s); again == nil || again.Error() != err.Error() {
				t.Errorf("Read after the error gave %v, want the same error", again)
			}
		})
	}
}

func checkErr(t *testing.T, err error, want string, trunc bool) {
	t.Helper()
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if !strings.HasPrefix(err.Error(), "perfdata: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Errorf("error %T is not a *FormatError", err)
	}
	if errors.Is(err, ErrTruncated) != trunc {
		t.Errorf("errors.Is(%q, ErrTruncated) = %v, want %v", err, !trunc, trunc)
	}
}

func TestOpenNamesTheFile(t *testing.T) {
	path := t.TempDir() + "/not.data"
	if err := os.WriteFile(path, []byte("hello, world, this is text"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "perfdata: "+path+": offset 0: not a perf.data file") {
		t.Errorf("Open of a text file: %v", err)
	}
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Open of a directory: %v", err)
	}
	if _, err := Open(path + ".missing"); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing file: %v", err)
	}
}

func TestUnsupportedThingsAreNamedOnceAndSkipped(t *testing.T) {
	compressed := record(recCompressed, 0, make([]byte, 24))
	unknown := record(200, 0, make([]byte, 8))
	data := schedFile(t, compressed, synthSample(1, 1, 0, 10, 10, switchPayload("a")), compressed, unknown, finishedRound())
	var notices []string
	r, err := Options{Notice: func(s string) { notices = append(notices, s) }}.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	enableAll(t, r)
	s := &recSink{}
	if err := drain(t, r, s, len(data)); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "perf record -z") {
		t.Errorf("notices %q, want one about perf record -z", notices)
	}
	st := r.Stats()
	if st.Unknown != 1 || st.Skipped != 2 || st.Rounds != 1 || len(s.samples()) != 1 {
		t.Errorf("stats %+v and %d samples: want 1 unknown, 2 skipped COMPRESSED, 1 round and the sample", st, len(s.samples()))
	}
}

func TestAKilledRecordingIsReadToItsEnd(t *testing.T) {
	data := schedFile(t, synthSample(1, 1, 0, 10, 10, switchPayload("a")), synthSample(1, 2, 0, 10, 10, switchPayload("b")))
	// perf record killed before it wrote the final header: data size 0,
	// no feature sections.
	dataEnd := le.Uint64(data[40:]) + le.Uint64(data[48:])
	data = data[:dataEnd]
	le.PutUint64(data[48:], 0)
	clear(data[72:fileHeaderSize])
	var notices []string
	r, err := Options{Notice: func(s string) { notices = append(notices, s) }}.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	enableAll(t, r)
	s := &recSink{}
	if err := drain(t, r, s, len(data)); err != nil {
		t.Fatal(err)
	}
	if len(s.samples()) != 2 || len(notices) == 0 || !strings.Contains(notices[0], "killed") {
		t.Errorf("%d samples, notices %q: want both samples and a notice that perf record was killed", len(s.samples()), notices)
	}
}

func TestAFileCutInItsFeatureSectionsStillGivesItsData(t *testing.T) {
	data := schedFile(t, synthSample(1, 1, 0, 10, 10, switchPayload("a")), synthSample(1, 2, 0, 10, 10, switchPayload("b")))
	dataEnd := le.Uint64(data[40:]) + le.Uint64(data[48:])
	var notices []string
	r, err := Options{Notice: func(s string) { notices = append(notices, s) }}.NewReader(bytes.NewReader(data[:dataEnd+5]))
	if err != nil {
		t.Fatal(err)
	}
	enableAll(t, r)
	s := &recSink{}
	if err := drain(t, r, s, len(data)); err != nil {
		t.Fatal(err)
	}
	want := "perfdata: the file is cut short (offset 72: the feature table at offset " + itoa(int(dataEnd))
	if len(s.samples()) != 2 || len(notices) != 2 || !strings.HasPrefix(notices[0], want) || !strings.Contains(notices[1], "no tracing data") {
		t.Errorf("%d samples, notices %q: want both samples, a notice starting %q and one that the tracing data is missing", len(s.samples()), notices, want)
	}
	if got := r.Catalog().Names(); len(got) != 1 || got[0] != "perf:tracepoint_372" {
		t.Errorf("catalog %v: without tracing data the tracepoint is known only by its id", got)
	}
}
