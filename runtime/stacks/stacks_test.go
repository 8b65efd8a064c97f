package stacks

import (
	"fmt"
	"strings"
	"testing"

	"otrace/runtime/process"
	"otrace/runtime/symbols"
)

// fakeResolver names addresses after the file they fall in and records
// what it was asked.
type fakeResolver struct {
	prepared []string
	asked    []uint64
}

func (f *fakeResolver) Prepare(obj symbols.Object) { f.prepared = append(f.prepared, obj.Path) }
func (f *fakeResolver) User(obj symbols.Object, addr uint64) []symbols.Frame {
	f.asked = append(f.asked, addr)
	return []symbols.Frame{{Addr: addr, Func: fmt.Sprintf("fn_%x", addr-obj.Start+obj.Pgoff), Module: obj.Path}}
}
func (f *fakeResolver) Kernel(addr uint64) []symbols.Frame {
	return []symbols.Frame{{Addr: addr, Func: "kfn", Offset: addr & 0xff, Module: "[kernel.kallsyms]"}}
}
func (f *fakeResolver) JIT(pid int32, addr uint64) ([]symbols.Frame, bool) {
	if addr >= 0x9000 && addr < 0xa000 {
		return []symbols.Frame{{Addr: addr, Func: "jitted", Module: "[jit]"}}, true
	}
	return nil, false
}

func table() (*Table, *fakeResolver, *process.Table) {
	procs := process.NewTable()
	res := &fakeResolver{}
	t := New(procs, res)
	procs.AddComm(process.Comm{Time: 1, PID: 5, TID: 5, Comm: "app"})
	for _, m := range []process.Mmap{
		{Time: 1, PID: 5, Start: 0x1000, Len: 0x1000, Pgoff: 0, Prot: 5, Path: "/bin/app"},
		{Time: 1, PID: 5, Start: 0x4000, Len: 0x1000, Pgoff: 0x2000, Prot: 5, Path: "/lib/libx.so"},
	} {
		procs.AddMmap(m)
		t.Mmap(m)
	}
	return t, res, procs
}

func TestFramesNameEachAddressInTheMappingOfItsTime(t *testing.T) {
	tb, res, _ := table()
	id := tb.Intern(false, 5, 2, []uint64{0x1010, 0x4020, 0x9100, 0x7000})
	fs := tb.Frames(id)
	want := []string{"fn_10", "fn_201f", "jitted", "0x7000"}
	if len(fs) != len(want) {
		t.Fatalf("got %d frames: %v", len(fs), fs)
	}
	for i, w := range want {
		if fs[i].Name() != w {
			t.Errorf("frame %d = %q, want %q", i, fs[i].Name(), w)
		}
	}
	// The caller's return address 0x4020 is looked up at 0x401f; the
	// frame still shows the address itself.
	if fs[1].Addr != 0x4020 || res.asked[1] != 0x401f {
		t.Errorf("caller frame addr %x, looked up %x", fs[1].Addr, res.asked[1])
	}
	if len(res.prepared) != 2 {
		t.Errorf("prepared %v; every executable mapping must be opened early", res.prepared)
	}
}

func TestAStackIsNamedOnceAndFormattedLikeBpftrace(t *testing.T) {
	tb, res, _ := table()
	id := tb.Intern(false, 5, 2, []uint64{0x1010, 0x1020})
	a := tb.Format(id)
	b := tb.Format(id)
	if a != b || len(res.asked) != 2 {
		t.Errorf("asked %d times; a stack must be resolved once", len(res.asked))
	}
	if a != "\tfn_10 (app)\n\tfn_1f (app)\n" {
		t.Errorf("Format = %q", a)
	}
	k := tb.Intern(true, 5, 2, []uint64{0xffffffff81000012})
	if got := tb.Format(k); !strings.Contains(got, "kfn+0x12 ([kernel.kallsyms])") || !tb.IsKernel(k) {
		t.Errorf("kernel Format = %q", got)
	}
}

