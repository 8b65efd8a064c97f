package tracefs

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEventName(t *testing.T) {
	long := strings.Repeat("x", 80)
	tests := []struct {
		name   string
		symbol string
		plus   uint64
		ret    bool
		want   string
	}{
		{"a C name is kept", "readline", 0, false, "readline"},
		{"a Go name loses its dot", "main.target", 0, false, "main_target"},
		{"a Go method's punctuation collapses", "main.(*T).Run", 0, false, "main_T_Run"},
		{"a generic instance stays an identifier", "main.Map[go.shape.int]", 0, false, "main_Map_go_shape_int"},
		{"a leading digit gets a prefix", "9lives", 0, false, "f_9lives"},
		{"underscores of the symbol are kept", "__libc_malloc", 0, false, "__libc_malloc"},
		{"an offset becomes a suffix", "main.target", 0x1c, false, "main_target_0x1c"},
		{"a return probe says so", "main.target", 0, true, "main_target__return"},
		{"a long name is cut to the kernel's limit, keeping the suffix", long, 0, true,
			strings.Repeat("x", maxNameLen-len("__return")) + "__return"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eventName(tt.symbol, tt.plus, tt.ret); got != tt.want {
				t.Errorf("eventName(%q, %d, %v) = %q, want %q", tt.symbol, tt.plus, tt.ret, got, tt.want)
			}
		})
	}
}

func TestSplitSymbol(t *testing.T) {
	tests := []struct {
		name, in string
		want     string
		off      uint64
		wantErr  bool
	}{
		{"a bare name has no offset", "main.target", "main.target", 0, false},
		{"a hex offset is read", "readline+0x10", "readline", 16, false},
		{"a decimal offset is read", "readline+16", "readline", 16, false},
		{"a bad offset is refused", "readline+ten", "", 0, true},
		{"an offset alone is refused", "+0x10", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, off, err := splitSymbol(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want || off != tt.off {
				t.Errorf("splitSymbol(%q) = %q, %d, %v", tt.in, got, off, err)
			}
		})
	}
}

func TestParseProbeList(t *testing.T) {
	text := "p:otrace_12/main_target /tmp/x:0x0000000000001234\n" +
		"r:otrace_12/main_target__return /tmp/x:0x0000000000001234\n" +
		"p:probe_bash/readline /bin/bash:0x00000000000a1b2c arg1=%di\n" +
		"garbage\n" +
		"p:nogroup /bin/bash:0x10\n" +
		"-:otrace_12/removed\n" +
		"\n"
	want := []probeLine{
		{"otrace_12", "main_target"},
		{"otrace_12", "main_target__return"},
		{"probe_bash", "readline"},
	}
	if got := parseProbeList(text); !slices.Equal(got, want) {
		t.Errorf("parseProbeList = %v, want %v", got, want)
	}
}

func TestGroupPID(t *testing.T) {
	tests := []struct {
		name, group string
		pid         int
		ok          bool
	}{
		{"an otrace group gives its pid", "otrace_1234", 1234, true},
		{"another tool's group is not ours", "probe_bash", 0, false},
		{"a group with a name after the prefix is not ours", "otrace_tests", 0, false},
		{"a zero pid is not a process", "otrace_0", 0, false},
		{"a padded pid is not one we write", "otrace_0012", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pid, ok := groupPID(tt.group)
			if ok != tt.ok || ok && pid != tt.pid {
				t.Errorf("groupPID(%q) = %d, %v", tt.group, pid, ok)
			}
		})
	}
}

func TestLastLogError(t *testing.T) {
	const log = "[ 1569.259793] trace_uprobe: error: Probe type is different from existing probe\n" +
		"  Command: r:otrace_1/malloc /usr/lib/x86_64-linux-gnu/libc.so.6:0x98930\n" +
		"           ^\n" +
		"[ 1569.261131] trace_uprobe: error: Failed to find the given file\n" +
		"  Command: p:otrace_1/bad /nonexist:0x10\n" +
		"                          ^\n"
	tests := []struct {
		name, cmd, want string
	}{
		{"the last entry is ours", "p:otrace_1/bad /nonexist:0x10", "Failed to find the given file"},
		{"an older entry is not about this write", "r:otrace_1/malloc /usr/lib/x86_64-linux-gnu/libc.so.6:0x98930", ""},
		{"another command's entry is not ours", "p:otrace_1/other /x:0x1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lastLogError(log, tt.cmd); got != tt.want {
				t.Errorf("lastLogError(%q) = %q, want %q", tt.cmd, got, tt.want)
			}
		})
	}
	if got := lastLogError("", "p:x/y /z:0x1"); got != "" {
		t.Errorf("an empty log gave %q", got)
	}
}

