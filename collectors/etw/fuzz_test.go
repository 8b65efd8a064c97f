package etw

import (
	"testing"

	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// fuzzPlatform answers TDH queries with the record's own payload, so the
// fuzzer reaches the TRACE_EVENT_INFO parser and the decoder of the
// schema it describes.
type fuzzPlatform struct{ capturePlatform }

func (*fuzzPlatform) EventInfo(r *Record) ([]byte, error) { return r.UserData, nil }

type nopSink struct{}

func (nopSink) Sample(*event.Record) {}
func (nopSink) Comm(process.Comm)    {}
func (nopSink) Fork(process.Fork)    {}
func (nopSink) Exit(process.Exit)    {}
func (nopSink) Mmap(process.Mmap)    {}
func (nopSink) Lost(session.Lost)    {}
func (nopSink) Tick(uint64)          {}

// FuzzETWRecord feeds bytes to every decoder of outside bytes: as a
// flattened EVENT_RECORD through the source's ingest (kernel classes,
// stack walks, TDH and TraceLogging schemas, generic probes), and as a
// TRACE_EVENT_INFO, TraceLogging metadata, provider list, capture and
// .NET method event.
// Nothing may panic, and ingest must leave the source consistent.
func FuzzETWRecord(f *testing.F) {
	for _, r := range scenarioRecords(f) {
		f.Add(AppendFlat(nil, r))
	}
	f.Add(handRecord())
	f.Add(fileOpenInfo().build())
	f.Add(requestMeta())
	f.Add(scenario(f))
	tdhRec := &Record{Header: Header{Provider: testProvider, Descriptor: Descriptor{ID: 10}}, UserData: fileOpenInfo().build()}
	f.Add(AppendFlat(nil, tdhRec))
	for v := uint8(0); v <= 2; v++ {
		payload := methodLoadPayload(v, 0x7ff7aa000000, 0x80, "App.Program", "Main", "void  ()")
		f.Add(AppendFlat(nil, providerRec(DotNetRuntimeGUID, dotnetMethodVerbose, v, 1200, 0, 1234, 5678, payload)))
		f.Add(payload)
	}

	src := newSource(&fuzzPlatform{capturePlatform{data: &captureData{}, stop: make(chan struct{})}}, Options{Window: 1})
	var evs []*event.Event
	for _, name := range append(KernelNames(), "etw:Test-Provider", "etw:Test-Provider:FileOpen", "etw:My.Provider:Request",
		"etw:{11112222-3333-4444-5555-666677778888}:10", "etw:My.Provider") {
		ev, err := src.Catalog().Lookup(name)
		if err != nil {
			f.Fatal(err)
		}
		ev.Stack = event.BothStacks
		evs = append(evs, ev)
	}
	if _, err := src.ing.enable(evs); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, b []byte) {
		var r Record
		if err := ParseRecord(b, FlatMemory(b), &r); err == nil {
			// Fresh caches each time: schemas learnt from one input must
			// not pile up.
			src.mu.Lock()
			src.ing.init(src)
			src.ing.enable(evs)
			src.mu.Unlock()
			src.ingest(&r)
			if r.Header.Provider == StackWalkGUID {
				// A stack walk for itself, as if its event came first.
				src.ingest(&r)
			}
			src.Drain(nopSink{})
			src.mu.Lock()
			n := len(src.ing.stacks)
			src.mu.Unlock()
			if n != 0 {
				t.Fatalf("%d items still wait for stacks after a drain", n)
			}
		}
		if s, err := ParseEventInfo(b); err == nil {
			decodeAny(s, b)
		}
		if s, err := ParseTraceLogging(b, testProvider, Descriptor{}); err == nil {
			decodeAny(s, b)
		}
		ParseProviderEnumeration(b)
		ParseProviderEvents(b)
		parseCapture(b)
		var w StackWalk
		ParseStackWalk(b, 8, &w)
		var m MethodLoad
		for v := uint8(0); v <= 2; v++ {
			ParseMethodLoadVerbose(b, v, &m)
		}
		StackTrace(b, 4, nil)
	})
}

// decodeAny compiles s and decodes b with it at both pointer sizes.
func decodeAny(s *Schema, b []byte) {
	l, err := compile(s, "etw:fuzz", "fuzz")
	if err != nil {
		return
	}
	var d decoder
	l.decode(&d, &s.Descriptor, b, 8)
	l.decode(&d, &s.Descriptor, b, 4)
}

// scenarioRecords are the records of the source test's scenario.
func scenarioRecords(t testing.TB) []*Record {
	d, err := parseCapture(scenario(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []*Record
	for _, b := range d.records {
		r := &Record{}
		if err := ParseRecord(b, FlatMemory(b), r); err == nil {
			out = append(out, r)
		}
	}
	return out
}
