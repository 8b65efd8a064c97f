package perfdata

import (
	"fmt"
	"io"
	"os"
	"sort"
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
	// decode reads every field of every sample through the event's
	// format, to exercise it on whatever the reader hands out.
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

// samples returns the delivered samples.
func (s *recSink) samples() []sample {
	var out []sample
	for _, it := range s.items {
		if v, ok := it.(sample); ok {
			out = append(out, v)
		}
	}
	return out
}

// nopSink counts samples and drops everything, for benchmarks and
// allocation counts.
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
	for i := 0; i <= size/recHeaderSize+2; i++ {
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

// readFile opens a perf.data, enables every event and reads to the end.
func readFile(t testing.TB, path string, opts Options) (*Reader, *recSink) {
	t.Helper()
	r, err := opts.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	enableAll(t, r)
	sink := &recSink{}
	st, _ := os.Stat(path)
	if err := drain(t, r, sink, int(st.Size())); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return r, sink
}

// summary renders what a reader delivered in a form a reviewer can read
// and a golden file can hold: the file's metadata and events, counts of
// each kind of record, and per-event and per-comm sample counts.
func summary(r *Reader, s *recSink) string {
	var b strings.Builder
	meta := r.Meta()
	for _, k := range sortedKeys(meta) {
		if k == "command_line" {
			continue // holds the capture's temporary path
		}
		fmt.Fprintf(&b, "meta %s = %s\n", k, meta[k])
	}
	fmt.Fprintf(&b, "pipe mode: %v\n", r.Pipe())
	for _, a := range r.Attrs() {
		ev := "(side-band only)"
		if a.Event != nil {
			ev = a.Event.Name + ", stack " + a.Event.Stack.String()
			if n := len(a.Event.Format.Fields); n > 0 {
				ev += fmt.Sprintf(", %d fields", n)
			}
		}
		fmt.Fprintf(&b, "attr %q type %d config %#x sample_type %#x: %s\n", a.Name, a.Type, a.Config, a.SampleType, ev)
	}
	kinds := map[string]int{}
	perEvent := map[string]int{}
	withChain, markers := 0, 0
	var last uint64
	ordered := true
	for _, it := range s.items {
		var t uint64
		switch v := it.(type) {
		case sample:
			kinds["sample"]++
			perEvent[v.Event]++
			if len(v.Callchain) > 0 {
				withChain++
				if v.Callchain[0] >= 1<<64-4095 {
					markers++
				}
			}
			t = v.Time
		case process.Comm:
			kinds["comm"]++
			t = v.Time
		case process.Fork:
			kinds["fork"]++
			t = v.Time
		case process.Exit:
			kinds["exit"]++
			t = v.Time
		case process.Mmap:
			kinds["mmap"]++
			t = v.Time
		case session.Lost:
			kinds["lost"]++
			t = v.Time
		}
		if t < last {
			ordered = false
		}
		last = max(last, t)
	}
	for _, k := range sortedKeys(kinds) {
		fmt.Fprintf(&b, "delivered %s: %d\n", k, kinds[k])
	}
	for _, k := range sortedKeys(perEvent) {
		fmt.Fprintf(&b, "samples of %s: %d\n", k, perEvent[k])
	}
	fmt.Fprintf(&b, "samples with a callchain: %d, starting with a context marker: %d\n", withChain, markers)
	fmt.Fprintf(&b, "in time order: %v\n", ordered)
	for _, it := range s.items {
		if m, ok := it.(process.Mmap); ok && strings.HasPrefix(m.Path, "[kernel.kallsyms]") {
			fmt.Fprintf(&b, "kernel mapping %s build id %x (BUILD_ID feature: %x)\n", m.Path, m.BuildID, r.BuildIDs()["[kernel.kallsyms]"])
		}
	}
	st := r.Stats()
	fmt.Fprintf(&b, "stats: records %d samples %d rounds %d skipped %d unknown %d malformed %d out-of-order %d lost %d user regs %d user stacks %d\n",
		st.Records, st.Samples, st.Rounds, st.Skipped, st.Unknown, st.Malformed, st.OutOfOrder, st.Lost, st.UserRegs, st.UserStacks)
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