func FuzzParseProbeList(f *testing.F) {
	f.Add("p:otrace_12/main_target /tmp/x:0x0000000000001234\nr:g/e /p:0x1 arg=%di\n")
	f.Add("[ 1.2] trace_uprobe: error: Event name is too long\n  Command: p:a/b /c:0x1\n     ^\n")
	f.Fuzz(func(t *testing.T, text string) {
		for _, p := range parseProbeList(text) {
			if p.group == "" || p.event == "" || strings.ContainsAny(p.event, "/ ") || strings.Contains(p.group, " ") {
				t.Errorf("parsed %+v from %q", p, text)
			}
		}
		lastLogError(text, "p:a/b /c:0x1")
	})
}

func TestCleanStaleUprobesRemovesOnlyDeadOtraceGroups(t *testing.T) {
	fs := fakeTracefs(t)
	fs.pid = 500
	events := filepath.Join(fs.Root(), "uprobe_events")
	listing := "p:otrace_999999/a /bin/x:0x0000000000000010\n" +
		"r:otrace_999999/a__return /bin/x:0x0000000000000010\n" +
		"p:otrace_777/b /bin/x:0x0000000000000020\n" +
		"p:otrace_500/c /bin/x:0x0000000000000030\n" +
		"p:probe_x/d /bin/x:0x0000000000000040\n"
	writeFile(t, events, listing)
	fs.alive = func(pid int) bool { return pid != 999999 }
	n, err := fs.CleanStaleUprobes()
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("removed %d events, want 2", n)
	}
	want := listing + "-:otrace_999999/a\n-:otrace_999999/a__return\n"
	if got := readFile(t, events); got != want {
		t.Errorf("uprobe_events now reads\n%s\nwant\n%s", got, want)
	}
}

func TestAddUprobeErrors(t *testing.T) {
	target := goTarget(t, false)
	tests := []struct {
		name    string
		u       Uprobe
		wantErr string
	}{
		{"a missing target says it does not exist", Uprobe{Path: "/x/y", Symbol: "main"},
			"uprobe target /x/y does not exist"},
		{"a directory is not a target", Uprobe{Path: buildDir, Symbol: "main"}, "is not a regular file"},
		{"a missing symbol names the file and suggests", Uprobe{Path: target, Symbol: "main.tagret"},
			fmt.Sprintf(`uprobe target %s: no function "main.tagret"; did you mean main.target`, target)},
		{"a bad offset is refused", Uprobe{Path: target, Symbol: "main.target+x"}, "offset after + must be a number"},
		{"no target is refused", Uprobe{Symbol: "main"}, "no target file given"},
		{"a bare name nothing knows says where it looked", Uprobe{Path: "libnosuchthing", Symbol: "f"},
			`uprobe target "libnosuchthing" not found: no executable libnosuchthing on $PATH`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := fakeTracefs(t)
			_, err := fs.AddUprobe(tt.u)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v\nwant it to say %q", err, tt.wantErr)
			}
			if got := readFile(t, filepath.Join(fs.Root(), "uprobe_events")); got != "" {
				t.Errorf("a refused probe wrote %q to uprobe_events", got)
			}
		})
	}
}

// In a fake tree nothing answers a write to uprobe_events; the tests play
// the kernel by creating the event's directory beforehand.
func TestAddUprobeWritesTheCommandAndReadsTheFormat(t *testing.T) {
	target := goTarget(t, false)
	off, err := SymbolOffset(target, "main.target")
	if err != nil {
		t.Fatal(err)
	}
	fs := fakeTracefs(t)
	fs.pid = 4242
	fs.goarch = "amd64"
	// A crashed otrace that had our pid left main_target behind, so the
	// new event must take the next name.
	stale := "p:otrace_4242/main_target /bin/x:0x0000000000000010\n"
	writeFile(t, filepath.Join(fs.Root(), "uprobe_events"), stale)
	addFakeEvent(t, fs.Root(), "otrace_4242:main_target", 90)
	addFakeEvent(t, fs.Root(), "otrace_4242:main_target_2", 91)

	e, err := fs.AddUprobe(Uprobe{Path: target, Symbol: "main.target"})
	if err != nil {
		t.Fatal(err)
	}
	if e.System != "otrace_4242" || e.Name != "main_target_2" || e.ID != 91 || e.FileOffset != off || e.Format == nil {
		t.Errorf("event = %+v, want otrace_4242:main_target_2 with ID 91 at %#x", e, off)
	}
	if e.Path != target || e.ResolvedPath != target {
		t.Errorf("Path %q, ResolvedPath %q; want both %q", e.Path, e.ResolvedPath, target)
	}
	if e.String() != "otrace_4242:main_target_2" {
		t.Errorf("String() = %q", e.String())
	}
	events := filepath.Join(fs.Root(), "uprobe_events")
	want := stale + fmt.Sprintf("p:otrace_4242/main_target_2 %s:%#x arg0=%%di:u64 arg1=%%si:u64 arg2=%%dx:u64 arg3=%%cx:u64 arg4=%%r8:u64 arg5=%%r9:u64\n", target, off)
	if got := readFile(t, events); got != want {
		t.Errorf("uprobe_events got %q, want %q", got, want)
	}
	if err := e.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := e.Remove(); err != nil {
		t.Errorf("a second Remove: %v", err)
	}
	want += "-:otrace_4242/main_target_2\n"
	if got := readFile(t, events); got != want {
		t.Errorf("after Remove twice uprobe_events got %q, want %q", got, want)
	}
}

