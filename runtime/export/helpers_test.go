package export

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"otrace/runtime/process"
	"otrace/runtime/stacks"
	"otrace/runtime/symbols"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// fakeSym is a function of the fake resolver: the frames an address in
// [start, end) resolves to, innermost first.
type fakeSym struct {
	start, end uint64
	frames     []symbols.Frame // Func, File, Line, Inlined
}

// fakeResolver names addresses from a fixed list of functions, user ones
// by file offset, as symbols.Resolver does.
type fakeResolver struct {
	user   map[string][]fakeSym // by path, offsets in the file
	kernel []fakeSym
}

func (f *fakeResolver) Prepare(symbols.Object) {}

func (f *fakeResolver) User(obj symbols.Object, addr uint64) []symbols.Frame {
	return lookup(f.user[obj.Path], addr-obj.Start+obj.Pgoff, addr, obj.Path)
}

func (f *fakeResolver) Kernel(addr uint64) []symbols.Frame {
	return lookup(f.kernel, addr, addr, "[kernel.kallsyms]")
}

func (f *fakeResolver) JIT(pid int32, addr uint64) ([]symbols.Frame, bool) {
	if addr >= 0x9000 && addr < 0xa000 {
		return []symbols.Frame{{Addr: addr, Func: "jitted", Module: "[jit]"}}, true
	}
	return nil, false
}

func lookup(syms []fakeSym, off, addr uint64, module string) []symbols.Frame {
	for _, s := range syms {
		if off >= s.start && off < s.end {
			out := make([]symbols.Frame, len(s.frames))
			for i, f := range s.frames {
				f.Addr, f.Module = addr, module
				if i == len(s.frames)-1 {
					f.Offset = off - s.start
				}
				out[i] = f
			}
			return out
		}
	}
	return []symbols.Frame{{Addr: addr, Module: module}}
}

func fn(name, file string, line int) fakeSym {
	return fakeSym{frames: []symbols.Frame{{Func: name, File: file, Line: line}}}
}

func at(start uint64, s fakeSym) fakeSym {
	s.start, s.end = start, start+0x100
	return s
}

// Addresses of the fixture: /bin/app is mapped at 0x400000, libc at
// 0x7f0000000000; callers' addresses are return addresses (+0x20).
const (
	appBase  = 0x400000
	libcBase = 0x7f0000000000
	kbase    = 0xffffffff81000000

	aMain  = appBase + 0x1020
	aWork  = appBase + 0x1120 // helper inlined into work
	aLeaf  = appBase + 0x1210
	aStart = libcBase + 0x1020 // __libc_start_main
	aWrite = libcBase + 0x2010
	kEntry = kbase + 0x20
	kDo    = kbase + 0x120
	kWrite = kbase + 0x210
)

// fixture is a run's stacks: process 5 ("app") with /bin/app and libc
// mapped, and a kernel.
type fixture struct {
	tab   *stacks.Table
	procs *process.Table
}

func newFixture() *fixture {
	res := &fakeResolver{
		user: map[string][]fakeSym{
			"/bin/app": {
				at(0x1000, fn("main", "app.c", 10)),
				at(0x1100, fakeSym{frames: []symbols.Frame{
					{Func: "helper", File: "util.h", Line: 30, Inlined: true},
					{Func: "work", File: "app.c", Line: 21},
				}}),
				at(0x1200, fn("leaf", "app.c", 40)),
			},
			"/bin/other": {at(0x1000, fn("other_main", "", 0))},
			"/lib/libc.so.6": {
				at(0x1000, fn("__libc_start_main", "", 0)),
				at(0x2000, fn("write", "", 0)),
			},
		},
		kernel: []fakeSym{
			at(kbase, fn("entry_SYSCALL_64", "", 0)),
			at(kbase+0x100, fn("do_syscall_64", "", 0)),
			at(kbase+0x200, fn("ksys_write", "", 0)),
		},
	}
	procs := process.NewTable()
	tab := stacks.New(procs, res)
	procs.AddComm(process.Comm{Time: 1, PID: 5, TID: 5, Comm: "app"})
	procs.AddComm(process.Comm{Time: 1, PID: 7, TID: 7, Comm: "other"})
	for _, m := range []process.Mmap{
		{Time: 1, PID: 5, Start: appBase, Len: 0x10000, Prot: 5, Path: "/bin/app"},
		{Time: 1, PID: 5, Start: libcBase, Len: 0x10000, Prot: 5, Path: "/lib/libc.so.6"},
		{Time: 1, PID: 7, Start: appBase, Len: 0x10000, Prot: 5, Path: "/bin/other"},
		{Time: 1, PID: 7, Start: libcBase, Len: 0x10000, Prot: 5, Path: "/lib/libc.so.6"},
	} {
		procs.AddMmap(m)
		tab.Mmap(m)
	}
	return &fixture{tab: tab, procs: procs}
}

func (f *fixture) user(pid int32, addrs ...uint64) StackRef {
	return StackRef{Table: f.tab, ID: f.tab.Intern(false, pid, 2, addrs)}
}

func (f *fixture) kernel(addrs ...uint64) StackRef {
	return StackRef{Table: f.tab, ID: f.tab.Intern(true, 0, 2, addrs)}
}

// standard is the profile most tests write: app computing (leaf under
// work, with helper inlined) on two threads, and writing (kernel stack
// on top of libc's write).
func standard(t testing.TB) (*Profile, *fixture) {
	t.Helper()
	f := newFixture()
	types, err := ParseSampleTypes("samples/count", "cpu/nanoseconds")
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProfile(types)
	if err != nil {
		t.Fatal(err)
	}
	compute := f.user(5, aLeaf, aWork, aMain, aStart)
	write := f.user(5, aWrite, aMain+0x10, aStart)
	kwrite := f.kernel(kWrite, kDo, kEntry)
	labels := func(tid int64) Labels {
		return Labels{StringLabel("comm", "app"), NumLabel("pid", 5, ""), NumLabel("tid", tid, "")}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		must(p.Add([]StackRef{compute}, []int64{1, 1000}, labels(5)))
	}
	must(p.Add([]StackRef{compute}, []int64{1, 1000}, labels(6)))
	for range 2 {
		must(p.Add([]StackRef{kwrite, write}, []int64{1, 1000}, labels(5)))
	}
	p.SetPeriod(SampleType{"cpu", "nanoseconds"}, 1000)
	p.SetDuration(2_000_000_000)
	p.SetVersion("v0.test")
	p.SetEvents(6, 1)
	return p, f
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
