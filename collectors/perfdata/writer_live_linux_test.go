package perfdata

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"otrace/collectors/perf"
	"otrace/collectors/procfs"
	"otrace/collectors/replay"
	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// The live tests of the writer record with otrace (the binary, or the
// collector in this process) and read the files back with perf script,
// perf report and otrace. Like the reader's live tests they need root and
// this machine's perf; with OTRACE_LIVE=1 they fail rather than skip.

// toleratedPerfStderr are the lines perf may print on standard error about
// a file otrace wrote without the test failing. There are none about the
// file itself: perf 6.1 prints nothing on our files, and any warning
// (kptr_restrict, lost chunks, unordered events, build-id mismatches, an
// attr it cannot read) fails the test. Only blank lines pass.
var toleratedPerfStderr = []*regexp.Regexp{
	regexp.MustCompile(`^\s*$`),
}

// perfQuiet runs perf and returns its standard output; it fails the test
// if perf fails or prints anything on standard error that
// toleratedPerfStderr does not allow.
func perfQuiet(t testing.TB, perfPath string, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(perfPath, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "PAGER=cat")
	if err := cmd.Run(); err != nil {
		t.Fatalf("perf %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	for line := range strings.Lines(stderr.String()) {
		line = strings.TrimRight(line, "\n")
		if !slices.ContainsFunc(toleratedPerfStderr, func(re *regexp.Regexp) bool { return re.MatchString(line) }) {
			t.Errorf("perf %s complained about the file: %q\n%s", strings.Join(args, " "), line, stderr.String())
			break
		}
	}
	return stdout.Bytes()
}

// buildOtrace builds the otrace command into a temporary directory.
func buildOtrace(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "otrace")
	out, err := exec.Command("go", "build", "-o", bin, "otrace/cmd/otrace").CombinedOutput()
	if err != nil {
		t.Fatalf("go build otrace/cmd/otrace: %v\n%s", err, out)
	}
	return bin
}

// spinSource is a workload for profiles: it spins through two functions
// for the duration in its argument. The test binary spins too, but go
// test strips it, and perf names functions only from the ELF symbol table.
const spinSource = `package main

import (
	"os"
	"time"
)

func main() {
	d, _ := time.ParseDuration(os.Args[1])
	end := time.Now().Add(d)
	x := uint64(1)
	for time.Now().Before(end) {
		x = spinOuter(x)
	}
	if x == 42 {
		println(x)
	}
}

//go:noinline
func spinOuter(x uint64) uint64 {
	for range 100 {
		x = spinInner(x)
	}
	return x
}

//go:noinline
func spinInner(x uint64) uint64 {
	for i := range uint64(1000) {
		x = x*6364136223846793005 + i
	}
	return x
}
`

// buildSpin builds spinSource into a temporary directory.
func buildSpin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"go.mod": "module spin\n\ngo 1.26\n", "main.go": spinSource} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "build", "-o", "spin", ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the spin workload: %v\n%s", err, out)
	}
	return filepath.Join(dir, "spin")
}

