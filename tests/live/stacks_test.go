//go:build linux

package live

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The tests in this file check that otrace's stacks name their frames:
// user frames of C, Go and JIT code, kernel frames, frames of a process
// that is gone, from profile samples and from probes with {stack: ...}.

// stackProbe describes a script that counts the distinct stacks of the
// events of one probe and prints them at the end (see script).
type stackProbe struct {
	probe   string // e.g. "profile:hz:999"
	opts    string // the options argument of otrace.on, or ""
	cond    string // which events count: a Tengo expression of e
	which   string // the stack to take: "ustack", "kstack" or "stack"
	vars    string // more top-level code
	onEvent string // more handler code, for the events that count
	onStack string // more end-handler code, once per distinct stack s
	atEnd   string // more end-handler code, after the stacks
}

// script is the Tengo script of p. It keeps each distinct stack by its id,
// without printing it, so that frames are named only at the end, after
// the traced processes are gone. At the end it prints "pid P" for every
// process that had a counted event, then for every distinct stack a line
// "stack<TAB>N<TAB>func|module<TAB>func|module..." (leaf first; func empty
// when otrace could not name the frame) followed by string(s), its frames
// as otrace prints them, each line starting with a tab.
func (p stackProbe) script() string {
	opts := ""
	if p.opts != "" {
		opts = p.opts + ", "
	}
	return fmt.Sprintf(`
counts := {}
stacks := {}
pids := {}
%[5]s
otrace.on(%[1]q, %[2]sfunc(e) {
	if !(%[3]s) { return }
	s := e.%[4]s
	counts[s.id] = (counts[s.id] || 0) + 1
	stacks[s.id] = s
	pids[string(e.pid)] = true
	%[6]s
})
otrace.end(func() {
	for p, _ in pids { otrace.printf("pid %%s\n", p) }
	for id, n in counts {
		s := stacks[id]
		line := ""
		for f in s { line += "\t" + f.function + "|" + f.module }
		otrace.printf("stack\t%%d%%s\n", n, line)
		otrace.printf("%%s", s)
		%[7]s
	}
	%[8]s
})`, p.probe, opts, p.cond, p.which, p.vars, p.onEvent, p.onStack, p.atEnd)
}

// frame is one frame of a printed stack.
type frame struct {
	fn     string // "" when otrace could not name it
	module string
}

// sampled is one distinct stack a stackProbe script printed.
type sampled struct {
	n      int64 // events with this stack
	frames []frame
	text   string // string(s): "\tfunc+0xoff (module)\n" a frame
}

// stacksOf parses the stacks a stackProbe script printed; it fails the
// test unless the run went without lost events or handler errors, which
// would make the counts wrong.
func stacksOf(t *testing.T, r *result) []sampled {
	t.Helper()
	mustSucceed(t, r)
	s := summaryOf(t, r)
	if s.lost != 0 {
		t.Errorf("%d events lost", s.lost)
	}
	if s.errors != 0 {
		t.Fatalf("%d handler errors:\n%v", s.errors, r)
	}
	var out []sampled
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "stack\t"):
			f := strings.Split(l, "\t")
			st := sampled{n: atoi(t, f[1])}
			for _, fm := range f[2:] {
				i := strings.LastIndex(fm, "|")
				if i < 0 {
					t.Fatalf("bad frame %q in line %q", fm, l)
				}
				st.frames = append(st.frames, frame{fn: fm[:i], module: fm[i+1:]})
			}
			out = append(out, st)
		case strings.HasPrefix(l, "\t") && len(out) > 0:
			out[len(out)-1].text += l + "\n"
		}
	}
	return out
}

// funcs is the function names of the frames, leaf first, up to and
// including the first named last; ok is false when no frame is.
func (s sampled) funcs(last string) (names []string, ok bool) {
	for _, f := range s.frames {
		names = append(names, f.fn)
		if f.fn == last {
			return names, true
		}
	}
	return names, false
}

// has reports whether a frame of s is named fn.
func (s sampled) has(fn string) bool {
	for _, f := range s.frames {
		if f.fn == fn {
			return true
		}
	}
	return false
}

// samples is the total count of events of stacks.
func samples(stacks []sampled) int64 {
	var n int64
	for _, s := range stacks {
		n += s.n
	}
	return n
}

// topStacks shows the n commonest stacks, their first lines each, for a
// failure message shorter than the whole output.
func topStacks(stacks []sampled, n, lines int) string {
	sorted := append([]sampled(nil), stacks...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].n > sorted[j].n })
	var b strings.Builder
	for i, s := range sorted {
		if i == n {
			break
		}
		text := strings.SplitAfter(s.text, "\n")
		if len(text) > lines {
			text = append(text[:lines], "\t...\n")
		}
		fmt.Fprintf(&b, "%d samples:\n%s", s.n, strings.Join(text, ""))
	}
	return b.String()
}

