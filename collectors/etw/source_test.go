package etw

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// Raw timestamps of the scenario: the capture's clock runs at 10 MHz
// from tick 1000, so tick T is (T-1000)*100 ns into the session.
const (
	tsRundown  = 1100
	tsCSwitch  = 1900
	tsSample   = 2000
	tsChild    = 2500
	tsFileOpen = 3000
	tsRequest  = 3100
	tsLost     = 3200
	tsEnd      = 4000
)

func ns(ticks int64) uint64 { return uint64(ticks-1000) * 100 }

var myProvider = ProviderGUIDFromName("My.Provider")

const (
	kAddr1 = 0xfffff80000001000
	kAddr2 = 0xfffff80000002000
	uAddr1 = 0x7ff600001234
	uAddr2 = 0x7ff600005678
)

// scenario is a capture of a small Windows session, in the order a
// consumer could receive it: CPU 0's buffer with the context switch
// arrives after CPU 1's sample, and the sample's user stack arrives in a
// second stack walk.
func scenario(t testing.TB) []byte {
	fileOpen := &Record{
		Header: Header{Flags: FlagExtendedInfo | Flag64BitHeader, ThreadID: 5678, ProcessID: 1234, TimeStamp: tsFileOpen,
			Provider: testProvider, Descriptor: Descriptor{ID: 10, Version: 1, Level: 4, Opcode: 11, Task: 3, Keyword: 0x10}},
		CPU: 2, UserData: fileOpenPayload(),
		Extended: []ExtItem{{Type: ExtStackTrace64, Data: new(pb).u64(1).u64(uAddr2).u64(uAddr1).b}},
	}
	traits := append([]byte{14, 0}, "My.Provider\x00"...)
	request := &Record{
		Header: Header{Flags: FlagExtendedInfo | Flag64BitHeader, ThreadID: 5678, ProcessID: 1234, TimeStamp: tsRequest,
			Provider: myProvider, Descriptor: Descriptor{Level: 5, Opcode: 0, Keyword: 0x1}},
		CPU: 3, UserData: requestPayload(),
		Extended: []ExtItem{{Type: ExtProvTraits, Data: traits}, {Type: ExtEventSchemaTL, Data: requestMeta()}},
	}
	recs := []*Record{
		kernelRec(ProcessGUID, opDCStart, 4, tsRundown, 0, 1234, 0, processV4Payload(1234, 4, "app.exe", "app.exe --serve")),
		kernelRec(ThreadGUID, opDCStart, 3, tsRundown+10, 0, 1234, 5678, threadV3Payload(1234, 5678)),
		kernelRec(ImageLoadGUID, opDCStart, 3, tsRundown+20, 0, 1234, 5678, imageV3Payload(0x7ff600000000, 0x10000, 1234, `\Device\HarddiskVolume3\app\app.exe`)),
		kernelRec(PerfInfoGUID, opSampledProfile, 2, tsSample, 1, ^uint32(0), 5678, sampledProfilePayload(kAddr1, 5678)),
		kernelRec(StackWalkGUID, opStackWalk, 2, tsSample+1, 1, 1234, 5678, stackWalkPayload(tsSample, 1234, 5678, kAddr1, kAddr2)),
		kernelRec(ThreadGUID, opCSwitch, 4, tsCSwitch, 0, ^uint32(0), 5678, cswitchPayload(5678, 0, 6, 5)),
		kernelRec(StackWalkGUID, opStackWalk, 2, tsSample+400, 1, 1234, 5678, stackWalkPayload(tsSample, 1234, 5678, uAddr1, uAddr2)),
		kernelRec(ProcessGUID, opStart, 4, tsChild, 0, 1234, 5678, processV4Payload(2000, 1234, "child.exe", "child.exe")),
		fileOpen,
		request,
		kernelRec(RTLostEventGUID, opRTLostEvent, 0, tsLost, 0, 0, 0, nil),
		kernelRec(StackWalkGUID, opStackWalk, 2, tsLost+50, 0, 1234, 5678, stackWalkPayload(12345, 1234, 5678, kAddr1)),
		kernelRec(ThreadGUID, opEnd, 3, tsEnd, 0, 1234, 5678, threadV3Payload(1234, 5678)),
		kernelRec(PerfInfoGUID, opSampledProfile, 2, tsEnd+100, 1, ^uint32(0), 5678, []byte{1, 2, 3, 4}),
	}
	// TDH's answer for FileOpen, as a live session records it.
	return captureBytes(t, map[*Record][]byte{fileOpen: fileOpenInfo().build()}, recs...)
}

