package replay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// sample is a copy of a delivered event.Record.
type sample struct {
	Event     string
	Time      uint64
	CPU       uint32
	PID, TID  int32
	Lost      uint64
	Callchain []uint64
	Raw       []byte
}

// recSink keeps a copy of everything a Reader delivers, in order.
type recSink struct {
	items []any
	// raws and fields of the delivered samples are decoded through the
	// event's format, to exercise it on whatever the reader hands out.
	decode bool
}

func (s *recSink) Sample(r *event.Record) {
	c := sample{Event: r.Event.Name, Time: r.Time, CPU: r.CPU, PID: r.PID, TID: r.TID, Lost: r.Lost}
	if len(r.Callchain) > 0 {
		c.Callchain = append([]uint64(nil), r.Callchain...)
	}
	if len(r.Raw) > 0 {
		c.Raw = append([]byte(nil), r.Raw...)
	}
	if s.decode && r.Event.Format != nil {
		for i := range r.Event.Format.Fields {
			f := &r.Event.Format.Fields[i]
			f.Uint(r.Raw)
			f.Str(r.Raw)
			f.Index(r.Raw, f.Len(r.Raw)-1)
		}
	}
	s.items = append(s.items, c)
}
func (s *recSink) Comm(c process.Comm) { s.items = append(s.items, c) }
func (s *recSink) Fork(f process.Fork) { s.items = append(s.items, f) }
func (s *recSink) Exit(e process.Exit) { s.items = append(s.items, e) }
func (s *recSink) Mmap(m process.Mmap) { s.items = append(s.items, m) }
func (s *recSink) Lost(l session.Lost) { s.items = append(s.items, l) }
func (s *recSink) Tick(uint64)         {}

// nopSink drops everything, for benchmarks and allocation counts.
type nopSink struct{ n int }

func (s *nopSink) Sample(*event.Record) { s.n++ }
func (s *nopSink) Comm(process.Comm)    {}
func (s *nopSink) Fork(process.Fork)    {}
func (s *nopSink) Exit(process.Exit)    {}
func (s *nopSink) Mmap(process.Mmap)    {}
func (s *nopSink) Lost(session.Lost)    {}
func (s *nopSink) Tick(uint64)          {}

// enableAll enables every event of r's catalog, setting dense IDs as the
// session would.
func enableAll(t testing.TB, r *Reader) {
	t.Helper()
	var evs []*event.Event
	for i, name := range r.Catalog().Names() {
		ev, err := r.Catalog().Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		ev.ID = i
		evs = append(evs, ev)
	}
	if err := r.Enable(evs); err != nil {
		t.Fatal(err)
	}
}

