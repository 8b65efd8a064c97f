package etw_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/d5/tengo/v2"

	"otrace/bindings/host"
	"otrace/bindings/otracemod"
	"otrace/collectors/etw"
	"otrace/collectors/replay"
	"otrace/runtime/event"
	"otrace/runtime/session"
	"otrace/runtime/stacks"
	"otrace/runtime/symbols"
)

// These tests run Tengo scripts on ETW events the way otrace run does on
// Windows: the collector's source, the session, the otrace module. The
// records come from a capture, so everything but the system calls runs.

// runScript runs script on src and returns what it printed. tee, when
// set, also records what src delivers (as otrace record does). res, when
// set, names stack frames.
func runScript(t *testing.T, src session.Source, script string, record []string, tee *replay.Tee, res stacks.Resolver) string {
	t.Helper()
	sess := session.New(session.Config{Source: src})
	var out bytes.Buffer
	mod := otracemod.New(otracemod.Config{Session: sess, Out: &out, Symbols: res})
	s, err := host.Compile(host.Options{
		File:    "etw.tengo",
		Src:     []byte(script),
		Globals: map[string]tengo.Object{"otrace": mod.Object()},
		Modules: mod.Modules(nil, false),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mod.Bind(s)
	if err := s.RunMain(); err != nil {
		t.Fatal(err)
	}
	for _, p := range record {
		evs, err := sess.Resolve(p)
		if err != nil {
			t.Fatal(err)
		}
		sess.Attach(evs, &event.Attachment{Probe: p, Handler: tee.Handler()})
	}
	if err := sess.Run(); err != nil {
		t.Fatal(err)
	}
	for _, a := range sess.Attachments() {
		if a.Stats.Errors.Total > 0 {
			t.Errorf("%s: %d handler errors: %v", a.Probe, a.Stats.Errors.Total, a.Stats.Errors.Entries[0].Err)
		}
	}
	return out.String()
}

func capture(t *testing.T) *etw.Source {
	t.Helper()
	src, err := etw.NewCapture(bytes.NewReader(etw.ScenarioCapture(t)), etw.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

const kernelScript = `
otrace.on("etw:kernel:profile", func(e) {
	otrace.printf("profile pid=%d tid=%d cpu=%d time=%d comm=%s thread=%d\n", e.pid, e.tid, e.cpu, e.time, e.comm, e.ThreadId)
	otrace.printf("%s", e.stack)
	otrace.printf("opcode=%d\n", e.field("common_opcode"))
})
otrace.on("etw:kernel:cswitch", func(e) {
	otrace.printf("cswitch %d <- %d reason=%d time=%d\n", e.NewThreadId, e.OldThreadId, e.OldThreadWaitReason, e.time)
})
otrace.on("etw:Test-Provider:FileOpen", func(e) {
	otrace.printf("open %s by %s (%d): %s sizes=%v %s\n", e.FileName, e.comm, e.pid, e.Owner, e.Sizes, e.fields)
})
`

const kernelOutput = `cswitch 5678 <- 0 reason=6 time=90000
profile pid=1234 tid=5678 cpu=1 time=100000 comm=app.exe thread=5678
	0xfffff80000001000 ([unknown])
	0xfffff80000002000 ([unknown])
	0x7ff600001234 ([unknown])
	0x7ff600005678 ([unknown])
opcode=46
open C:\temp\ü.txt by app.exe (1234): S-1-5-18 sizes=[10, 1099511627776] ["Pid", "FileName", "NameLen", "Name", "Count", "Sizes", "BlobLen", "Blob", "Id", "Owner", "When", "Ratio", "Info_A", "Info_B", "Tail_Value"]
`

func TestScriptsSeeETWEventsAsLinuxEvents(t *testing.T) {
	got := runScript(t, capture(t), kernelScript+`
otrace.on("etw:My.Provider:Request", func(e) {
	otrace.printf("request %s status=%d pt=(%d,%d) has=%v\n", e.url, e.status, e.pt_x, e.pt_y, e.has("url"))
})
otrace.on("etw:Test-Provider", func(e) { otrace.printf("any id=%d %s %d bytes\n", e.id, e.event, len(e.data)) })
`, nil, nil, nil)
	want := kernelOutput + "any id=10 FileOpen 132 bytes\nrequest https://x status=-5 pt=(10,20) has=true\n"
	if got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

// TestETWRecordingsReplayThroughTheLinuxPath records the ETW source with
// a Tee, as otrace record does on Windows, and runs the same script on the
// recording with the replay reader, as otrace run --input does anywhere.
func TestETWRecordingsReplayThroughTheLinuxPath(t *testing.T) {
	var rec bytes.Buffer
	w, err := replay.NewWriter(&rec, map[string]string{replay.MetaArch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	tee := replay.NewTee(capture(t), w)
	probes := []string{"etw:kernel:profile", "etw:kernel:cswitch", "etw:Test-Provider:FileOpen"}
	live := runScript(t, tee, kernelScript, probes, tee, nil)
	if err := tee.Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := replay.NewReader(bytes.NewReader(rec.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	replayed := runScript(t, r, kernelScript, nil, nil, nil)
	if live != kernelOutput || replayed != kernelOutput {
		t.Errorf("live:\n%s\nreplayed:\n%s\nwant:\n%s", live, replayed, kernelOutput)
	}
}

// TestStacksThroughWindowsImagesAndJITCodeAreNamed profiles through a PE
// image and .NET JIT code, as on Windows, and names the frames on Linux:
// the image from a copy under --symfs found by its file name (the
// capture keeps the kernel's \Device\ path), the method from the .NET
// runtime's rundown event.
func TestStacksThroughWindowsImagesAndJITCodeAreNamed(t *testing.T) {
	dll, err := os.ReadFile(filepath.Join("..", "..", "runtime", "symbols", "testdata", "tiny.dll"))
	if err != nil {
		t.Fatal(err)
	}
	symfs := t.TempDir()
	if err := os.WriteFile(filepath.Join(symfs, "tiny.dll"), dll, 0o644); err != nil {
		t.Fatal(err)
	}
	res := symbols.New(symbols.Options{Symfs: symfs, ProcRoot: t.TempDir(), Kallsyms: os.DevNull, DebugDirs: []string{}})
	defer res.Close()
	src, err := etw.NewCapture(bytes.NewReader(etw.ProfileCapture(t)), etw.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got := runScript(t, src, `
otrace.on("etw:kernel:profile", func(e) {
	otrace.printf("%s", e.ustack)
	for f in e.ustack.frames { otrace.printf("%s|%s|%d\n", f.name, f.module, f.offset) }
})
`, nil, nil, res)
	want := "\tTinyAdd+0x5 (tiny.dll)\n\tApp.Program.Main+0x10 ([jit])\n\ttiny.dll+0x1010 (tiny.dll)\n" +
		"TinyAdd+0x5|\\Device\\HarddiskVolume3\\Windows\\System32\\tiny.dll|5\n" +
		"App.Program.Main+0x10|[jit]|16\n" +
		"tiny.dll+0x1010|\\Device\\HarddiskVolume3\\Windows\\System32\\tiny.dll|0\n"
	if got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}