// runOtrace runs the otrace binary and returns its standard output and
// error; it fails the test unless otrace exits 0.
func runOtrace(t testing.TB, bin string, args ...string) (string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("otrace %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// noLoss fails the test unless otrace's summary says nothing was lost.
func noLoss(t testing.TB, stderr string) {
	t.Helper()
	if !regexp.MustCompile(`(?m)^otrace: [\d,]+ events?, 0 lost`).MatchString(stderr) {
		t.Fatalf("the recording lost events or has no summary:\n%s", stderr)
	}
}

// tracedScript makes system calls and context switches in three
// programs: a deterministic dd, a sleep and an ls.
const tracedScript = "dd if=/dev/zero of=/dev/null bs=512 count=300 2>/dev/null; sleep 0.02; ls / >/dev/null"

// traceLineScript prints one line per sample of the two tracepoints, in
// the fields perf script prints: time, tid, cpu, event, comm, then the
// payload's fields as name=value.
const traceLineScript = `
otrace.on("sched:sched_switch", func(e) {
	otrace.printf("S\t%d\t%d\t%d\tsched:sched_switch\t%s\tprev_comm=%s prev_pid=%d prev_prio=%d next_comm=%s next_pid=%d next_prio=%d\n",
		e.time, e.tid, e.cpu, e.comm, e.prev_comm, e.prev_pid, e.prev_prio, e.next_comm, e.next_pid, e.next_prio)
})
otrace.on("raw_syscalls:sys_enter", func(e) {
	otrace.printf("S\t%d\t%d\t%d\traw_syscalls:sys_enter\t%s\tid=%d\n", e.time, e.tid, e.cpu, e.comm, e.id)
})
`

// sysEnterText is perf's text of a sys_enter payload: "NR 3 (3, 0, ...)".
var sysEnterText = regexp.MustCompile(`^NR (-?\d+) \(`)

// perfTraceLines renders perf script's samples as traceLineScript does.
func perfTraceLines(t testing.TB, samples []scriptSample) []string {
	t.Helper()
	var out []string
	for _, s := range samples {
		var fields string
		switch s.Event {
		case "sched:sched_switch":
			v := traceValues(s.Trace)
			fields = fmt.Sprintf("prev_comm=%s prev_pid=%s prev_prio=%s next_comm=%s next_pid=%s next_prio=%s",
				v["prev_comm"], v["prev_pid"], v["prev_prio"], v["next_comm"], v["next_pid"], v["next_prio"])
		case "raw_syscalls:sys_enter":
			m := sysEnterText.FindStringSubmatch(s.Trace)
			if m == nil {
				t.Fatalf("perf script printed sys_enter as %q", s.Trace)
			}
			fields = "id=" + m[1]
		default:
			t.Fatalf("perf script printed an event otrace did not record: %+v", s)
		}
		comm := s.Comm
		if comm == ":"+strconv.Itoa(int(s.TID)) {
			comm = "" // perf's name for a thread whose name it does not know
		}
		out = append(out, fmt.Sprintf("S\t%d\t%d\t%d\t%s\t%s\t%s", s.Time, s.TID, s.CPU, s.Event, comm, fields))
	}
	return out
}

// countsBy counts lines by their event and comm (the fifth and sixth
// tab-separated words).
func countsBy(lines []string) map[string]int {
	n := map[string]int{}
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) > 5 {
			n[f[4]+" "+f[5]]++
		}
	}
	return n
}

// sameLines compares two sets of sample lines, ignoring the order of
// samples of equal time.
func sameLines(t testing.TB, gotName string, got []string, wantName string, want []string) {
	t.Helper()
	if !reflect.DeepEqual(countsBy(got), countsBy(want)) {
		t.Errorf("samples by event and comm:\n%s: %v\n%s: %v", gotName, countsBy(got), wantName, countsBy(want))
	}
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("sample %d of %d differs:\n%s: %s\n%s: %s", i, len(want), gotName, got[i], wantName, want[i])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s has %d samples, %s %d", gotName, len(got), wantName, len(want))
	}
}