func TestStacksOfDifferentImagesAreDifferent(t *testing.T) {
	tb, _, procs := table()
	before := tb.Intern(false, 5, 2, []uint64{0x1010})
	procs.AddComm(process.Comm{Time: 3, PID: 5, TID: 5, Comm: "new", Exec: true})
	after := tb.Intern(false, 5, 4, []uint64{0x1010})
	if before == after {
		t.Error("the same addresses before and after an exec must be different stacks")
	}
	if got := tb.Frames(after)[0].Name(); got != "0x1010" {
		t.Errorf("after the exec nothing is mapped at 0x1010, got %q", got)
	}
	if got := tb.Frames(before)[0].Name(); got != "fn_10" {
		t.Errorf("the stack from before the exec names the old image: %q", got)
	}
}

func TestInternOfAStackSeenBeforeDoesNotAllocate(t *testing.T) {
	tb, _, _ := table()
	addrs := []uint64{0x1010, 0x1020, 0x4020}
	tb.Intern(false, 5, 2, addrs)
	if n := testing.AllocsPerRun(100, func() { tb.Intern(false, 5, 2, addrs) }); n != 0 {
		t.Errorf("Intern allocates %v times", n)
	}
}

func TestACallerAddressAtAFunctionStartIsNamedByItself(t *testing.T) {
	procs := process.NewTable()
	res := &startOnlyResolver{fakeResolver: &fakeResolver{}}
	tb := New(procs, res)
	procs.AddMmap(process.Mmap{Time: 1, PID: 5, Start: 0x1000, Len: 0x1000, Prot: 5, Path: "/bin/app"})
	// 0x1800 is the start of a signal trampoline: 0x17ff names nothing.
	fs := tb.Frames(tb.Intern(false, 5, 2, []uint64{0x1010, 0x1800}))
	if fs[1].Name() != "sigreturn" || fs[1].Addr != 0x1800 {
		t.Errorf("caller frame = %q at %x, want sigreturn at 0x1800", fs[1].Name(), fs[1].Addr)
	}
}

// startOnlyResolver names only addresses from 0x1800 on, like a binary
// whose function starts there after padding.
type startOnlyResolver struct{ *fakeResolver }

func (r *startOnlyResolver) User(obj symbols.Object, addr uint64) []symbols.Frame {
	if addr >= 0x1800 {
		return []symbols.Frame{{Addr: addr, Func: "sigreturn", Module: obj.Path}}
	}
	return []symbols.Frame{{Addr: addr, Module: obj.Path}}
}

func TestWindowsImagesAreFilesAndPrintByTheirFileName(t *testing.T) {
	procs := process.NewTable()
	res := &fakeResolver{}
	tb := New(procs, res)
	for _, m := range []process.Mmap{
		{Time: 1, PID: 5, Start: 0x10000, Len: 0x1000, Prot: 5, Path: `C:\Windows\System32\ntdll.dll`},
		{Time: 1, PID: 5, Start: 0x20000, Len: 0x1000, Prot: 5, Path: `\Device\HarddiskVolume3\app\app.exe`},
		{Time: 1, PID: 5, Start: 0x30000, Len: 0x1000, Prot: 5, Path: "//anon"},
	} {
		procs.AddMmap(m)
		tb.Mmap(m)
	}
	id := tb.Intern(false, 5, 2, []uint64{0x10010, 0x20021, 0x30000})
	want := "\tfn_10 (ntdll.dll)\n\tfn_20 (app.exe)\n\t0x30000 ([unknown])\n"
	if got := tb.Format(id); got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
	if len(res.prepared) != 3 || len(res.asked) != 2 {
		t.Errorf("prepared %q, asked %x: Windows paths are files, //anon is not", res.prepared, res.asked)
	}
}

func TestAddJITReachesTheResolver(t *testing.T) {
	procs := process.NewTable()
	res := symbols.New(symbols.Options{ProcRoot: t.TempDir(), Kallsyms: "/dev/null"})
	defer res.Close()
	tb := New(procs, res)
	tb.AddJIT(5, 0x50000, 0x100, "App.Program.Main")
	id := tb.Intern(false, 5, 2, []uint64{0x50010, 0x50020})
	if got := tb.Format(id); got != "\tApp.Program.Main+0x10 ([jit])\n\tApp.Program.Main+0x1f ([jit])\n" {
		t.Errorf("Format = %q", got)
	}
	New(procs, &fakeResolver{}).AddJIT(5, 1, 1, "ignored") // a resolver without AddJIT
}