func TestAddUprobeUndoesAnEventWithoutFormat(t *testing.T) {
	target := goTarget(t, false)
	fs := fakeTracefs(t)
	fs.pid = 4242
	_, err := fs.AddUprobe(Uprobe{Path: target, Symbol: "main.target", Return: true})
	if err == nil || !strings.Contains(err.Error(), "cannot read its format") {
		t.Fatalf("err = %v, want a format error", err)
	}
	got := readFile(t, filepath.Join(fs.Root(), "uprobe_events"))
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "r:otrace_4242/main_target__return ") ||
		lines[1] != "-:otrace_4242/main_target__return" {
		t.Errorf("uprobe_events got %q, want the probe written and removed", got)
	}
}

func TestRemoveUprobesRemovesEveryOne(t *testing.T) {
	target := goTarget(t, false)
	fs := fakeTracefs(t)
	fs.pid = 7
	addFakeEvent(t, fs.Root(), "otrace_7:main_target", 1)
	addFakeEvent(t, fs.Root(), "otrace_7:main_target__return", 2)
	if _, err := fs.AddUprobe(Uprobe{Path: target, Symbol: "main.target"}); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.AddUprobe(Uprobe{Path: target, Symbol: "main.target", Return: true}); err != nil {
		t.Fatal(err)
	}
	if err := fs.RemoveUprobes(); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, filepath.Join(fs.Root(), "uprobe_events"))
	for _, want := range []string{"-:otrace_7/main_target\n", "-:otrace_7/main_target__return\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("uprobe_events lacks %q:\n%s", want, got)
		}
	}
	if len(fs.uprobes) != 0 {
		t.Errorf("%d uprobes still recorded", len(fs.uprobes))
	}
}

func TestAddUprobeFindsABareNameAndReportsTheFile(t *testing.T) {
	target := goTarget(t, false)
	off, err := SymbolOffset(target, "main.target")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	addFakeEvent(t, root, "otrace_9:main_target__return", 5)
	writeFile(t, filepath.Join(root, "uprobe_events"), "")
	fs, err := Open(Options{Root: root, Targets: &TargetFinder{Path: filepath.Dir(target)}})
	if err != nil {
		t.Fatal(err)
	}
	fs.pid = 9
	e, err := fs.AddUprobe(Uprobe{Path: filepath.Base(target), Symbol: "main.target", Return: true})
	if err != nil {
		t.Fatal(err)
	}
	if e.Path != filepath.Base(target) || e.ResolvedPath != target {
		t.Errorf("Path %q, ResolvedPath %q; want %q as asked and %q found", e.Path, e.ResolvedPath, filepath.Base(target), target)
	}
	want := fmt.Sprintf("r:otrace_9/main_target__return %s:%#x retval=$retval:u64\n", target, off)
	if got := readFile(t, filepath.Join(root, "uprobe_events")); got != want {
		t.Errorf("uprobe_events got %q, want %q", got, want)
	}
}

func TestAddUprobeRefusesAnEntryWhereArgumentsAreUnknown(t *testing.T) {
	target := goTarget(t, false)
	fs := fakeTracefs(t)
	fs.goarch = "riscv64"
	_, err := fs.AddUprobe(Uprobe{Path: target, Symbol: "main.target"})
	if err == nil || !strings.Contains(err.Error(), "amd64 and arm64, not on riscv64") {
		t.Fatalf("err = %v, want it to name the architectures otrace knows", err)
	}
	if got := readFile(t, filepath.Join(fs.Root(), "uprobe_events")); got != "" {
		t.Errorf("a refused probe wrote %q to uprobe_events", got)
	}
}