// seen is one record a handler received, copied.
type seen struct {
	name     string
	time     uint64
	cpu      uint32
	pid, tid int32
	chain    []uint64
	fields   map[string]any
}

// runScenario runs a session on the scenario with a Go handler on each
// probe, reading the named fields of each record.
func runScenario(t *testing.T, probes map[string][]string, opts session.ProbeOptions) ([]seen, *session.Session, *Source) {
	t.Helper()
	var notices []string
	src, err := NewCapture(bytes.NewReader(scenario(t)), Options{
		DevicePath: devicePaths(map[string]string{"C:": `\Device\HarddiskVolume3`}, `C:\Windows`),
		Notice:     func(s string) { notices = append(notices, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sess := session.New(session.Config{Source: src})
	var got []seen
	for probe, fields := range probes {
		evs, err := sess.ResolveWith(probe, opts)
		if err != nil {
			t.Fatalf("%s: %v", probe, err)
		}
		sess.Attach(evs, &event.Attachment{Probe: probe, Handler: event.HandlerFunc(func(r *event.Record) error {
			s := seen{name: r.Event.Name, time: r.Time, cpu: r.CPU, pid: r.PID, tid: r.TID,
				chain: append([]uint64(nil), r.Callchain...), fields: map[string]any{}}
			for _, f := range fields {
				s.fields[f] = fieldValue(t, r.Event.Format, r.Raw, f)
			}
			got = append(got, s)
			return nil
		})})
	}
	if err := sess.Run(); err != nil {
		t.Fatal(err)
	}
	if len(notices) > 0 && !strings.Contains(notices[0], "My.Provider") {
		t.Errorf("notices: %q", notices)
	}
	return got, sess, src
}

func TestCaptureDeliversKernelEventsInTimeOrderWithStitchedStacks(t *testing.T) {
	got, sess, src := runScenario(t, map[string][]string{
		"etw:kernel:profile": {"InstructionPointer", "ThreadId"},
		"profile:hz:99":      {"ThreadId"},
		"etw:kernel:cswitch": {"NewThreadId", "OldThreadWaitReason"},
	}, session.ProbeOptions{})
	var names []string
	for _, s := range got {
		names = append(names, s.name)
	}
	// The context switch happened first although it arrived after the
	// sample; both profile probes see the sample.
	if want := []string{"etw:kernel:cswitch", "etw:kernel:profile", "profile:hz:99"}; !reflect.DeepEqual(names, want) &&
		!reflect.DeepEqual(names, []string{"etw:kernel:cswitch", "profile:hz:99", "etw:kernel:profile"}) {
		t.Fatalf("delivered %v, want %v", names, want)
	}
	cs, prof := got[0], got[1]
	if prof.name != "etw:kernel:profile" {
		prof = got[2]
	}
	if cs.time != ns(tsCSwitch) || cs.cpu != 0 || cs.tid != 5678 || cs.pid != 1234 || cs.fields["OldThreadWaitReason"] != int64(6) {
		t.Errorf("cswitch %+v", cs)
	}
	if prof.time != ns(tsSample) || prof.cpu != 1 || prof.pid != 1234 || prof.tid != 5678 {
		t.Errorf("profile %+v", prof)
	}
	if ip := prof.fields["InstructionPointer"].(int64); uint64(ip) != kAddr1 {
		t.Errorf("InstructionPointer = %#x", uint64(ip))
	}
	wantChain := []uint64{event.ContextKernel, kAddr1, kAddr2, event.ContextUser, uAddr1, uAddr2}
	if !reflect.DeepEqual(prof.chain, wantChain) {
		t.Errorf("callchain %x, want %x", prof.chain, wantChain)
	}
	if cs.chain != nil && len(cs.chain) != 0 {
		t.Errorf("cswitch has no stack asked, got %x", cs.chain)
	}

	// The process model learnt names, the child and the image.
	procs := sess.Processes()
	if c := procs.Comm(1234, 5678); c != "app.exe" {
		t.Errorf("comm of 5678 = %q", c)
	}
	if p := procs.Process(2000); p == nil || p.Comm != "child.exe" || p.PPID != 1234 || p.Start != ns(tsChild) {
		t.Errorf("child %+v", p)
	}
	if m := procs.MappingAt(1234, uAddr1, ns(tsSample)); m == nil || m.Path != `C:\app\app.exe` || m.Start != 0x7ff600000000 {
		t.Errorf("mapping %+v", m)
	}
	if th := procs.Thread(5678); th == nil || th.Exit != ns(tsEnd) {
		t.Errorf("thread %+v", th)
	}

	st := src.Stats()
	if st.StacksMatched != 2 || st.StacksUnmatched != 1 || st.Malformed != 1 || st.Lost != 1 || st.OutOfOrder != 0 {
		t.Errorf("stats %+v", st)
	}
	if !strings.Contains(st.FirstError.Error(), "InstructionPointer needs 8 bytes, 4 left") {
		t.Errorf("first error %v", st.FirstError)
	}
	if ss := sess.Stats(); ss.Lost != 1 {
		t.Errorf("session lost %d", ss.Lost)
	}
}

func TestCaptureDecodesProviderEventsThroughTDHAndTraceLogging(t *testing.T) {
	got, _, _ := runScenario(t, map[string][]string{
		"etw:Test-Provider:FileOpen":                    {"Pid", "FileName", "Sizes", "Info_B"},
		"etw:Test-Provider":                             {"id", "event", "data"},
		"etw:{11112222-3333-4444-5555-666677778888}:10": {"Name"},
		"etw:My.Provider:Request":                       {"url", "status", "pt_y"},
		"etw:My.Provider:Request:level=4":               {"url"},
	}, session.ProbeOptions{Stack: event.UserStack})
	byName := map[string]seen{}
	for _, s := range got {
		if _, dup := byName[s.name]; dup {
			t.Errorf("%s delivered twice", s.name)
		}
		byName[s.name] = s
	}
	fo := byName["etw:Test-Provider:FileOpen"]
	if fo.time != ns(tsFileOpen) || fo.pid != 1234 || fo.tid != 5678 || fo.cpu != 2 {
		t.Errorf("FileOpen %+v", fo)
	}
	if fo.fields["FileName"] != `C:\temp\ü.txt` || !reflect.DeepEqual(fo.fields["Sizes"], []int64{10, 1 << 40}) || fo.fields["Info_B"] != "inner" {
		t.Errorf("FileOpen fields %v", fo.fields)
	}
	if want := []uint64{event.ContextUser, uAddr2, uAddr1}; !reflect.DeepEqual(fo.chain, want) {
		t.Errorf("FileOpen stack %x, want %x", fo.chain, want)
	}
	if byID := byName["etw:{11112222-3333-4444-5555-666677778888}:10"]; byID.fields["Name"] != "abc" {
		t.Errorf("by id: %+v", byID)
	}
	gen := byName["etw:Test-Provider"]
	if gen.fields["id"] != int64(10) || gen.fields["event"] != "FileOpen" || !bytes.Equal(gen.fields["data"].([]byte), fileOpenPayload()) {
		t.Errorf("generic %+v", gen.fields)
	}
	req := byName["etw:My.Provider:Request"]
	if req.time != ns(tsRequest) || req.fields["url"] != "https://x" || req.fields["status"] != int64(-5) || req.fields["pt_y"] != int64(20) {
		t.Errorf("Request %+v", req)
	}
	if _, ok := byName["etw:My.Provider:Request:level=4"]; ok {
		t.Error("a level-5 event reached a level=4 probe")
	}
}

func TestFiltersApplyToETWPayloads(t *testing.T) {
	got, _, _ := runScenario(t, map[string][]string{"etw:kernel:cswitch": {"NewThreadId"}}, session.ProbeOptions{Filter: "OldThreadWaitReason == 7"})
	if len(got) != 0 {
		t.Errorf("a filter that matches nothing let %d through", len(got))
	}
	got, _, _ = runScenario(t, map[string][]string{"etw:kernel:cswitch": {"NewThreadId"}}, session.ProbeOptions{Filter: "OldThreadWaitReason == 6"})
	if len(got) != 1 {
		t.Errorf("a matching filter let %d through", len(got))
	}
}

func TestCatalogNamesAndErrors(t *testing.T) {
	src, err := NewCapture(bytes.NewReader(scenario(t)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cat := src.Catalog()
	names := cat.Names()
	for _, want := range []string{"etw:kernel:profile", "etw:kernel:image_load", "etw:Test-Provider"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("Names lacks %s: %v", want, names)
		}
	}
	a, _ := cat.Lookup("etw:kernel:profile")
	b, _ := cat.Lookup("etw:kernel:profile")
	if a == nil || a != b {
		t.Error("Lookup twice gives two events")
	}
	for name, want := range map[string]string{
		"etw:kernel:nope":                 "the kernel events are",
		"sched:sched_switch":              "on Windows otrace traces ETW events",
		"etw:Test-Provider:Nope":          "has no event \"Nope\"; its events: FileOpen",
		"etw:Test-Provider:a:b":           "want etw:PROVIDER[:EVENT]",
		"etw:Test-Provider:level=x":       "level must be",
		"etw:Test-Provider:keywords=zz":   "keywords must be",
		"etw:Test-Provider:color=red":     "unknown option",
		"etw:{11112222-3333-4444-5555}:1": "bad GUID",
	} {
		if _, err := cat.Lookup(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Lookup(%s) = %v, want %q", name, err, want)
		}
	}
}

func TestPlanForTheEnabledProbes(t *testing.T) {
	src, err := NewCapture(bytes.NewReader(scenario(t)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var evs []*event.Event
	for _, name := range []string{"profile:hz:1000", "etw:kernel:cswitch", "etw:Test-Provider:FileOpen:keywords=0x10:level=3", "etw:Test-Provider:level=2:keywords=0x20"} {
		ev, err := src.Catalog().Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	p, err := src.ing.enable(evs)
	if err != nil {
		t.Fatal(err)
	}
	if p.KernelFlags != BaseKernelFlags|FlagProfile|FlagCSwitch {
		t.Errorf("flags %#x", p.KernelFlags)
	}
	if !reflect.DeepEqual(p.StackEvents, []ClassicEventID{{PerfInfoGUID, opSampledProfile}}) {
		t.Errorf("stack events %+v", p.StackEvents)
	}
	if p.ProfileInterval != 10000 {
		t.Errorf("1000 Hz is interval %d", p.ProfileInterval)
	}
	// The profile collects stacks: the .NET runtime's method events come
	// along, so that managed frames are named.
	want := []ProviderEnable{{Provider: testProvider, Name: "Test-Provider", Level: 3, Keywords: 0x30},
		{Provider: DotNetRuntimeGUID, Name: "Microsoft-Windows-DotNETRuntime", Level: 4, Keywords: 0x18},
		{Provider: DotNetRundownGUID, Name: "Microsoft-Windows-DotNETRuntimeRundown", Level: 4, Keywords: 0x58}}
	if !reflect.DeepEqual(p.Providers, want) {
		t.Errorf("providers %+v, want %+v", p.Providers, want)
	}
	noStacks, err := planFor([]*specState{newSpecState(evs[1].Config.(*Spec), evs[1].Format)})
	if err != nil || len(noStacks.Providers) != 0 {
		t.Errorf("without stacks: providers %+v, %v", noStacks.Providers, err)
	}
	two, _ := src.Catalog().Lookup("profile:hz:99")
	if _, err := planFor([]*specState{newSpecState(evs[0].Config.(*Spec), evs[0].Format), newSpecState(two.Config.(*Spec), two.Format)}); err == nil {
		t.Error("two sampling rates planned")
	}
	if profileInterval(100000) != 1221 || profileInterval(0) != 0 || profileInterval(1) != 10_000_000 {
		t.Error("profileInterval bounds")
	}
}

func TestOrderingHoldsRecordsForTheWindow(t *testing.T) {
	src := newSource(&capturePlatform{data: &captureData{}, stop: make(chan struct{})}, Options{Window: time.Millisecond})
	ev, _ := src.Catalog().Lookup("etw:kernel:cswitch")
	if _, err := src.ing.enable([]*event.Event{ev}); err != nil {
		t.Fatal(err)
	}
	in := func(ts int64, cpu uint16) {
		src.ingest(kernelRec(ThreadGUID, opCSwitch, 2, ts, cpu, 0, 1, cswitchPayload(1, 2, 0, 0)))
	}
	in(5_000_000, 0)
	in(4_500_000, 1) // earlier, from another CPU
	src.mu.Lock()
	src.takeReady(false)
	if len(src.batch) != 0 {
		t.Errorf("%d records ready before the window passed", len(src.batch))
	}
	src.mu.Unlock()
	in(7_000_000, 0) // the clock moves past 1 ms + 5 ms
	src.mu.Lock()
	src.takeReady(false)
	var times []uint64
	for _, it := range src.batch {
		times = append(times, it.time)
	}
	src.mu.Unlock()
	if !reflect.DeepEqual(times, []uint64{4_500_000, 5_000_000}) {
		t.Errorf("delivered %v", times)
	}
	in(2_000_000, 1) // too late: delivered, counted
	if src.Stats().OutOfOrder != 1 {
		t.Errorf("out of order %d", src.Stats().OutOfOrder)
	}
}

func TestClockConvertsTicksToNanoseconds(t *testing.T) {
	c := clock{freq: 10_000_000, start: 1000}
	if c.ns(1000) != 0 || c.ns(999) != 0 || c.ns(1001) != 100 || c.ns(1000+10_000_000*3600) != 3600e9 {
		t.Error("10 MHz")
	}
	c = clock{freq: 3_579_545}
	if got := c.ns(3_579_545 * 86400); got != 86400e9 {
		t.Errorf("a day of ACPI ticks is %d ns", got)
	}
}

func TestDevicePaths(t *testing.T) {
	f := devicePaths(map[string]string{"C:": `\Device\HarddiskVolume1`, "D:": `\Device\HarddiskVolume10`}, `C:\Windows`)
	for in, want := range map[string]string{
		`\Device\HarddiskVolume1\a\b.dll`:   `C:\a\b.dll`,
		`\Device\HarddiskVolume10\x.exe`:    `D:\x.exe`,
		`\device\harddiskvolume1\y.exe`:     `C:\y.exe`,
		`\SystemRoot\System32\ntoskrnl.exe`: `C:\Windows\System32\ntoskrnl.exe`,
		`\Device\HarddiskVolume2\z`:         `\Device\HarddiskVolume2\z`,
		`\Device\HarddiskVolume1`:           `\Device\HarddiskVolume1`,
	} {
		if got := f(in); got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}
}

func TestImageLoadsRecordTheImagesCodeViewIdentity(t *testing.T) {
	dll := filepath.Join("..", "..", "runtime", "symbols", "testdata", "tiny.dll")
	opened := 0
	ids := imageIDs(func(p string) (*os.File, error) {
		opened++
		if strings.EqualFold(filepath.Base(p), "tiny.dll") {
			return os.Open(dll)
		}
		return os.Open(p)
	})
	src, err := NewCapture(bytes.NewReader(ProfileCapture(t)), Options{
		DevicePath: devicePaths(map[string]string{"C:": `\Device\HarddiskVolume3`}, `C:\Windows`),
		ImageID:    func(p string) []byte { return ids(strings.ReplaceAll(p, `\`, "/")) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sess := session.New(session.Config{Source: src})
	var maps []process.Mmap
	sess.OnMmap(func(m process.Mmap) { maps = append(maps, m) })
	evs, err := sess.Resolve("etw:kernel:profile")
	if err != nil {
		t.Fatal(err)
	}
	sess.Attach(evs, &event.Attachment{Probe: "profile", Handler: event.HandlerFunc(func(*event.Record) error { return nil })})
	if err := sess.Run(); err != nil {
		t.Fatal(err)
	}
	if len(maps) != 1 || maps[0].Path != `C:\Windows\System32\tiny.dll` || hex.EncodeToString(maps[0].BuildID) != "293bc76fe77a9e548ac6f8ef4a6b18be00000001" {
		t.Fatalf("mappings %+v", maps)
	}
	// Each path is read once; a file that is not there has no identity.
	if ids("C:/Windows/System32/TINY.DLL") == nil || opened != 1 {
		t.Errorf("opened %d times", opened)
	}
	if ids(filepath.Join(t.TempDir(), "none.dll")) != nil {
		t.Error("a missing file has an identity")
	}
}

func TestCaptureFilesAreChecked(t *testing.T) {
	good := scenario(t)
	for name, b := range map[string][]byte{
		"no magic":             []byte("nope"),
		"a truncated entry":    good[:len(good)-8],
		"a ragged entry":       append([]byte(captureMagic), 12, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0),
		"a short CLOCK":        append([]byte(captureMagic), 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
		"a short SCHEMA entry": append([]byte(captureMagic), 16, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
	} {
		if _, err := NewCapture(bytes.NewReader(b), Options{}); err == nil {
			t.Errorf("%s: NewCapture succeeded", name)
		}
	}
}