// assertModuleNamed fails the test for every frame in the file named
// base that has no function name.
func assertModuleNamed(t *testing.T, stacks []sampled, base string) {
	t.Helper()
	for _, s := range stacks {
		for i, f := range s.frames {
			if filepath.Base(f.module) == base && f.fn == "" {
				t.Errorf("frame %d of a stack is in %s but has no name:\n%s", i, f.module, s.text)
			}
		}
	}
}

// assertOnePID fails the test unless the events counted came from the one
// process the workload said it was ("NAME pid PID" on stdout).
func assertOnePID(t *testing.T, r *result, name string) {
	t.Helper()
	pid := ""
	for _, l := range lines(r.stdout, name) {
		if len(l) >= 3 && l[1] == "pid" {
			pid = l[2]
		}
	}
	if pid == "" {
		t.Fatalf("%s did not print its pid:\n%v", name, r)
	}
	got := lines(r.stdout, "pid")
	if len(got) != 1 || len(got[0]) != 2 || got[0][1] != pid {
		t.Errorf("want the stacks of %s's pid %s only, got the pids %q", name, pid, got)
	}
}

// buildDebugC compiles testdata/NAME.c for stack walking (-O0, frame
// pointers, debug info) into a new directory and returns the binary.
func buildDebugC(t *testing.T, name string) string {
	t.Helper()
	workload(t, "spin") // gcc is there
	bin := filepath.Join(t.TempDir(), name)
	out, err := exec.Command("gcc", "-O0", "-fno-omit-frame-pointer", "-g", "-Wall", "-o", bin, filepath.Join("testdata", name+".c")).CombinedOutput()
	if err != nil {
		t.Fatalf("gcc testdata/%s.c: %v\n%s", name, err, out)
	}
	return bin
}

// calltreeUnits is the spin unit of calltree, in million loop iterations:
// 10 rounds of 3 units take about 0.6 s at 1.7 ns an iteration.
const calltreeUnits = "12"

func TestProfileStacksOfACProgramFollowItsCallTreeInTheRightProportions(t *testing.T) {
	prog := buildDebugC(t, "calltree")
	r := otrace(t, "run", "-e", stackProbe{
		probe: "profile:hz:999",
		cond:  `e.comm == "calltree"`,
		which: "ustack",
	}.script(), "--", prog, "spin", calltreeUnits)
	stacks := stacksOf(t, r)
	assertOnePID(t, r, "calltree")
	assertModuleNamed(t, stacks, "calltree")

	// Frames below main (__libc_start_call_main, _start) are libc's
	// business; from main up, a sample is in b called by a, or in c.
	var bam, cm, other, noMain int64
	for _, s := range stacks {
		names, ok := s.funcs("main")
		switch seq := strings.Join(names, " "); {
		case !ok:
			noMain += s.n
		case seq == "b a main":
			bam += s.n
		case seq == "c main":
			cm += s.n
		default:
			other += s.n
			t.Logf("%d samples in [%s]:\n%s", s.n, seq, s.text)
		}
		if ok && len(names) == 3 && names[0] == "b" {
			// string(s) prints the same frames: "\tb+0x1c (calltree)".
			first, _, _ := strings.Cut(s.text, "\n")
			if !strings.HasPrefix(first, "\tb+0x") || !strings.HasSuffix(first, " (calltree)") {
				t.Errorf("string of a [b a main] stack starts with %q, want \"\\tb+0x... (calltree)\":\n%s", first, s.text)
			}
		}
	}
	total := bam + cm + other + noMain
	t.Logf("%d samples: %d in [b a main], %d in [c main], %d in other stacks through main, %d not through main", total, bam, cm, other, noMain)
	if bam == 0 || cm == 0 {
		t.Fatalf("want samples in both [b a main] and [c main], got %d and %d:\n%v", bam, cm, r)
	}
	// A sample on the first instruction of b, before it saves the frame
	// pointer, loses a; a handful of those is frame-pointer unwinding.
	if float64(other) > 0.02*float64(bam+cm+other) {
		t.Errorf("%d of %d samples through main are neither in [b a main] nor [c main]", other, bam+cm+other)
	}
	// Loading and exiting are a few samples at most; more means user
	// stacks are cut short or main is not named.
	if float64(noMain) > 0.05*float64(total) {
		t.Errorf("%d of %d samples have no frame named main:\n%v", noMain, total, r)
	}
	if ratio := float64(bam) / float64(cm); ratio < 1.5 || ratio > 2.5 {
		t.Errorf("[b a main] has %.2f times the samples of [c main], want 2 ± 25%% (b spins twice as long as c)", ratio)
	}
}

