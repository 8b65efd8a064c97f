package perfdata

import (
	"bytes"
	"debug/elf"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"otrace/runtime/process"
)

// Live tests make captures with this machine's perf on workloads they
// start, then check the reader against what perf script and perf report
// say about the same file. With OTRACE_LIVE=1 they must run and fail when
// they cannot; otherwise they skip when perf is missing or the test does
// not run as root (perf record -a needs it).

var capture = flag.Bool("capture", false, "re-record the perf.data fixtures in testdata with this machine's perf (needs root)")

// livePerf returns perf's path, or skips (fails with OTRACE_LIVE=1).
func livePerf(t *testing.T) string {
	t.Helper()
	require := os.Getenv("OTRACE_LIVE") != ""
	perf, err := exec.LookPath("perf")
	switch {
	case err != nil && require:
		t.Fatalf("perf is not installed (apt-get install linux-perf), and OTRACE_LIVE requires live tests: %v", err)
	case err != nil:
		t.Skip("perf is not installed; set OTRACE_LIVE=1 to make this a failure")
	case os.Geteuid() != 0 && !require:
		t.Skip("perf record -a needs root; set OTRACE_LIVE=1 to make this a failure")
	}
	return perf
}

// runPerf runs perf with args and returns its standard output.
func runPerf(t testing.TB, perf string, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(perf, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "PAGER=cat")
	if err := cmd.Run(); err != nil {
		t.Fatalf("perf %s: %v\n%s%s", strings.Join(args, " "), err, stderr.String(), perfCrashHint(stderr.String()))
	}
	return stdout.Bytes()
}

// perfCrashHint explains a crash of perf 6.1 that has nothing to do with
// the test: while any process on the machine has a perf event with
// attr.build_id open (otrace's live collector does), the kernel marks the
// MMAP2 records of every other event as carrying a build id, and perf
// overflows a stack buffer reading the device numbers as one.
func perfCrashHint(stderr string) string {
	if !strings.Contains(stderr, "util/build-id.c") {
		return ""
	}
	return "\n(perf crashed on MMAP2 records the kernel marked as holding build ids because another process has a perf event with build_id open, e.g. an otrace live run; run the live tests again when no such process runs)"
}

// recordArgs are perf record's arguments to write to out. -N leaves the
// build-id cache in $HOME alone; -B skips perf's pass over the records for
// build ids at the end, which crashes perf 6.1 on the records the kernel
// mislabels while another perf event with build_id is open (see
// perfCrashHint).
func recordArgs(out string, args ...string) []string {
	return append([]string{"record", "-q", "-N", "-B", "-o", out}, args...)
}