func TestLiveOtraceRecordFormatPerf(t *testing.T) {
	perfPath := livePerf(t)
	bin := buildOtrace(t)

	t.Run("tracepoints show the same samples and fields in perf script and otrace run", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "trace.data")
		_, stderr := runOtrace(t, bin, "record", "--format", "perf", "-o", file, "--buffer-size", "16M",
			"-e", "sched:sched_switch", "-e", "raw_syscalls:sys_enter", "--", "sh", "-c", tracedScript)
		noLoss(t, stderr)

		fromPerf := perfTraceLines(t, parseTraceScript(t, bytes.NewReader(perfQuiet(t, perfPath, "script", "-i", file, "-F", traceFields, "--ns"))))
		out, _ := runOtrace(t, bin, "run", "--input", file, "-e", traceLineScript)
		fromOtrace := strings.Split(strings.TrimSpace(out), "\n")
		sameLines(t, "otrace run --input", fromOtrace, "perf script", fromPerf)
		counts := countsBy(fromOtrace)
		if counts["raw_syscalls:sys_enter dd"] < 600 || counts["sched:sched_switch sleep"] == 0 {
			t.Errorf("samples by event and comm %v: want dd's 600 reads and writes and sleep's switch", counts)
		}
		perfQuiet(t, perfPath, "report", "--stdio", "-i", file)
	})

	t.Run("a profile's top functions are the same in perf report and otrace", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "profile.data")
		_, stderr := runOtrace(t, bin, "record", "-o", file, "--buffer-size", "16M", "-e", "profile:hz:999", "--", buildSpin(t), "400ms")
		noLoss(t, stderr)

		report := perfQuiet(t, perfPath, "report", "--stdio", "--no-children", "--sort", "sym", "-g", "none", "-i", file)
		perfTop := reportTop(t, report)
		out, _ := runOtrace(t, bin, "run", "--input", file, "-e", leafScript)
		otraceTop := leafTop(t, out)
		if len(perfTop) < 3 || len(otraceTop) < 3 {
			t.Fatalf("too few functions: perf report\n%s\notrace\n%s", report, out)
		}
		if perfTop[0].name != otraceTop[0].name || perfTop[0].name != "main.spinInner" {
			t.Errorf("top function: perf report %q, otrace %q, want spinInner in both\n%s\n%s", perfTop[0].name, otraceTop[0].name, report, out)
		}
		// Every sample has the same period, so perf's percentages are
		// otrace's shares of the samples.
		for _, p := range perfTop[:3] {
			i := slices.IndexFunc(otraceTop, func(o topFunc) bool { return o.name == p.name })
			if i < 0 || fmt.Sprintf("%.2f", otraceTop[i].share) != fmt.Sprintf("%.2f", p.share) {
				t.Errorf("perf report gives %s %.2f%%; otrace's share: %+v", p.name, p.share, otraceTop)
			}
		}
		script := perfQuiet(t, perfPath, append([]string{"script", "-i", file}, scriptChainArgs...)...)
		r, s := readFile(t, file, Options{})
		compareChains(t, s.items, parseChainScript(t, bytes.NewReader(script)), true)
		if r.Stats().OutOfOrder != 0 {
			t.Errorf("%d records out of order", r.Stats().OutOfOrder)
		}
	})

	t.Run("--format otrace writes otrace's own format even to a .data file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "own.data")
		runOtrace(t, bin, "record", "-q", "--format", "otrace", "-o", file, "-e", "sched:sched_switch", "--", "sleep", "0.01")
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte(replay.Magic)) {
			t.Errorf("the file starts with %q, want otrace's magic %q", b[:min(len(b), 8)], replay.Magic)
		}
	})

	t.Run("perf reads a synthetic file of every record type without complaint", func(t *testing.T) {
		ev := newWriterEvents(t)
		recs := synthRecords(ev, 500)
		withLoss := writeSynthFile(t, ev.all(), recs)
		if out := string(runPerf(t, perfPath, "report", "--stats", "-i", withLoss)); !regexp.MustCompile(`(?m)^\s*LOST events:\s+1\b`).MatchString(out) {
			t.Errorf("perf report --stats does not count the LOST record:\n%s", out)
		}
		// Without the loss perf warns about, and with the running
		// kernel's build id (perf looks for the synthetic one in vain).
		recs = slices.DeleteFunc(recs, func(r any) bool { _, lost := r.(session.Lost); return lost })
		for i, r := range recs {
			if m, ok := r.(process.Mmap); ok && m.PID == -1 {
				m.BuildID = nil
				recs[i] = m
			}
		}
		file := writeSynthFile(t, ev.all(), recs)
		samples := parseTraceScript(t, bytes.NewReader(perfQuiet(t, perfPath, "script", "-i", file, "-F", traceFields, "-F", softwareFields, "--ns")))
		if want := 2*500 + 1 + 5*10; len(samples) != want {
			t.Errorf("perf script printed %d samples, want %d", len(samples), want)
		}
		perfQuiet(t, perfPath, "script", "-i", file, "--show-task-events", "--show-mmap-events", "--show-lost-events")
		perfQuiet(t, perfPath, "report", "--stdio", "-i", file)
		perfQuiet(t, perfPath, "report", "--stdio", "--header-only", "-i", file)
	})
}

// leafScript counts profile samples by the function of their leaf frame.
const leafScript = `
n := {}
total := 0
otrace.on("profile:hz:999", func(e) {
	s := e.stack
	f := s.len > 0 ? s[0].function : ""
	n[f] = (n[f] || 0) + 1
	total += 1
})
otrace.end(func() { for f, c in n { otrace.printf("%d\t%d\t%s\n", c, total, f) } })
`

type topFunc struct {
	name  string
	share float64 // percent
}

// leafTop parses leafScript's output, most samples first.
func leafTop(t testing.TB, out string) []topFunc {
	t.Helper()
	var fs []topFunc
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 3)
		if len(f) != 3 {
			t.Fatalf("bad line %q", sc.Text())
		}
		c, _ := strconv.Atoi(f[0])
		n, _ := strconv.Atoi(f[1])
		fs = append(fs, topFunc{f[2], 100 * float64(c) / float64(n)})
	}
	slices.SortFunc(fs, func(a, b topFunc) int {
		return cmp.Or(cmp.Compare(b.share, a.share), strings.Compare(a.name, b.name))
	})
	return fs
}

// reportLine is a line of perf report --sort sym: "  94.26%  [.] name".
var reportLine = regexp.MustCompile(`^\s*([\d.]+)%\s+\[[.kgu]\]\s+(.*?)\s*$`)

