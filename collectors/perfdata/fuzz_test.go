package perfdata

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzPerfData feeds the reader arbitrary bytes. It must never panic, never
// loop, fail only with *FormatErrors that say "perfdata:", and read the
// same way whether the bytes come from a seekable reader or a pipe that
// delivers a few at a time.
func FuzzPerfData(f *testing.F) {
	for _, fx := range fixtures {
		data, err := os.ReadFile(filepath.Join("testdata", fx.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	leaked, err := os.ReadFile(filepath.Join("testdata", "leaked-buildid.data"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(leaked)
	// Small seeds keep the minimization of new inputs quick.
	sw := func(id, time uint64, cpu uint32) []byte {
		return synthSample(id, time, cpu, 10, 10, switchPayload("a"))
	}
	good := schedFile(f, synthComm(3, 1, 0, 10, 10, "a", true), sw(1, 3, 0), sw(2, 2, 1), synthLost(3, 4, 1, 2), finishedRound(), sw(1, 5, 0))
	f.Add(good)
	f.Add(pipeBytes([]synthAttr{{typ: typeTracepoint, config: 0x174, period: 1, sampleType: synthSampleType, ids: []uint64{1}}},
		tracingData(map[string][][]byte{"sched": {schedSwitchFormat(f)}}), sw(1, 2, 0), finishedRound(), sw(1, 1, 0)))
	for _, off := range []int{8, 16, 24, 32, 40, 48, 72, fileHeaderSize + 4, len(good) / 2, len(good) - 40} {
		b := bytes.Clone(good)
		b[off] ^= 0x41
		f.Add(b)
	}
	for _, bad := range badCases(f) {
		f.Add(bad.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		whole, wholeErr := fuzzRead(t, bytes.NewReader(data), len(data))
		if wholeErr != nil {
			if !strings.HasPrefix(wholeErr.Error(), "perfdata: ") {
				t.Fatalf("error without the package prefix: %v", wholeErr)
			}
			var fe *FormatError
			if !errors.As(wholeErr, &fe) {
				t.Fatalf("bad input gave %T, not a *FormatError: %v", wholeErr, wholeErr)
			}
		}
		short, shortErr := fuzzRead(t, &shortReads{bytes.NewReader(data)}, len(data))
		if whole != short || errString(wholeErr) != errString(shortErr) {
			t.Fatalf("reading in place gave %q and %v; from a pipe %q and %v", whole, wholeErr, short, shortErr)
		}
	})
}

// fuzzRead reads src to the end, decoding every field of every sample, and
// returns a digest of what the sink got and the error that ended it.
func fuzzRead(t *testing.T, src io.Reader, size int) (string, error) {
	r, err := NewReader(src)
	if err != nil {
		return "", err
	}
	enableAll(t, r)
	sink := &recSink{decode: true}
	err = drain(t, r, sink, size)
	st := r.Stats()
	if st.NotEnabled+st.UnknownIDs > st.Samples || st.Samples > st.Records {
		t.Fatalf("inconsistent stats %+v", st)
	}
	var b strings.Builder
	for _, it := range sink.items {
		fmt.Fprintf(&b, "%+v\n", it)
	}
	return b.String(), err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