// clearLeakedBuildIDs clears, in a capture file, the build-id flag the
// kernel set by mistake on MMAP2 records that hold device numbers (a
// "size" over 20), so that perf script and perf report can read it. The
// reader is checked on the file as recorded, before this.
func clearLeakedBuildIDs(t testing.TB, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at, end := uint64(pipeHeaderSize), uint64(len(data))
	if le.Uint64(data[8:]) != pipeHeaderSize {
		at = le.Uint64(data[40:])
		end = min(end, at+le.Uint64(data[48:]))
	}
	changed := false
	for at+recHeaderSize <= end {
		typ, misc, size := le.Uint32(data[at:]), le.Uint16(data[at+4:]), uint64(le.Uint16(data[at+6:]))
		if size < recHeaderSize || at+size > end {
			break
		}
		if typ == recMmap2 && misc&miscMmapBuildID != 0 && size > recHeaderSize+32 && data[at+recHeaderSize+32] > maxBuildID {
			le.PutUint16(data[at+4:], misc&^miscMmapBuildID)
			changed = true
		}
		if typ == recTracingData {
			at += uint64(le.Uint32(data[at+recHeaderSize:])) // the tracing data follows the record
		}
		at += size
	}
	if changed {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// busyCommand is the workload: this test binary spinning for d.
func busyCommand(d string) []string {
	return []string{"env", busyEnv + "=" + d, os.Args[0], "-test.run=^$"}
}

// gnuBuildID reads the NT_GNU_BUILD_ID note of an ELF file.
func gnuBuildID(t testing.TB, path string) []byte {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sec := f.Section(".note.gnu.build-id")
	if sec == nil {
		t.Fatalf("%s has no build id note", path)
	}
	b, err := sec.Data()
	if err != nil || len(b) < 16 {
		t.Fatalf("%s: build id note: %v", path, err)
	}
	namesz, descsz := le.Uint32(b), le.Uint32(b[4:])
	at := 12 + (namesz+3)&^3
	if uint64(at)+uint64(descsz) > uint64(len(b)) {
		t.Fatalf("%s: bad build id note", path)
	}
	return b[at : at+descsz]
}

// reportSamples returns the SAMPLE count perf report --stats gives.
func reportSamples(t testing.TB, perf, file string) int {
	t.Helper()
	clearLeakedBuildIDs(t, file)
	out := runPerf(t, perf, "report", "--stats", "-i", file)
	m := regexp.MustCompile(`(?m)^\s*SAMPLE events:\s+(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("perf report --stats printed no SAMPLE count:\n%s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func script(t testing.TB, perf, file string, args []string) []byte {
	t.Helper()
	clearLeakedBuildIDs(t, file)
	return runPerf(t, perf, append([]string{"script", "-i", file}, args...)...)
}

// prevComms counts sched_switch samples by prev_comm, from the reader's
// decoding or from perf script's text.
func prevComms(t testing.TB, r *Reader, got []sample) map[string]int {
	t.Helper()
	ev, err := r.Catalog().Lookup("sched:sched_switch")
	if err != nil {
		t.Fatal(err)
	}
	fld := ev.Format.Field("prev_comm")
	counts := map[string]int{}
	for _, s := range got {
		if s.Event == ev.Name {
			c, _ := fld.Str(s.Raw)
			counts[string(c)]++
		}
	}
	return counts
}

func scriptPrevComms(want []scriptSample) map[string]int {
	counts := map[string]int{}
	for _, s := range want {
		if s.Event == "sched:sched_switch" {
			counts[traceValues(s.Trace)["prev_comm"]]++
		}
	}
	return counts
}

func sameCounts(t testing.TB, got, want map[string]int) {
	t.Helper()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%q: the reader counts %d, perf %d", k, got[k], n)
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%q: the reader counts %d, perf none", k, n)
		}
	}
}

func TestLiveCaptures(t *testing.T) {
	perf := livePerf(t)
	tests := []struct {
		name  string
		args  []string // perf record arguments after -o FILE
		check func(t *testing.T, file string, r *Reader, s *recSink)
	}{
		{
			name: "a system-wide sched_switch capture has perf script's samples, comms and order",
			args: []string{"-e", "sched:sched_switch", "-a", "--", "sleep", "0.3"},
			check: func(t *testing.T, file string, r *Reader, s *recSink) {
				want := parseTraceScript(t, bytes.NewReader(script(t, perf, file, scriptTraceArgs)))
				got := s.samples()
				if len(got) < 10 {
					t.Fatalf("only %d sched_switch samples in 0.3 s", len(got))
				}
				sameCounts(t, prevComms(t, r, got), scriptPrevComms(want))
				compareTrace(t, r, got, want)
			},
		},
		{
			name: "a 999 Hz profile with -g has perf's sample count and callchains",
			args: append([]string{"-F", "999", "-g", "--"}, busyCommand("300ms")...),
			check: func(t *testing.T, file string, r *Reader, s *recSink) {
				got := s.samples()
				if n := reportSamples(t, perf, file); len(got) != n || n < 50 {
					t.Fatalf("the reader delivered %d samples, perf report --stats counts %d (want at least 50)", len(got), n)
				}
				for i, g := range got {
					if g.Event != "profile:hz:999" {
						t.Fatalf("sample %d is of %s, want profile:hz:999", i, g.Event)
					}
					if len(g.Callchain) < 2 || g.Callchain[0] < 1<<64-4095 {
						t.Fatalf("sample %d has callchain %x, which does not start with a context marker", i, g.Callchain)
					}
				}
				compareChains(t, s.items, parseChainScript(t, bytes.NewReader(script(t, perf, file, scriptChainArgs))), true)
			},
		},
		{
			name: "a --call-graph dwarf capture parses past the registers and stack copies",
			args: append([]string{"-F", "999", "--call-graph", "dwarf,4096", "--"}, busyCommand("200ms")...),
			check: func(t *testing.T, file string, r *Reader, s *recSink) {
				got := s.samples()
				st := r.Stats()
				if n := reportSamples(t, perf, file); len(got) != n || n < 20 {
					t.Fatalf("the reader delivered %d samples, perf report --stats counts %d (want at least 20)", len(got), n)
				}
				if st.Malformed != 0 || st.UserStacks != uint64(len(got)) || st.UserRegs != uint64(len(got)) {
					t.Errorf("stats %+v: want every one of %d samples with user registers and a stack copy, none malformed", st, len(got))
				}
				if st.UserStackBytes == 0 || st.UserStackBytes > 4096*st.UserStacks {
					t.Errorf("%d bytes of user stack in %d copies of at most 4096", st.UserStackBytes, st.UserStacks)
				}
				compareChains(t, s.items, parseChainScript(t, bytes.NewReader(script(t, perf, file, scriptChainArgs))), false)
			},
		},
		{
			name: "a --buildid-mmap capture carries each file's build id in its MMAP2 records",
			args: []string{"--buildid-mmap", "-F", "999", "--", "dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=100000"},
			check: func(t *testing.T, file string, r *Reader, s *recSink) {
				dd, err := exec.LookPath("dd")
				if err != nil {
					t.Fatal(err)
				}
				want := gnuBuildID(t, dd)
				found := 0
				for _, it := range s.items {
					if m, ok := it.(process.Mmap); ok && m.Path == dd {
						found++
						if !bytes.Equal(m.BuildID, want) {
							t.Errorf("MMAP2 of %s has build id %x, the file %x", dd, m.BuildID, want)
						}
					}
				}
				if found == 0 {
					t.Errorf("no MMAP2 of %s", dd)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "perf.data")
			runPerf(t, perf, recordArgs(file, tt.args...)...)
			r, s := readFile(t, file, Options{Notice: func(n string) { t.Log(n) }})
			tt.check(t, file, r, s)
		})
	}
}

// TestLivePipeMode reads perf record -o - as it runs, then checks what it
// read against perf script and perf report on the same bytes, saved on the
// way.
func TestLivePipeMode(t *testing.T) {
	perf := livePerf(t)
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, file string, r *Reader, s *recSink)
	}{
		{
			name: "a piped sched_switch capture has perf script's samples, comms and order",
			args: []string{"-e", "sched:sched_switch", "-a", "--", "sleep", "0.3"},
			check: func(t *testing.T, file string, r *Reader, s *recSink) {
				want := parseTraceScript(t, bytes.NewReader(script(t, perf, file, scriptTraceArgs)))
				got := s.samples()
				if len(got) < 10 {
					t.Fatalf("only %d sched_switch samples in 0.3 s", len(got))
				}
				sameCounts(t, prevComms(t, r, got), scriptPrevComms(want))
				compareTrace(t, r, got, want)
			},
		},
		{
			name: "a piped profile has perf's sample count and callchains",
			args: append([]string{"-F", "999", "-g", "--"}, busyCommand("300ms")...),
			check: func(t *testing.T, file string, r *Reader, s *recSink) {
				got := s.samples()
				if n := reportSamples(t, perf, file); len(got) != n || n < 50 {
					t.Fatalf("the reader delivered %d samples, perf report --stats counts %d (want at least 50)", len(got), n)
				}
				compareChains(t, s.items, parseChainScript(t, bytes.NewReader(script(t, perf, file, scriptChainArgs))), true)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "pipe.data")
			saved, err := os.Create(file)
			if err != nil {
				t.Fatal(err)
			}
			defer saved.Close()
			cmd := exec.Command(perf, recordArgs("-", tt.args...)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			// A plain io.Reader (no ReaderAt, no Seek), as a pipe is.
			r, err := NewReader(struct{ io.Reader }{io.TeeReader(out, saved)})
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			if !r.Pipe() {
				t.Fatal("perf record -o - was not read as pipe mode")
			}
			enableAll(t, r)
			s := &recSink{}
			if err := drain(t, r, s, 1<<30); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("perf record: %v\n%s%s", err, stderr.String(), perfCrashHint(stderr.String()))
			}
			tt.check(t, file, r, s)
		})
	}
}

// TestLivePipeModeReadsLikeFileMode reads a file-mode profile, and the
// pipe-mode stream perf inject makes of it, and wants the same records.
// (perf 6.1 cannot convert captures with tracing data either way: its
// inject writes the tracing data of a pipe ahead of its record header, and
// writes a file-mode header over the attrs when its input is a pipe.)
func TestLivePipeModeReadsLikeFileMode(t *testing.T) {
	perf := livePerf(t)
	file := filepath.Join(t.TempDir(), "perf.data")
	runPerf(t, perf, recordArgs(file, append([]string{"-F", "999", "-g", "--"}, busyCommand("300ms")...)...)...)
	fr, fs := readFile(t, file, Options{})

	clearLeakedBuildIDs(t, file)
	inject := exec.Command(perf, "inject", "-i", file, "-o", "-")
	var stderr bytes.Buffer
	inject.Stderr = &stderr
	out, err := inject.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := inject.Start(); err != nil {
		t.Fatal(err)
	}
	defer inject.Process.Kill()
	pr, err := NewReader(struct{ io.Reader }{out})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !pr.Pipe() || fr.Pipe() {
		t.Fatalf("pipe mode %v and %v, want true for perf inject -o - and false for the file", pr.Pipe(), fr.Pipe())
	}
	enableAll(t, pr)
	ps := &recSink{}
	if err := drain(t, pr, ps, 1<<30); err != nil {
		t.Fatal(err)
	}
	if err := inject.Wait(); err != nil {
		t.Fatalf("perf inject: %v\n%s%s", err, stderr.String(), perfCrashHint(stderr.String()))
	}
	if got, want := fmt.Sprint(pr.Catalog().Names()), fmt.Sprint(fr.Catalog().Names()); got != want {
		t.Errorf("pipe mode has events %s, the file %s", got, want)
	}
	for _, k := range []string{"hostname", "kernel_release", "arch", "ncpus"} {
		if pr.Meta()[k] != fr.Meta()[k] || fr.Meta()[k] == "" {
			t.Errorf("meta %s: pipe mode %q, the file %q", k, pr.Meta()[k], fr.Meta()[k])
		}
	}
	piped, filed := ps.samples(), fs.samples()
	if len(piped) != len(filed) || len(filed) < 50 {
		t.Fatalf("pipe mode gave %d samples, the file %d (want at least 50)", len(piped), len(filed))
	}
	for i := range piped {
		a, b := piped[i], filed[i]
		if a.Time != b.Time || a.TID != b.TID || a.Event != b.Event || fmt.Sprintf("%x", a.Callchain) != fmt.Sprintf("%x", b.Callchain) {
			t.Fatalf("sample %d differs: pipe mode %+v, the file %+v", i, a, b)
		}
	}
}

// fixtureRecipes say how each fixture in testdata was made; go test
// -run TestCaptureFixtures -capture (as root) makes them again. Each
// must stay under 200 KB.
var fixtureRecipes = []struct {
	file   string
	pipe   bool
	args   []string
	script []string // perf script arguments for the .script file
}{
	{"sched.data", false, []string{"-e", "sched:sched_switch", "-e", "sched:sched_wakeup", "-a", "--", "sleep", "0.05"}, scriptTraceArgs},
	{"profile-pipe.data", true, append([]string{"-F", "999", "-g", "--"}, busyCommand("100ms")...), scriptChainArgs},
	{"dwarf.data", false, append([]string{"-F", "499", "--call-graph", "dwarf,512", "--"}, busyCommand("100ms")...), scriptChainArgs},
}

func TestCaptureFixtures(t *testing.T) {
	if !*capture {
		t.Skip("run with -capture to re-record the fixtures")
	}
	perf := livePerf(t)
	for _, f := range fixtureRecipes {
		path := filepath.Join("testdata", f.file)
		if f.pipe {
			out := runPerf(t, perf, append([]string{"record", "-q", "-N", "-o", "-"}, f.args...)...)
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			runPerf(t, perf, append([]string{"record", "-q", "-N", "-o", path}, f.args...)...)
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if st, err := os.Stat(path); err != nil || st.Size() > 200<<10 {
			t.Errorf("%s: %v, %d bytes (want under 200 KB)", path, err, st.Size())
		}
		out := script(t, perf, path, f.script)
		if err := os.WriteFile(strings.TrimSuffix(path, ".data")+".script", out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
