//go:build linux

package live

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// liveRequired is OTRACE_LIVE=1: a test that cannot run fails, not skips.
var liveRequired = os.Getenv("OTRACE_LIVE") == "1"

// env is what TestMain prepared for the tests.
var env struct {
	dir       string // holds the otrace binary and the workloads; tests run otrace here
	otrace    string
	missing   string // why this machine cannot trace ("" when it can)
	tracefs   string // where tracefs is mounted
	buildErr  error  // otrace did not build: every test fails
	gccErr    error  // the workloads could not be built
	workloads map[string]string
}

// programs are the workloads in testdata/, by name.
var programs = []string{"getppid", "sleeper", "spin", "child_prog", "calls"}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	env.missing = machineMissing()
	if env.missing != "" {
		return m.Run() // every test skips, or fails under OTRACE_LIVE=1
	}
	dir, err := os.MkdirTemp("", "otrace-live-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "live:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// The non-root test runs the binary as nobody, who must reach it.
	os.Chmod(dir, 0o755)
	env.dir = dir
	env.otrace = filepath.Join(dir, "otrace")

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		out, err := exec.Command("go", "build", "-o", env.otrace, "otrace/cmd/otrace").CombinedOutput()
		if err != nil {
			env.buildErr = fmt.Errorf("go build otrace/cmd/otrace: %v\n%s", err, out)
		}
	}()
	env.workloads, env.gccErr = buildWorkloads(dir)
	wg.Wait()
	return m.Run()
}

// machineMissing says what this machine lacks to trace, or "" after
// finding tracefs.
func machineMissing() string {
	if os.Geteuid() != 0 {
		return "live tests need root"
	}
	for _, d := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if _, err := os.Stat(filepath.Join(d, "events/sched/sched_switch/format")); err == nil {
			env.tracefs = d
			return ""
		}
	}
	return "no tracefs with sched:sched_switch at /sys/kernel/tracing"
}

var errNoGCC = errors.New("gcc is not on PATH: install gcc (e.g. apt-get install gcc) to build the workloads in tests/live/testdata")

// buildWorkloads compiles testdata/NAME.c into dir/NAME for every program.
func buildWorkloads(dir string) (map[string]string, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return nil, errNoGCC
	}
	out := map[string]string{}
	for _, name := range programs {
		bin := filepath.Join(dir, name)
		msg, err := exec.Command(gcc, "-O2", "-Wall", "-o", bin, filepath.Join("testdata", name+".c")).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("gcc testdata/%s.c: %v\n%s", name, err, msg)
		}
		out[name] = bin
	}
	return out, nil
}

// needLive skips the test when the machine cannot trace, or fails it when
// OTRACE_LIVE=1 demands live tests; it fails it when otrace did not build.
func needLive(t *testing.T) {
	t.Helper()
	if env.missing != "" {
		unavailable(t, "%s", env.missing)
	}
	if env.buildErr != nil {
		t.Fatal(env.buildErr)
	}
}

// unavailable ends a test this machine cannot run: a skip, or a failure
// under OTRACE_LIVE=1.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	why := fmt.Sprintf(format, args...)
	if liveRequired {
		t.Fatalf("OTRACE_LIVE=1 but this test cannot run: %s", why)
	}
	t.Skipf("%s (set OTRACE_LIVE=1 to make this a failure)", why)
}

// workload returns the path of a testdata program, after needLive.
func workload(t *testing.T, name string) string {
	t.Helper()
	needLive(t)
	if errors.Is(env.gccErr, errNoGCC) {
		unavailable(t, "%v", env.gccErr)
	}
	if env.gccErr != nil {
		t.Fatal(env.gccErr)
	}
	return env.workloads[name]
}

// result is how one otrace invocation went.
type result struct {
	args    []string
	stdout  string
	stderr  string
	code    int
	pid     int
	elapsed time.Duration
}

