//go:build linux

package live

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The tests in this file check DWARF unwinding ({stack: "dwarf"}): of a C
// program built without frame pointers, through libc (a qsort callback),
// a signal frame and the vDSO, against perf record --call-graph dwarf on
// the same program (both must find the same callers); of node's JIT code,
// by frame pointers; and that 16 KiB stack copies at 999 Hz on both CPUs
// lose nothing.

// buildNoFramePointers compiles testdata/dwarfchain.c with -O2
// -fomit-frame-pointer: only CFI finds its callers.
func buildNoFramePointers(t *testing.T) string {
	t.Helper()
	workload(t, "spin") // gcc is there
	bin := filepath.Join(t.TempDir(), "dwarfchain")
	out, err := exec.Command("gcc", "-O2", "-fomit-frame-pointer", "-Wall", "-o", bin, filepath.Join("testdata", "dwarfchain.c")).CombinedOutput()
	if err != nil {
		t.Fatalf("gcc testdata/dwarfchain.c: %v\n%s", err, out)
	}
	return bin
}

// mapping is one line of a /proc/PID/maps copy.
type mapping struct {
	start, end, off uint64
	path            string
}

func readMaps(t *testing.T, path string) []mapping {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the workload's maps: %v", err)
	}
	var out []mapping
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 {
			continue
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		m := mapping{path: f[5]}
		m.start, _ = strconv.ParseUint(lo, 16, 64)
		m.end, _ = strconv.ParseUint(hi, 16, 64)
		m.off, _ = strconv.ParseUint(f[2], 16, 64)
		out = append(out, m)
	}
	return out
}

// site is a frame as perf script prints it: the file and the offset in it.
type site struct {
	module string
	off    uint64
}

func (s site) String() string { return fmt.Sprintf("%s+%#x", s.module, s.off) }

// unwound is one stack: its frames' names (as the tool named them) and
// sites, leaf first.
type unwound struct {
	n     int64
	names []string
	sites []site
}

// reaches reports whether the stack has frames named names, in order
// (others may come between). Aliases of libc functions differ between
// symbolizers ("__GI_kill", "__GI___kill"): a name ending in "_" + want
// counts as want.
func (u unwound) reaches(names ...string) bool {
	i := 0
	for _, n := range u.names {
		if i < len(names) && (n == names[i] || strings.HasSuffix(n, "_"+names[i])) {
			i++
		}
	}
	return i == len(names)
}

// otraceStacks runs a dwarf-stack profile of the workload and returns its
// distinct user stacks with their sites.
func otraceStacks(t *testing.T, prog, mode, rounds string) []unwound {
	t.Helper()
	maps := filepath.Join(t.TempDir(), "maps")
	r := otrace(t, "run", "-e", stackProbe{
		probe:   "profile:hz:999",
		opts:    `{stack: "dwarf"}`,
		cond:    `e.comm == "dwarfchain"`,
		which:   "ustack",
		onStack: `a := ""; for x in s.addrs { a += " " + string(x) }; otrace.printf("addrs%s\n", a)`,
	}.script(), "--", prog, mode, rounds, maps)
	stacks := stacksOf(t, r)
	mm := readMaps(t, maps)
	var out []unwound
	i := -1
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "stack\t"):
			i++
		case strings.HasPrefix(l, "addrs") && i >= 0 && i < len(stacks):
			u := unwound{n: stacks[i].n}
			for _, f := range stacks[i].frames {
				u.names = append(u.names, f.fn)
			}
			for _, a := range strings.Fields(strings.TrimPrefix(l, "addrs")) {
				v, err := strconv.ParseUint(a, 10, 64)
				if err != nil {
					t.Fatalf("bad address %q", a)
				}
				u.sites = append(u.sites, siteOf(mm, v))
			}
			out = append(out, u)
		}
	}
	if len(out) != len(stacks) {
		t.Fatalf("%d stacks but %d address lines:\n%v", len(stacks), len(out), r)
	}
	return out
}

func siteOf(mm []mapping, addr uint64) site {
	for _, m := range mm {
		if addr >= m.start && addr < m.end {
			return site{filepath.Base(m.path), addr - m.start + m.off}
		}
	}
	return site{"?", addr}
}