func TestStacksOfAProcessThatExitedBeforeTheEndAreStillNamed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after string // shell commands after shortlived exits
	}{
		{"when its binary is still there", "sleep 0.5"},
		{"when its binary was deleted", "rm ./shortlived && sleep 0.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := buildDebugC(t, "shortlived")
			dir := filepath.Dir(bin)
			r := otrace(t, "run", "-e", stackProbe{
				probe: "profile:hz:999",
				cond:  `e.comm == "shortlived"`,
				which: "ustack",
			}.script(), "-c", fmt.Sprintf("cd %s && ./shortlived 200 && %s", dir, tc.after))
			stacks := stacksOf(t, r)
			assertOnePID(t, r, "shortlived")
			assertModuleNamed(t, stacks, "shortlived")
			var spin int64
			for _, s := range stacks {
				names, _ := s.funcs("main")
				if strings.Join(names, " ") != "spinUntilExitForOtrace main" {
					continue
				}
				spin += s.n
				if !strings.Contains(s.text, "\tspinUntilExitForOtrace+0x") || !strings.Contains(s.text, " (shortlived)\n") {
					t.Errorf("string of a [spinUntilExitForOtrace main] stack does not name them in shortlived:\n%s", s.text)
				}
			}
			// 200 ms at 999 Hz is about 200 samples, nearly all spinning.
			if total := samples(stacks); spin == 0 || float64(spin) < 0.5*float64(total) {
				t.Errorf("%d of %d samples of shortlived are in [spinUntilExitForOtrace main], want most of them (about 200):\n%v", spin, total, r)
			}
			if _, err := os.Stat(bin); err == nil && strings.Contains(tc.after, "rm ") {
				t.Errorf("%s is still there: the test did not delete it", bin)
			}
		})
	}
}

func TestAProfileOfNodeNamesJITFramesFromItsPerfMap(t *testing.T) {
	needLive(t)
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "node is not on PATH: install Node.js (Debian: apt-get install nodejs)")
	}
	js, err := filepath.Abs(filepath.Join("testdata", "jit.js"))
	if err != nil {
		t.Fatal(err)
	}
	// Only node's main thread runs JavaScript; its tid is its pid.
	r := otrace(t, "run", "-e", stackProbe{
		probe: "profile:hz:999",
		cond:  `e.comm == "node" && e.tid == e.pid`,
		which: "ustack",
	}.script(), "--", node, "--perf-basic-prof", js, "1000")
	if own := lines(r.stdout, "jit"); len(own) == 1 && len(own[0]) >= 3 {
		t.Cleanup(func() { os.Remove(fmt.Sprintf("/tmp/perf-%s.map", own[0][2])) })
	}
	stacks := stacksOf(t, r)
	assertOnePID(t, r, "jit")
	var hot int64
	for _, s := range stacks {
		for _, f := range s.frames {
			if strings.Contains(f.fn, "hotLoopForOtrace") {
				hot += s.n
				break
			}
		}
	}
	total := samples(stacks)
	t.Logf("%d of %d samples of node's main thread have a frame naming hotLoopForOtrace", hot, total)
	// The script spends about 1 s of its 1.1 s in the function, most of
	// it in code V8 compiled and named in the perf map.
	if hot == 0 || float64(hot) < 0.25*float64(total) {
		t.Errorf("%d of %d samples have a frame naming hotLoopForOtrace, want most; the commonest stacks:\n%s\n%s", hot, total, topStacks(stacks, 3, 4), r.stderr)
	}
}

func TestKernelStacksOfASleepingTaskAreNamedFromKallsyms(t *testing.T) {
	prog := workload(t, "sleeper") // 10 nanosleeps of 50ms
	r := otrace(t, "run", "-e", stackProbe{
		probe: "sched:sched_switch",
		opts:  `{stack: "kernel"}`,
		cond:  `e.prev_comm == "sleeper" && e.prev_state == 1`,
		which: "kstack",
		// otrace.ksym names the leaf's address as the stack does.
		onStack: `leaf := s.frames[0]
		otrace.printf("ksym\t%s\t%s\t%d\n", otrace.ksym(leaf.addr), leaf.function, leaf.offset)`,
	}.script(), "--", prog)
	stacks := stacksOf(t, r)
	if n := samples(stacks); n < 10 {
		t.Fatalf("%d switches out of sleeper with a kernel stack, want 10 (one a nanosleep):\n%v", n, r)
	}
	for _, s := range stacks {
		if !s.has("schedule") && !s.has("__schedule") {
			t.Errorf("a kernel stack of a sleep has neither schedule nor __schedule:\n%s", s.text)
		}
		for i, f := range s.frames {
			if f.fn == "" {
				t.Errorf("kernel frame %d (%s) has no name:\n%s", i, f.module, s.text)
			}
		}
	}
	ksyms := lines(strings.ReplaceAll(r.stdout, "\t", " "), "ksym")
	if len(ksyms) != len(stacks) {
		t.Fatalf("want a ksym line for each of the %d stacks, got %d:\n%v", len(stacks), len(ksyms), r)
	}
	for _, l := range ksyms {
		if len(l) != 4 {
			t.Errorf("bad ksym line %q:\n%v", l, r)
			continue
		}
		want := l[2]
		if off := atoi(t, l[3]); off != 0 {
			want += "+0x" + strconv.FormatInt(off, 16)
		}
		if l[1] != want {
			t.Errorf("otrace.ksym of a leaf frame's address is %q, want %q as the frame names it", l[1], want)
		}
	}
}