// reportTop parses perf report's functions, most samples first.
func reportTop(t testing.TB, out []byte) []topFunc {
	t.Helper()
	var fs []topFunc
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := reportLine.FindStringSubmatch(sc.Text()); m != nil {
			share, _ := strconv.ParseFloat(m[1], 64)
			fs = append(fs, topFunc{m[2], share})
		}
	}
	return fs
}

// TestLiveBothFormatsOfOneRunAgree records one run of the workload into
// a perf.data and an otrace recording at once (a perfdata Tee over a
// replay Tee over the live collector) and wants the same samples and
// process records from both, and from perf script the same samples.
func TestLiveBothFormatsOfOneRunAgree(t *testing.T) {
	perfPath := livePerf(t)
	dir := t.TempDir()
	perfFile, recFile := filepath.Join(dir, "run.data"), filepath.Join(dir, "run.rec")
	pf, err := os.Create(perfFile)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	rf, err := os.Create(recFile)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	meta := map[string]string{replay.MetaHostname: "live", replay.MetaArch: "amd64"}
	pw, err := NewWriter(pf, meta)
	if err != nil {
		t.Fatal(err)
	}
	rw, err := replay.NewWriter(rf, meta)
	if err != nil {
		t.Fatal(err)
	}
	// The workload waits for a line on its standard input, so that the
	// events can be opened for it (and its children) alone before it runs,
	// as otrace record -- COMMAND does.
	cmd := exec.Command("sh", "-c", "read x; "+tracedScript)
	release, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	live := perf.New(perf.Options{BufferSize: 16 << 20, Scan: func(sink session.Sink, now uint64) error {
		_, err := procfs.Scan(procfs.Options{Maps: true, Time: now}, sink)
		return err
	}})
	live.Follow(cmd.Process.Pid)
	rtee := replay.NewTee(live, rw)
	ptee := NewTee(rtee, pw)
	defer ptee.Close()
	sess := session.New(session.Config{Source: ptee, PIDs: []int32{int32(cmd.Process.Pid)}, FollowChildren: true, Wait: true})
	for _, p := range []string{"sched:sched_switch", "raw_syscalls:sys_enter", "profile:hz:999"} {
		evs, err := sess.Resolve(p)
		if err != nil {
			t.Fatal(err)
		}
		sess.Attach(evs, &event.Attachment{Probe: p, Handler: ptee.Handler()})
		sess.Attach(evs, &event.Attachment{Probe: p, Handler: rtee.Handler()})
	}
	sess.SetStarted(func() {
		release.Write([]byte("go\n"))
		release.Close()
	})
	go func() {
		cmd.Wait()
		sess.StopAsync("the workload exited")
	}()
	if err := sess.Run(); err != nil {
		t.Fatal(err)
	}
	if err := ptee.Err(); err != nil {
		t.Fatal(err)
	}
	if err := rtee.Err(); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	if lost := sess.Stats().Lost; lost != 0 {
		t.Fatalf("%d events lost", lost)
	}

	// The perf.data is read in time order, with the processes found in
	// /proc at the start written at time 0; the recording as written,
	// which is time order but for that scan, stamped with its time.
	pr, fromPerfData := readFile(t, perfFile, Options{Notice: func(n string) { t.Error(n) }})
	table := pr.BuildIDs()
	got, want := fromPerfData.items, scanAtZero(readRecording(t, recFile))
	slices.SortStableFunc(want, func(a, b any) int { return cmp.Compare(itemTime(a), itemTime(b)) })
	if k, ok := hostKernel(); ok && len(got) > 0 && reflect.DeepEqual(got[0], k) {
		got = got[1:] // the perf.data starts with the kernel's mapping, as perf's do
	}
	if len(got) != len(want) {
		t.Errorf("the perf.data holds %d records, the otrace recording %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if gm, ok := g.(process.Mmap); ok {
			// A mapping the recording has no build id for takes the
			// BUILD_ID feature's id of its file, if another had one.
			if wm, ok := w.(process.Mmap); ok && (bytes.Equal(gm.BuildID, wm.BuildID) || wm.BuildID == nil && bytes.Equal(gm.BuildID, table[gm.Path])) {
				gm.BuildID, wm.BuildID = nil, nil
				g, w = gm, wm
			}
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("record %d differs:\nperf.data %#v\nrecording %#v", i, g, w)
		}
	}
	counts := map[string]int{}
	for _, s := range fromPerfData.samples() {
		counts[s.Event]++
	}
	if counts["raw_syscalls:sys_enter"] < 600 || counts["sched:sched_switch"] == 0 {
		t.Errorf("samples by event %v: want dd's 600 reads and writes and some switches", counts)
	}

	// perf script sees the tracepoint samples the recording has.
	fromScript := perfTraceLines(t, onlyTracepoints(parseTraceScript(t, bytes.NewReader(
		perfQuiet(t, perfPath, "script", "-i", perfFile, "-F", traceFields, "-F", softwareFields, "--ns")))))
	sameLines(t, "perf script", fromScript, "the otrace recording", recordingTraceLines(t, recFile))
}