// perfStacks records the workload with perf record --call-graph dwarf and
// reads the user stacks of its samples from perf script.
func perfStacks(t *testing.T, prog, mode, rounds string) []unwound {
	t.Helper()
	needLive(t)
	perf, err := exec.LookPath("perf")
	if err != nil {
		unavailable(t, "perf is not on PATH: install it (Debian: apt-get install linux-perf)")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "perf.data")
	rec := exec.Command(perf, "record", "-q", "-N", "-B", "--call-graph", "dwarf", "-F", "999", "-o", data, "--", prog, mode, rounds)
	if out, err := rec.CombinedOutput(); err != nil {
		t.Fatalf("perf record: %v\n%s", err, out)
	}
	clearLeakedBuildIDs(t, data)
	var stdout, stderr bytes.Buffer
	script := exec.Command(perf, "script", "-i", data, "--comms", "dwarfchain")
	script.Stdout, script.Stderr = &stdout, &stderr
	if err := script.Run(); err != nil {
		t.Fatalf("perf script: %v\n%s", err, stderr.String())
	}
	var out []unwound
	var cur *unwound
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.TrimSpace(l) == "" {
			cur = nil
			continue
		}
		if !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, " ") {
			out = append(out, unwound{n: 1})
			cur = &out[len(out)-1]
			continue
		}
		// "\t    11bd leaf+0x2d (/tmp/x/dwarfchain)"; perf prints one line
		// per inlined function of an address: keep the address once.
		f := strings.Fields(l)
		if cur == nil || len(f) < 3 {
			continue
		}
		addr, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			continue
		}
		sym, _, _ := strings.Cut(f[1], "+")
		mod := strings.Trim(f[len(f)-1], "()")
		if mod == "inlined" {
			mod = "" // perf does not say which file: any
		}
		if n := len(cur.sites); n > 0 && cur.sites[n-1].off == addr {
			continue
		}
		cur.names = append(cur.names, sym)
		if mod != "" {
			mod = filepath.Base(mod)
		}
		cur.sites = append(cur.sites, site{mod, addr})
	}
	return out
}