// drain reads r to the end and returns the error that ended it, nil for
// io.EOF. It fails the test if Read neither ends nor makes progress.
func drain(t testing.TB, r *Reader, sink session.Sink, size int) error {
	t.Helper()
	for i := 0; i <= size/recHeaderSize+1; i++ {
		if err := r.Read(sink); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
	t.Fatalf("Read of %d bytes did not end", size)
	return nil
}

// readAll opens data, enables every event and reads to the end. The error
// is the first from NewReader or Read, nil at a clean END.
func readAll(t testing.TB, src io.Reader, size int) (*Reader, *recSink, error) {
	t.Helper()
	r, err := NewReader(src)
	if err != nil {
		return nil, nil, err
	}
	enableAll(t, r)
	sink := &recSink{}
	return r, sink, drain(t, r, sink, size)
}

// Builders of raw recordings for the bad-input tests.

func fileHeader(version uint16, order byte, flags, size uint32) []byte {
	b := append([]byte(Magic), 0, 0, order, 0)
	le.PutUint16(b[8:], version)
	b = le.AppendUint32(b, flags)
	b = le.AppendUint32(b, size)
	b = le.AppendUint32(b, 0)
	for len(b) < int(size) && len(b) < maxHeaderSize {
		b = append(b, 0)
	}
	return b
}

func goodHeader() []byte { return fileHeader(Version, littleEndian, 0, fileHeaderSize) }

// rec frames body as a record of type t, padded to 8 bytes.
func rec(t uint16, body []byte) []byte {
	b := le.AppendUint32(nil, uint32(padded(recHeaderSize+len(body))))
	b = le.AppendUint16(b, t)
	b = le.AppendUint16(b, 0)
	b = append(b, body...)
	for len(b)%align != 0 {
		b = append(b, 0)
	}
	return b
}

func eventRec(id uint32, name, system string, format []byte) []byte {
	b := le.AppendUint32(nil, id)
	b = le.AppendUint16(b, uint16(len(name)))
	b = le.AppendUint16(b, uint16(len(system)))
	b = le.AppendUint32(b, uint32(len(format)))
	b = le.AppendUint32(b, 0)
	b = append(append(append(b, name...), system...), format...)
	return rec(recEvent, b)
}

func sampleRec(id uint32, time uint64, chain []uint64, raw []byte) []byte {
	b := le.AppendUint32(nil, id)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint64(b, time)
	b = le.AppendUint32(b, 100)
	b = le.AppendUint32(b, 101)
	b = le.AppendUint64(b, 0)
	b = le.AppendUint32(b, uint32(len(chain)))
	b = le.AppendUint32(b, uint32(len(raw)))
	for _, pc := range chain {
		b = le.AppendUint64(b, pc)
	}
	return rec(recSample, append(b, raw...))
}

func endRec(records, samples uint64) []byte {
	return rec(recEnd, le.AppendUint64(le.AppendUint64(nil, records), samples))
}

// recording joins a good header, recs and an END that counts them.
func recording(recs ...[]byte) []byte {
	b := goodHeader()
	var samples uint64
	for _, r := range recs {
		b = append(b, r...)
		if le.Uint16(r[4:]) == recSample {
			samples++
		}
	}
	return append(b, endRec(uint64(len(recs)), samples)...)
}

// recordAt finds the offset of the n-th record (0-based) of type t in a
// well-formed recording.
func recordAt(t testing.TB, data []byte, typ uint16, n int) int {
	t.Helper()
	for off := fileHeaderSize; off+recHeaderSize <= len(data); off += int(le.Uint32(data[off:])) {
		if le.Uint16(data[off+4:]) == typ {
			if n == 0 {
				return off
			}
			n--
		}
	}
	t.Fatalf("no %s record", recName(typ))
	return 0
}

func readFormat(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".format")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixtureBytes(t testing.TB, opts FixtureOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSchedFixture(&buf, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// dump renders delivered items one a line, for golden files and diffs.
func dump(items []any, formats map[string]*event.Format) string {
	var sb strings.Builder
	for _, it := range items {
		switch v := it.(type) {
		case sample:
			fmt.Fprintf(&sb, "%d cpu%d %d/%d %s", v.Time, v.CPU, v.PID, v.TID, v.Event)
			if v.Lost != 0 {
				fmt.Fprintf(&sb, " lost=%d", v.Lost)
			}
			if f := formats[v.Event]; f != nil {
				for _, name := range f.FieldNames() {
					fld := f.Field(name)
					if fld.String {
						s, _ := fld.Str(v.Raw)
						fmt.Fprintf(&sb, " %s=%q", name, s)
					} else {
						n, _ := fld.Int(v.Raw)
						fmt.Fprintf(&sb, " %s=%d", name, n)
					}
				}
			}
			for _, pc := range v.Callchain {
				fmt.Fprintf(&sb, " %#x", pc)
			}
		case process.Comm:
			fmt.Fprintf(&sb, "%d COMM %d/%d %q exec=%v", v.Time, v.PID, v.TID, v.Comm, v.Exec)
		case process.Fork:
			fmt.Fprintf(&sb, "%d FORK %d/%d from %d/%d", v.Time, v.PID, v.TID, v.PPID, v.PTID)
		case process.Exit:
			fmt.Fprintf(&sb, "%d EXIT %d/%d", v.Time, v.PID, v.TID)
		case process.Mmap:
			fmt.Fprintf(&sb, "%d MMAP %d %#x+%#x @%#x prot=%d %s %x", v.Time, v.PID, v.Start, v.Len, v.Pgoff, v.Prot, v.Path, v.BuildID)
		case session.Lost:
			fmt.Fprintf(&sb, "%d LOST cpu%d %d", v.Time, v.CPU, v.Count)
		default:
			panic(fmt.Sprintf("dump: %T", it))
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

func catalogFormats(t testing.TB, r *Reader) map[string]*event.Format {
	t.Helper()
	m := map[string]*event.Format{}
	for _, name := range r.Catalog().Names() {
		ev, err := r.Catalog().Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = ev.Format
	}
	return m
}

func isTruncated(err error) bool { return errors.Is(err, ErrTruncated) }