// scanAtZero sets the time of the leading process records of one time,
// the /proc scan, to 0, as Tee writes them.
func scanAtZero(items []any) []any {
	if len(items) == 0 {
		return items
	}
	scan := itemTime(items[0])
	for i, it := range items {
		if itemTime(it) != scan {
			break
		}
		switch v := it.(type) {
		case process.Comm:
			v.Time = 0
			items[i] = v
		case process.Fork:
			v.Time = 0
			items[i] = v
		case process.Mmap:
			v.Time = 0
			items[i] = v
		default:
			return items
		}
	}
	return items
}

// itemTime is the time of a record a recSink keeps.
func itemTime(it any) uint64 {
	switch v := it.(type) {
	case sample:
		return v.Time
	case process.Comm:
		return v.Time
	case process.Fork:
		return v.Time
	case process.Exit:
		return v.Time
	case process.Mmap:
		return v.Time
	case session.Lost:
		return v.Time
	}
	return 0
}

// onlyTracepoints drops the profile samples (perf's cpu-clock).
func onlyTracepoints(s []scriptSample) []scriptSample {
	return slices.DeleteFunc(s, func(x scriptSample) bool { return !strings.Contains(x.Event, ":") })
}

// traceFields and softwareFields are perf script's -F for tracepoints and
// software events: given without the type, perf warns about every type
// the fields do not fit, whatever the file.
const (
	traceFields    = "trace:comm,tid,cpu,time,event,trace"
	softwareFields = "sw:comm,tid,cpu,time,event"
)

// readRecording reads an otrace recording with every event enabled.
func readRecording(t testing.TB, path string) []any {
	t.Helper()
	r, err := replay.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
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
	s := &recSink{}
	for {
		if err := r.Read(s); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	return s.items
}

// recordingTraceLines renders the tracepoint samples of an otrace
// recording as traceLineScript does, naming threads from its COMM records.
func recordingTraceLines(t testing.TB, path string) []string {
	t.Helper()
	procs := process.NewTable()
	var out []string
	var sw, enter *event.Format
	r, err := replay.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if ev, err := r.Catalog().Lookup("sched:sched_switch"); err == nil {
		sw = ev.Format
	}
	if ev, err := r.Catalog().Lookup("raw_syscalls:sys_enter"); err == nil {
		enter = ev.Format
	}
	str := func(f *event.Format, name string, raw []byte) string {
		b, _ := f.Field(name).Str(raw)
		return string(b)
	}
	num := func(f *event.Format, name string, raw []byte) int64 {
		fl := f.Field(name)
		v, _ := fl.Uint(raw)
		if fl.Signed {
			return int64(v) << (64 - 8*fl.Size) >> (64 - 8*fl.Size)
		}
		return int64(v)
	}
	for _, it := range readRecording(t, path) {
		switch v := it.(type) {
		case process.Comm:
			procs.AddComm(v)
		case process.Fork:
			procs.AddFork(v)
		case process.Exit:
			procs.AddExit(v)
		case sample:
			head := fmt.Sprintf("S\t%d\t%d\t%d\t%s\t%s\t", v.Time, v.TID, v.CPU, v.Event, procs.Comm(v.PID, v.TID))
			switch v.Event {
			case "sched:sched_switch":
				out = append(out, head+fmt.Sprintf("prev_comm=%s prev_pid=%d prev_prio=%d next_comm=%s next_pid=%d next_prio=%d",
					str(sw, "prev_comm", v.Raw), num(sw, "prev_pid", v.Raw), num(sw, "prev_prio", v.Raw),
					str(sw, "next_comm", v.Raw), num(sw, "next_pid", v.Raw), num(sw, "next_prio", v.Raw)))
			case "raw_syscalls:sys_enter":
				out = append(out, head+fmt.Sprintf("id=%d", num(enter, "id", v.Raw)))
			}
		}
	}
	return out
}