// clearLeakedBuildIDs clears the build-id flag the kernel sets on MMAP2
// records holding device numbers while another perf event with build_id
// is open (an otrace run elsewhere), on which perf 6.1 crashes.
func clearLeakedBuildIDs(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	at, end := le.Uint64(data[40:]), le.Uint64(data[40:])+le.Uint64(data[48:])
	for at+8 <= end && end <= uint64(len(data)) {
		typ, misc, size := le.Uint32(data[at:]), le.Uint16(data[at+4:]), uint64(le.Uint16(data[at+6:]))
		if size < 8 || at+size > end {
			break
		}
		if typ == 10 && misc&0x4000 != 0 && size > 40 && data[at+40] > 20 {
			le.PutUint16(data[at+4:], misc&^0x4000)
		}
		at += size
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// callerSites is the set of sites of the frames above the leaf, in
// stacks whose leaf is in fn. A return address is looked up one byte
// back (perf prints it so); a frame interrupted by a signal is exact.
func callerSites(stacks []unwound, fn string, minusOne bool) map[site]int64 {
	out := map[site]int64{}
	for _, s := range stacks {
		if len(s.names) == 0 || s.names[0] != fn {
			continue
		}
		for _, st := range s.sites[1:] {
			if minusOne {
				st.off--
			}
			out[st] += s.n
		}
	}
	return out
}

// near reports whether set has s or a site one byte off it (the frame
// after a signal frame is exact, otrace's raw return addresses are not).
func near(set map[site]int64, s site) bool {
	for o := range set {
		if d := o.off - s.off; (d == 0 || d == 1 || d == ^uint64(0)) && (o.module == s.module || o.module == "" || s.module == "") {
			return true
		}
	}
	return false
}

func sortedSites(set map[site]int64) string {
	var l []string
	for s, n := range set {
		l = append(l, fmt.Sprintf("%v (%d)", s, n))
	}
	sort.Strings(l)
	return strings.Join(l, "\n\t")
}

func TestDwarfStacksOfCodeWithoutFramePointersMatchPerf(t *testing.T) {
	prog := buildNoFramePointers(t)
	for _, tc := range []struct {
		mode, rounds string
		leaf         string
		through      []string // frames every leaf sample must show, in order
	}{
		{"chain", "6", "leaf", []string{"leaf", "f5", "f4", "f3", "f2", "f1", "main", "__libc_start_call_main"}},
		{"qsort", "6", "compare", []string{"compare", "sorter", "main", "__libc_start_call_main"}},
		{"signal", "6", "handler_work", []string{"handler_work", "handler", "kill", "spin", "main", "__libc_start_call_main"}},
		{"vdso", "6", "__vdso_clock_gettime", []string{"__vdso_clock_gettime", "clock_gettime", "clocks", "main", "__libc_start_call_main"}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			ours := otraceStacks(t, prog, tc.mode, tc.rounds)
			theirs := perfStacks(t, prog, tc.mode, tc.rounds)
			for _, side := range []struct {
				tool   string
				stacks []unwound
			}{{"otrace", ours}, {"perf", theirs}} {
				var leafs, good int64
				shown := 0
				for _, s := range side.stacks {
					if len(s.names) == 0 || s.names[0] != tc.leaf {
						continue
					}
					leafs += s.n
					if s.reaches(tc.through...) {
						good += s.n
					} else if shown++; shown <= 5 {
						t.Errorf("%s: %d samples in %s do not unwind through %v: %v %v", side.tool, s.n, tc.leaf, tc.through, s.names, s.sites)
					}
				}
				t.Logf("%s: %d of %d samples in %s unwind through %v", side.tool, good, leafs, tc.leaf, tc.through)
				if leafs < 100 {
					t.Errorf("%s: only %d samples in %s", side.tool, leafs, tc.leaf)
				}
				if good != leafs {
					t.Errorf("%s: %d of %d samples in %s unwind through %v", side.tool, good, leafs, tc.leaf, tc.through)
				}
			}
			// The same callers, frame by frame: each site above the leaf
			// that one tool found, the other found too.
			a, b := callerSites(ours, tc.leaf, true), callerSites(theirs, tc.leaf, false)
			for s, n := range a {
				if !near(b, s) {
					t.Errorf("otrace found %d frames at %v, perf none:\n\totrace: %s\n\tperf: %s", n, s, sortedSites(a), sortedSites(b))
				}
			}
			for s, n := range b {
				if !near(a, s) {
					t.Errorf("perf found %d frames at %v, otrace none:\n\totrace: %s\n\tperf: %s", n, s, sortedSites(a), sortedSites(b))
				}
			}
		})
	}
}

// Copying 16 KiB of stack per sample at 999 Hz on each CPU is about
// 33 MB/s into the rings: with the default ring size nothing may be lost,
// and every sample of the hot leaf must unwind to main.
func TestDwarfProfileOfBothCPUsLosesNothing(t *testing.T) {
	prog := buildNoFramePointers(t)
	r := otrace(t, "run", "-e", `
n := 0
leafs := 0
mains := 0
otrace.on("profile:hz:999", {stack: "dwarf"}, func(e) {
	if e.comm != "dwarfchain" { return }
	n++
	s := e.ustack
	if len(s.frames) == 0 || s.frames[0].function != "leaf" { return }
	leafs++
	for f in s { if f.function == "main" { mains++; break } }
})
otrace.end(func() { otrace.printf("samples %d\nleafs %d\nmains %d\n", n, leafs, mains) })`,
		"-c", fmt.Sprintf("%s chain 20 & %s chain 20; wait", prog, prog))
	mustSucceed(t, r)
	s := summaryOf(t, r)
	samples, leafs, mains := value(t, r, "samples"), value(t, r, "leafs"), value(t, r, "mains")
	t.Logf("%d samples, %d in leaf, %d of them through main; summary %+v", samples, leafs, mains, s)
	if s.lost != 0 {
		t.Errorf("%d events lost with 16 KiB stacks at 2 x 999 Hz:\n%v", s.lost, r)
	}
	// Two processes of 20 rounds of about 90 ms, one per CPU: about
	// 1,800 samples each.
	if samples < 2000 {
		t.Errorf("only %d samples of dwarfchain:\n%v", samples, r)
	}
	if leafs < samples*9/10 || mains != leafs {
		t.Errorf("%d samples, %d in leaf, %d of those through main", samples, leafs, mains)
	}
}

// V8's JIT code and builtins have no CFI: the unwinder walks their frame
// pointers, then node's C++ frames by CFI again, down to libc.
func TestDwarfStacksOfNodeWalkJITFramesByFramePointers(t *testing.T) {
	needLive(t)
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "node is not on PATH: install Node.js (Debian: apt-get install nodejs)")
	}
	js, err := filepath.Abs(filepath.Join("testdata", "jit.js"))
	if err != nil {
		t.Fatal(err)
	}
	r := otrace(t, "run", "-e", stackProbe{
		probe: "profile:hz:999",
		opts:  `{stack: "dwarf"}`,
		cond:  `e.comm == "node" && e.tid == e.pid`,
		which: "ustack",
	}.script(), "--", node, "--perf-basic-prof", js, "800")
	if own := lines(r.stdout, "jit"); len(own) == 1 && len(own[0]) >= 3 {
		t.Cleanup(func() { os.Remove(fmt.Sprintf("/tmp/perf-%s.map", own[0][2])) })
	}
	stacks := stacksOf(t, r)
	var hot, whole int64
	for _, s := range stacks {
		if !s.has("__libc_start_call_main") {
			continue
		}
		for _, f := range s.frames {
			if strings.Contains(f.fn, "hotLoopForOtrace") {
				hot += s.n
				break
			}
		}
		whole += s.n
	}
	total := samples(stacks)
	t.Logf("%d of %d samples reach __libc_start_call_main, %d of them through hotLoopForOtrace", whole, total, hot)
	if float64(hot) < 0.25*float64(total) {
		t.Errorf("%d of %d samples go from hotLoopForOtrace to __libc_start_call_main; the commonest stacks:\n%s", hot, total, topStacks(stacks, 3, 30))
	}
}