func TestAProfileOfAGoProgramNamesItsGoFunctions(t *testing.T) {
	needLive(t)
	bin := filepath.Join(t.TempDir(), "gospin")
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/gospin").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./testdata/gospin: %v\n%s", err, out)
	}
	r := otrace(t, "run", "-e", stackProbe{
		probe: "profile:hz:999",
		cond:  `e.comm == "gospin"`,
		which: "ustack",
	}.script(), "--", bin, "500")
	stacks := stacksOf(t, r)
	assertOnePID(t, r, "gospin")
	var spin int64
	for _, s := range stacks {
		if names, ok := s.funcs("main.main"); ok && strings.Join(names, " ") == "main.spinForOtrace main.main" {
			spin += s.n
		}
	}
	total := samples(stacks)
	t.Logf("%d of %d samples of gospin are in [main.spinForOtrace main.main]", spin, total)
	// 500 ms at 999 Hz is about 500 samples, nearly all spinning; the Go
	// runtime's own threads take a few.
	if spin == 0 || float64(spin) < 0.5*float64(total) {
		t.Errorf("%d of %d samples are in [main.spinForOtrace main.main], want most:\n%v", spin, total, r)
	}
	assertModuleNamed(t, stacks, "gospin")
}

const uprobeCalls = 1000

func TestAUprobeWithAUserStackSeesTheCallersOfItsFunction(t *testing.T) {
	prog := buildDebugC(t, "calltree")
	r := otrace(t, "run", "-e", stackProbe{
		probe:   "uprobe:" + prog + ":target",
		opts:    `{stack: "user"}`,
		cond:    "true",
		which:   "ustack",
		vars:    "calls := 0\nsum := 0\nexes := {}",
		onEvent: "calls += 1; sum += e.arg0; exes[e.exe] = true",
		atEnd: `otrace.printf("calls %d\n", calls)
	otrace.printf("sum %d\n", sum)
	for x, _ in exes { otrace.printf("exe %s\n", x) }`,
	}.script(), "--", prog, "calls", strconv.Itoa(uprobeCalls))
	stacks := stacksOf(t, r)
	assertOnePID(t, r, "calltree")
	assertModuleNamed(t, stacks, "calltree")
	if got := value(t, r, "calls"); got != uprobeCalls {
		t.Errorf("the uprobe on target fired %d times, want %d", got, uprobeCalls)
	}
	// target(3i+1) for i < K: e.arg0 is the argument.
	want := int64(3*uprobeCalls*(uprobeCalls-1)/2 + uprobeCalls)
	if got := value(t, r, "sum"); got != want {
		t.Errorf("the sum of e.arg0 is %d, want %d", got, want)
	}
	if got := lines(r.stdout, "exe"); len(got) != 1 || len(got[0]) != 2 || got[0][1] != prog {
		t.Errorf("e.exe is %q, want %s", got, prog)
	}
	if n := samples(stacks); n != uprobeCalls {
		t.Errorf("%d stacks counted, want one a call (%d)", n, uprobeCalls)
	}
	for _, s := range stacks {
		// At the probe, on target's first instruction, the caller's
		// return address is only on top of the stack, not yet behind a
		// frame pointer; the kernel adds it (Linux 6.11 and later).
		if names, _ := s.funcs("main"); strings.Join(names, " ") != "target caller main" {
			t.Errorf("%d calls have the stack [%s], want [target caller main]:\n%s", s.n, strings.Join(names, " "), s.text)
		}
		// The probe sits on the function's first byte: no offset.
		if first, _, _ := strings.Cut(s.text, "\n"); first != "\ttarget (calltree)" {
			t.Errorf("string of the stack starts with %q, want \"\\ttarget (calltree)\"", first)
		}
	}
}
