package replay

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzReplay feeds the reader arbitrary bytes. It must never panic, never
// loop, fail only with errors that say "replay:", and read the same way
// whether the bytes come all at once or a few at a time.
func FuzzReplay(f *testing.F) {
	// Small seeds keep the minimization of new inputs quick.
	good := writeRoundTrip(f).data
	f.Add(good)
	f.Add(fixtureBytes(f, FixtureOptions{Switches: 5, Seed: 2})[:6000])
	for _, off := range []int{0, 8, 10, 12, 16, fileHeaderSize, fileHeaderSize + 4, len(good) / 2, len(good) - 20} {
		b := bytes.Clone(good)
		b[off] ^= 0x41
		f.Add(b)
	}
	for _, bad := range badInputs(f) {
		f.Add(bad.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		whole, wholeErr := fuzzRead(t, bytes.NewReader(data), len(data))
		if wholeErr != nil && !strings.HasPrefix(wholeErr.Error(), "replay: ") {
			t.Fatalf("error without the package prefix: %v", wholeErr)
		}
		var fe *FormatError
		if wholeErr != nil && !errors.As(wholeErr, &fe) {
			t.Fatalf("bad input gave %T, not a *FormatError: %v", wholeErr, wholeErr)
		}
		short, shortErr := fuzzRead(t, &shortReads{bytes.NewReader(data)}, len(data))
		if whole != short || errString(wholeErr) != errString(shortErr) {
			t.Fatalf("reading at once gave %d records and %v; in short reads %d and %v", whole, wholeErr, short, shortErr)
		}
	})
}

// fuzzRead reads src to the end, decoding every field of every sample,
// and returns how many records the sink got and the error that ended it.
func fuzzRead(t *testing.T, src io.Reader, size int) (int, error) {
	r, err := NewReader(src)
	if err != nil {
		return 0, err
	}
	enableAll(t, r)
	sink := &recSink{decode: true}
	err = drain(t, r, sink, size)
	st := r.Stats()
	if st.NotEnabled > st.Samples || st.Unknown > st.Records {
		t.Fatalf("inconsistent stats %+v", st)
	}
	return len(sink.items), err
}

// shortReads returns at most 7 bytes a read, so records and their headers
// arrive in pieces. Unlike the iotest readers it tells its length, so the
// reader's buffer stays small and fuzzing fast.
type shortReads struct{ *bytes.Reader }

func (s *shortReads) Read(p []byte) (int, error) { return s.Reader.Read(p[:min(len(p), 7)]) }

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