// otrace record -g dwarf unwinds while recording: the recording keeps
// frames, not 16 KiB copies, so it is small, and its stacks are whole when
// replayed by otrace and when perf script reads the perf.data version.
func TestRecordDwarfKeepsTheUnwoundFrames(t *testing.T) {
	prog := buildNoFramePointers(t)
	through := []string{"leaf", "f5", "f4", "f3", "f2", "f1", "main", "__libc_start_call_main"}
	dir := t.TempDir()
	for _, file := range []string{"chain.rec", "chain.data"} {
		t.Run(file, func(t *testing.T) {
			out := filepath.Join(dir, file)
			r := otrace(t, "record", "-o", out, "-e", "profile:hz:999", "-g", "dwarf", "--", prog, "chain", "6", filepath.Join(dir, "maps"))
			mustSucceed(t, r)
			fi, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			var leafs, good int64
			if file == "chain.rec" {
				r := otrace(t, "run", "--input", out, "-e", stackProbe{
					probe: "profile:hz:999",
					opts:  `{stack: "dwarf"}`,
					cond:  `e.comm == "dwarfchain"`,
					which: "ustack",
				}.script())
				for _, s := range stacksOf(t, r) {
					var u unwound
					for _, f := range s.frames {
						u.names = append(u.names, f.fn)
					}
					if len(u.names) > 0 && u.names[0] == "leaf" {
						leafs += s.n
						if u.reaches(through...) {
							good += s.n
						}
					}
				}
			} else {
				leafs, good = perfScriptLeafs(t, out, through)
			}
			t.Logf("%s: %d bytes, %d of %d samples in leaf unwind through %v", file, fi.Size(), good, leafs, through)
			if leafs < 100 || good != leafs {
				t.Errorf("%d of %d samples in leaf unwind through %v", good, leafs, through)
			}
			// The copies alone would be 16 KiB a sample.
			if fi.Size() > leafs*16384/10 {
				t.Errorf("%s is %d bytes for %d samples: the stack copies were kept?", file, fi.Size(), leafs)
			}
		})
	}
}

// perfScriptLeafs runs perf script on a perf.data otrace wrote and counts
// the samples whose leaf frame is through[0], and those of them that show
// every frame of through in order.
func perfScriptLeafs(t *testing.T, data string, through []string) (leafs, good int64) {
	t.Helper()
	perf, err := exec.LookPath("perf")
	if err != nil {
		unavailable(t, "perf is not installed (apt-get install linux-perf)")
		return 0, 0
	}
	cmd := exec.Command(perf, "script", "-i", data, "-F", "comm,ip,sym")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("perf script: %v\n%s", err, stderr.String())
	}
	for _, block := range strings.Split(string(outb), "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if len(lines) < 2 || !strings.HasPrefix(strings.TrimSpace(lines[0]), "dwarfchain") {
			continue
		}
		var u unwound
		for _, l := range lines[1:] {
			if f := strings.Fields(l); len(f) >= 2 {
				u.names = append(u.names, strings.SplitN(f[1], "+", 2)[0])
			}
		}
		if len(u.names) > 0 && u.names[0] == through[0] {
			leafs++
			if u.reaches(through...) {
				good++
			}
		}
	}
	return leafs, good
}