// String shows the invocation for failure messages.
func (r *result) String() string {
	return fmt.Sprintf("otrace %s\nexit status %d after %v\n--- stdout\n%s--- stderr\n%s",
		quoteArgs(r.args), r.code, r.elapsed.Round(time.Millisecond), r.stdout, r.stderr)
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$*(){}") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// invocation is an otrace process started by a test.
type invocation struct {
	t      *testing.T
	cmd    *exec.Cmd
	res    *result
	start  time.Time
	cancel context.CancelFunc
	out    strings.Builder
	errOut strings.Builder
}

// limit is how long any one otrace run may take before the test fails.
const limit = 20 * time.Second

// startOtrace starts otrace with args in env.dir, with prefix (e.g.
// setpriv ...) before the binary if given.
func startOtrace(t *testing.T, prefix []string, args ...string) *invocation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	argv := append(append([]string{}, prefix...), env.otrace)
	argv = append(argv, args...)
	inv := &invocation{t: t, cancel: cancel, res: &result{args: args}}
	inv.cmd = exec.CommandContext(ctx, argv[0], argv[1:]...)
	inv.cmd.Dir = env.dir
	inv.cmd.Stdout, inv.cmd.Stderr = &inv.out, &inv.errOut
	inv.cmd.WaitDelay = time.Second
	inv.start = time.Now()
	if err := inv.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting otrace: %v", err)
	}
	inv.res.pid = inv.cmd.Process.Pid
	return inv
}

// signal sends sig to the running otrace.
func (inv *invocation) signal(sig syscall.Signal) {
	inv.t.Helper()
	if err := inv.cmd.Process.Signal(sig); err != nil {
		inv.t.Fatalf("sending %v to otrace: %v", sig, err)
	}
}

// wait waits for otrace to exit and returns how it went; a run past the
// limit fails the test.
func (inv *invocation) wait() *result {
	inv.t.Helper()
	err := inv.cmd.Wait()
	inv.res.elapsed = time.Since(inv.start)
	inv.cancel()
	inv.res.stdout, inv.res.stderr = inv.out.String(), inv.errOut.String()
	inv.res.code = inv.cmd.ProcessState.ExitCode()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		inv.t.Fatalf("waiting for otrace: %v\n%v", err, inv.res)
	}
	if inv.res.elapsed >= limit {
		inv.t.Fatalf("otrace ran past %v and was killed:\n%v", limit, inv.res)
	}
	return inv.res
}

// otrace runs otrace with args in env.dir and returns how it went.
func otrace(t *testing.T, args ...string) *result {
	t.Helper()
	return startOtrace(t, nil, args...).wait()
}

// mustSucceed fails the test unless r exited 0.
func mustSucceed(t *testing.T, r *result) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("want exit status 0:\n%v", r)
	}
}

// summary is the end-of-run line otrace writes to stderr:
// "otrace: 1,234 events, 0 lost, 0 handler errors, 0.50s traced (REASON)".
type summary struct {
	events, lost, errors uint64
	reason               string
}

var summaryRE = regexp.MustCompile(`(?m)^otrace: ([\d,]+) events?, ([\d,]+) lost, ([\d,]+) handler errors?, [\d.]+s traced \((.*)\)$`)

// summaryOf finds the summary line in r's stderr; there must be one.
func summaryOf(t *testing.T, r *result) summary {
	t.Helper()
	m := summaryRE.FindAllStringSubmatch(r.stderr, -1)
	if len(m) != 1 {
		t.Fatalf("want one summary line on stderr, found %d:\n%v", len(m), r)
	}
	return summary{events: commaNumber(t, m[0][1]), lost: commaNumber(t, m[0][2]), errors: commaNumber(t, m[0][3]), reason: m[0][4]}
}

func commaNumber(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(strings.ReplaceAll(s, ",", ""), 10, 64)
	if err != nil {
		t.Fatalf("bad number %q: %v", s, err)
	}
	return n
}

// lines returns the lines of out whose first word is key, split in words.
func lines(out, key string) [][]string {
	var got [][]string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && f[0] == key {
			got = append(got, f)
		}
	}
	return got
}

// value returns the number on the one line "KEY N" of r's stdout.
func value(t *testing.T, r *result, key string) int64 {
	t.Helper()
	l := lines(r.stdout, key)
	if len(l) != 1 || len(l[0]) != 2 {
		t.Fatalf("want one line %q followed by a number on stdout, found %d:\n%v", key, len(l), r)
	}
	n, err := strconv.ParseInt(l[0][1], 10, 64)
	if err != nil {
		t.Fatalf("line %q: %v\n%v", strings.Join(l[0], " "), err, r)
	}
	return n
}

// atoi parses a word of a script's output line.
func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("want a number, got %q", s)
	}
	return n
}
