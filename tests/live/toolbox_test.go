//go:build linux

package live

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests in this file run the toolbox, scripts/NAME.tengo, for real:
// each with a workload that makes the events the script is about, and
// each checks that the script's output shows that workload.
//
// Scripts that pair events of different tasks (a thread's switch-in
// happens in the context of the task switched out; a block request
// completes in an interrupt) trace the whole system for a while, since a
// command or -p PID limits the events to its processes: the workload
// runs from the test, again and again while otrace runs, so some of it
// falls inside the trace whatever otrace's start-up takes.

// toolbox returns the absolute path of scripts/NAME.tengo, after needLive.
func toolbox(t *testing.T, name string) string {
	t.Helper()
	needLive(t)
	p, err := filepath.Abs(filepath.Join("..", "..", "scripts", name+".tengo"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("toolbox script: %v", err)
	}
	return p
}

// runToolbox runs otrace with args and checks it succeeded without lost
// events or handler errors.
func runToolbox(t *testing.T, args ...string) *result {
	t.Helper()
	return checkToolbox(t, otrace(t, args...))
}

func checkToolbox(t *testing.T, r *result) *result {
	t.Helper()
	mustSucceed(t, r)
	s := summaryOf(t, r)
	if s.errors != 0 {
		t.Fatalf("%d handler errors:\n%v", s.errors, r)
	}
	if s.lost != 0 {
		t.Logf("%d events lost", s.lost)
	}
	return r
}

// runDuring runs otrace with args and calls work every interval until
// otrace exits; work must not call t.Fatal.
func runDuring(t *testing.T, every time.Duration, work func(), args ...string) *result {
	t.Helper()
	return runDuringWith(t, nil, every, work, args...)
}

// runDuringWith is runDuring with a prefix before the otrace binary
// (e.g. taskset -c 0).
func runDuringWith(t *testing.T, prefix []string, every time.Duration, work func(), args ...string) *result {
	t.Helper()
	inv := startOtrace(t, prefix, args...)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				work()
			}
		}
	}()
	r := inv.wait()
	close(done)
	wg.Wait()
	return checkToolbox(t, r)
}

// buildC compiles a C program given as source, for stacks (-O0, frame
// pointers), into a new directory and returns the binary.
func buildC(t *testing.T, name, src string) string {
	t.Helper()
	workload(t, "spin") // gcc is there
	dir := t.TempDir()
	c := filepath.Join(dir, name+".c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	out, err := exec.Command("gcc", "-O0", "-fno-omit-frame-pointer", "-g", "-Wall", "-o", bin, c).CombinedOutput()
	if err != nil {
		t.Fatalf("gcc %s.c: %v\n%s", name, err, out)
	}
	return bin
}

// columns returns the lines of out after the header line that starts with
// first, split in words.
func columns(t *testing.T, r *result, first string) [][]string {
	t.Helper()
	var rows [][]string
	seen := false
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) > 0 && f[0] == first:
			seen = true
		case seen && len(f) > 0:
			rows = append(rows, f)
		}
	}
	if !seen {
		t.Fatalf("no header line starting with %s:\n%v", first, r)
	}
	return rows
}

// histogram sums the counts of the bucket lines ("[4, 8)  12 |@@@ |") of
// the histogram printed under the line name (e.g. "@usecs:").
func histogram(t *testing.T, r *result, name string) int64 {
	t.Helper()
	var n int64
	in := false
	for _, l := range strings.Split(r.stdout, "\n") {
		switch {
		case l == name:
			in = true
		case in && strings.HasPrefix(l, "["):
			i := strings.Index(l, "|")
			f := strings.Fields(l[:max(i, 0)])
			if i < 0 || len(f) == 0 {
				t.Fatalf("bad bucket line %q", l)
			}
			n += atoi(t, f[len(f)-1])
		default:
			in = false
		}
	}
	return n
}

// stackBlock is one stack the stack scripts print: frames, "- COMM" and
// the value line.
type stackBlock struct {
	frames []string // "func+0xoff (module)", leaf first
	comm   string
	value  string
}

// stackBlocks parses the stacks printed by offcputime, pagefaults and
// mallocbytes.
func stackBlocks(r *result) []stackBlock {
	var out []stackBlock
	var cur stackBlock
	for _, l := range strings.Split(r.stdout, "\n") {
		switch {
		case strings.HasPrefix(l, "\t\t"):
			cur.value = strings.TrimSpace(l)
			out = append(out, cur)
			cur = stackBlock{}
		case strings.HasPrefix(l, "\t-"):
			cur.comm = strings.TrimSpace(strings.TrimPrefix(l, "\t-"))
		case strings.HasPrefix(l, "\t"):
			cur.frames = append(cur.frames, strings.TrimSpace(l))
		}
	}
	return out
}

// has reports whether a frame's function name holds fn.
func (b stackBlock) has(fn string) bool {
	for _, f := range b.frames {
		name, _, _ := strings.Cut(f, " ")
		if strings.Contains(name, fn) {
			return true
		}
	}
	return false
}

func TestToolboxSyscountCountsAGetppidLoop(t *testing.T) {
	script := toolbox(t, "syscount")
	prog := workload(t, "getppid")
	r := runToolbox(t, "run", script, "-t", "5", "--", prog, "1000")
	for _, row := range columns(t, r, "SYSCALL") {
		if row[0] == "getppid" {
			if len(row) < 3 || row[1] != "1000" || row[2] != "0" {
				t.Errorf("getppid row %q, want 1000 calls and 0 failed", row)
			}
			return
		}
	}
	t.Errorf("no getppid row:\n%v", r)
}

func TestToolboxExecsnoopSeesASpawnedTrue(t *testing.T) {
	script := toolbox(t, "execsnoop")
	r := runToolbox(t, "run", script, "-x", "--", "sh", "-c", "/bin/true; /nonexistent/otrace-test 2>/dev/null; exit 0")
	var shell, trueParent string
	var trues, failed int
	for _, row := range columns(t, r, "TIME(s)") {
		if len(row) != 6 {
			t.Fatalf("line %q has %d columns, want 6", row, len(row))
		}
		switch {
		case row[3] == "sh" && row[4] == "0":
			shell = row[1]
		case row[3] == "true" && row[5] == "/bin/true" && row[4] == "0":
			trues++
			trueParent = row[2]
		case row[4] == "ENOENT" && row[5] == "-":
			failed++
		}
	}
	if trues != 1 {
		t.Fatalf("want one exec of /bin/true, got %d:\n%v", trues, r)
	}
	if failed != 1 {
		t.Errorf("want one failed exec (ENOENT) with -x, got %d:\n%v", failed, r)
	}
	// The shell is the command itself, /bin/true's parent.
	if shell == "" || shell != trueParent {
		t.Errorf("the shell's exec has pid %q, /bin/true's parent is %s:\n%v", shell, trueParent, r)
	}
}

func TestToolboxExitsnoopSeesExitCodesAndSignals(t *testing.T) {
	script := toolbox(t, "exitsnoop")
	r := runToolbox(t, "run", script, "--", "sh", "-c", `sh -c "exit 3"; sh -c 'kill -TERM $$'; exit 0`)
	var code3, term bool
	for _, row := range columns(t, r, "TIME(s)") {
		exit := strings.Join(row[6:], " ")
		switch {
		case row[4] == "sh" && exit == "code 3":
			code3 = true
		case row[4] == "sh" && exit == "signal SIGTERM":
			term = true
		}
		if row[5] == "-" && row[4] != "sh" {
			t.Errorf("%q: only the command, forked before the trace, has no age", row)
		}
	}
	if !code3 {
		t.Errorf("no sh line with EXIT code 3:\n%v", r)
	}
	if !term {
		t.Errorf("no sh line with EXIT signal SIGTERM:\n%v", r)
	}
}

func TestToolboxOpensnoopSeesAFileTheTestOpens(t *testing.T) {
	script := toolbox(t, "opensnoop")
	path := filepath.Join(t.TempDir(), "opened-by-the-test")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	fds := map[string]bool{}
	r := runDuring(t, 100*time.Millisecond, func() {
		f, err := os.Open(path)
		if err != nil {
			return
		}
		mu.Lock()
		fds[strconv.Itoa(int(f.Fd()))] = true
		mu.Unlock()
		f.Close()
		os.Open(path + ".missing")
	}, "run", "-d", "2s", script)
	// The path is not in the event (a user pointer), so the test knows
	// its opens by pid and result.
	pid := strconv.Itoa(os.Getpid())
	var ok, missing int
	for _, row := range columns(t, r, "TIME(s)") {
		if len(row) < 8 || row[1] != pid {
			continue
		}
		if row[5] == "0" && fds[row[4]] && strings.HasPrefix(row[7], "O_RDONLY") && strings.Contains(row[7], "O_CLOEXEC") && row[6] == "CWD" {
			ok++
		}
		if row[4] == "-1" && row[5] == "ENOENT" {
			missing++
		}
	}
	if ok == 0 || missing == 0 {
		t.Errorf("want lines of pid %s opening fds %v and failing with ENOENT, got %d and %d:\n%v", pid, fds, ok, missing, r)
	}
}

func TestToolboxRunqlatAndCpudistPrintHistograms(t *testing.T) {
	sleeper := workload(t, "sleeper")
	work := func() { exec.Command(sleeper, "5", "2").Run() }
	for _, tc := range []struct{ script, hist string }{
		{"runqlat", "@usecs:"},
		{"cpudist", "@usecs:"},
		{"cpudist", "@msecs:"},
	} {
		t.Run(tc.script+" "+tc.hist, func(t *testing.T) {
			args := []string{"run", "-d", "1500ms", toolbox(t, tc.script)}
			if tc.hist == "@msecs:" {
				args = append(args, "-O", "-m")
			}
			r := runDuring(t, 100*time.Millisecond, work, args...)
			if n := histogram(t, r, tc.hist); n == 0 {
				t.Errorf("no samples in %s:\n%v", tc.hist, r)
			}
		})
	}
}

func TestToolboxCswitchCountsSwitches(t *testing.T) {
	script := toolbox(t, "cswitch")
	r := runToolbox(t, "run", "-d", "500ms", script, "3")
	rows := columns(t, r, "TASK")
	if len(rows) != 4 || rows[3][1] != "switches," || atoi(t, rows[3][0]) == 0 {
		t.Errorf("want 3 tasks and a count of switches:\n%v", r)
	}
}

func TestToolboxOffcputimeNamesTheStackOfASleeper(t *testing.T) {
	script := toolbox(t, "offcputime")
	sleeper := workload(t, "sleeper")
	r := runDuring(t, 200*time.Millisecond, func() { exec.Command(sleeper, "5", "10").Run() },
		"run", "-d", "2s", script, "-n", "sleeper", "-t", "5")
	var found bool
	for _, b := range stackBlocks(r) {
		if b.comm != "sleeper" {
			t.Errorf("-n sleeper printed a stack of %q", b.comm)
			continue
		}
		if b.has("nanosleep") && b.has("schedule") && strings.HasSuffix(b.value, " us") && b.value != "0 us" {
			found = true
		}
	}
	if !found {
		t.Errorf("no stack of sleeper with nanosleep and schedule frames and its time:\n%v", r)
	}
}

func TestToolboxPagefaultsNamesTheFunctionThatFaults(t *testing.T) {
	script := toolbox(t, "pagefaults")
	prog := buildC(t, "faulter", `#include <stdlib.h>
#include <sys/mman.h>
#define PAGES 256
__attribute__((noinline)) void touch_pages_for_otrace(char *p)
{
	for (int i = 0; i < PAGES; i++)
		p[i * 4096] = 1;
}
int main(void)
{
	char *p = mmap(0, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	touch_pages_for_otrace(p);
	return 0;
}
`)
	r := runToolbox(t, "run", script, "-t", "3", "--", prog)
	// The command's process faults as otrace's child before the exec,
	// and as faulter after.
	faults := int64(0)
	for _, row := range columns(t, r, "PID") {
		if len(row) == 3 && row[1] == "faulter" {
			faults = atoi(t, row[2])
		}
	}
	if faults < 256 {
		t.Errorf("want a line of faulter with at least 256 faults, got %d:\n%v", faults, r)
	}
	for _, b := range stackBlocks(r) {
		if b.comm == "faulter" && b.has("touch_pages_for_otrace") && b.has("main") {
			if n, _ := strconv.Atoi(b.value); n < 256 {
				t.Errorf("%d faults in touch_pages_for_otrace, want at least 256 (one a page)", n)
			}
			return
		}
	}
	t.Errorf("no stack with touch_pages_for_otrace and main:\n%v", r)
}

func TestToolboxMallocbytesSumsAKnownSize(t *testing.T) {
	script := toolbox(t, "mallocbytes")
	prog := buildC(t, "mallocer", `#include <stdlib.h>
#include <string.h>
#define KNOWN 123457
__attribute__((noinline)) void allocate_known_for_otrace(int n)
{
	for (int i = 0; i < n; i++) {
		char *p = malloc(KNOWN);
		memset(p, 1, KNOWN);
		free(p);
	}
}
int main(void)
{
	allocate_known_for_otrace(7);
	return 0;
}
`)
	r := runToolbox(t, "run", script, "-t", "5", "--", prog)
	rows := columns(t, r, "PID")
	if len(rows) == 0 || len(rows[0]) != 4 || rows[0][1] != "mallocer" || atoi(t, rows[0][3]) < 7*123457 {
		t.Errorf("want mallocer first with at least 7 x 123457 bytes:\n%v", r)
	}
	// The seven calls share a stack: malloc, then its callers. (The
	// kernel adds the direct caller only when malloc begins with push
	// %rbp or endbr64, so allocate_known_for_otrace may be missing.)
	want := fmt.Sprintf("%d bytes in 7 calls", 7*123457)
	for _, b := range stackBlocks(r) {
		if b.comm == "mallocer" && b.value == want {
			if len(b.frames) == 0 || !strings.HasPrefix(b.frames[0], "malloc") || !b.has("main") {
				t.Errorf("the stack of the 7 calls is %q, want malloc first and main", b.frames)
			}
			return
		}
	}
	t.Errorf("no mallocer stack with %q:\n%v", want, r)
}

// blockBacked returns a directory on a block device (a file system whose
// device has a major number), or "".
func blockBacked(t *testing.T) string {
	wd, _ := os.Getwd()
	for _, dir := range []string{t.TempDir(), wd, "/var/tmp"} {
		var st syscall.Stat_t
		if syscall.Stat(dir, &st) != nil || st.Dev>>8&0xfff == 0 {
			continue
		}
		if d, err := os.MkdirTemp(dir, "otrace-bio-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return ""
}

// ddWrites writes 64 blocks of 4 KiB with O_DIRECT into dir, again each
// call.
func ddWrites(t *testing.T, dir string) func() {
	n := 0
	return func() {
		n++
		f := filepath.Join(dir, fmt.Sprintf("dd%d", n))
		exec.Command("dd", "if=/dev/zero", "of="+f, "bs=4k", "count=64", "oflag=direct").Run()
		os.Remove(f)
	}
}

// interruptCPUs returns the CPUs on which some device's interrupt line of
// /proc/interrupts fired at least n times while work ran: those that
// handle the completions of dd's writes.
func interruptCPUs(t *testing.T, n uint64, work func()) map[int]bool {
	read := func() map[string][]uint64 {
		text, err := os.ReadFile("/proc/interrupts")
		if err != nil {
			return nil
		}
		ls := strings.Split(string(text), "\n")
		ncpu := len(strings.Fields(ls[0]))
		out := map[string][]uint64{}
		for _, l := range ls[1:] {
			f := strings.Fields(l)
			// Devices' interrupts are numbered; LOC, RES... are the
			// CPUs' own.
			if len(f) < ncpu+1 || strings.TrimLeft(f[0], "0123456789") != ":" {
				continue
			}
			var counts []uint64
			for _, c := range f[1 : ncpu+1] {
				v, err := strconv.ParseUint(c, 10, 64)
				if err != nil {
					break
				}
				counts = append(counts, v)
			}
			out[f[0]] = counts
		}
		return out
	}
	before := read()
	work()
	after := read()
	cpus := map[int]bool{}
	for irq, counts := range after {
		for cpu, c := range counts {
			if cpu < len(before[irq]) && c-before[irq][cpu] >= n {
				cpus[cpu] = true
			}
		}
	}
	return cpus
}

func TestToolboxBiolatencyAndBiosnoopSeeDirectWrites(t *testing.T) {
	needLive(t)
	dir := blockBacked(t)
	if dir == "" {
		unavailable(t, "no directory on a block device for dd oflag=direct (tried the temporary directory, the working directory and /var/tmp)")
	}
	if out, err := exec.Command("dd", "if=/dev/zero", "of="+filepath.Join(dir, "probe"), "bs=4k", "count=1", "oflag=direct").CombinedOutput(); err != nil {
		unavailable(t, "dd oflag=direct in %s: %v\n%s", dir, err, out)
	}
	// otrace leaves out the events of its own thread with the kernel
	// filter common_pid != its tid, and that also drops the events raised
	// in an interrupt that lands on that thread: a completion often does,
	// since the event has just woken otrace on the CPU that takes
	// the disk's interrupt. Until the filter spares interrupts, otrace
	// runs on a CPU that does not take them, when there is one.
	var prefix []string
	irqs := interruptCPUs(t, 64, ddWrites(t, dir))
	for cpu := 0; cpu < 64 && len(irqs) > 0; cpu++ {
		if _, err := os.Stat(fmt.Sprintf("/sys/devices/system/cpu/cpu%d/online", cpu)); cpu > 0 && err != nil {
			continue
		}
		if !irqs[cpu] {
			if _, err := exec.LookPath("taskset"); err == nil {
				prefix = []string{"taskset", "-c", strconv.Itoa(cpu)}
			}
			break
		}
	}
	t.Logf("the disk's interrupts are on CPUs %v; otrace runs with %q", irqs, prefix)
	// On this kernel (6.18) neither otrace nor perf record gets the samples
	// of block_rq_complete raised in a softirq on an idle CPU, though perf
	// stat counts them: keep the CPUs busy, at the lowest priority, so a
	// completion interrupts a task instead.
	spin := workload(t, "spin")
	for range runtime.NumCPU() {
		cmd := exec.Command("nice", "-n", "19", spin, "10")
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting %s: %v", spin, err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	}
	t.Run("biolatency", func(t *testing.T) {
		r := runDuringWith(t, prefix, 300*time.Millisecond, ddWrites(t, dir), "run", "-d", "2s", toolbox(t, "biolatency"), "-F")
		var n int64
		for _, rwbs := range []string{"W", "WS", "WFS", "WSM"} {
			n += histogram(t, r, "@usecs["+rwbs+"]:")
		}
		if n == 0 {
			unavailable(t, "biolatency saw no write complete in %s while dd wrote there with oflag=direct:\n%v", dir, r)
		}
		if n < 64 {
			t.Errorf("biolatency saw %d writes complete while dd wrote 64 blocks at a time, want 64 or more:\n%v", n, r)
		}
	})
	t.Run("biosnoop", func(t *testing.T) {
		r := runDuringWith(t, prefix, 300*time.Millisecond, ddWrites(t, dir), "run", "-d", "2s", toolbox(t, "biosnoop"), "-n", "dd")
		n := 0
		for _, row := range columns(t, r, "TIME(s)") {
			if len(row) == 8 && row[1] == "dd" && strings.HasPrefix(row[4], "W") && row[6] == "4096" {
				n++
			}
		}
		if n == 0 {
			unavailable(t, "biosnoop saw no 4 KiB write of dd complete in %s:\n%v", dir, r)
		}
		if n < 64 {
			t.Errorf("biosnoop printed %d 4 KiB writes of dd, want 64 or more:\n%v", n, r)
		}
	})
}

func TestToolboxTcplifeSeesALoopbackConnection(t *testing.T) {
	script := toolbox(t, "tcplife")
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	r := runDuring(t, 100*time.Millisecond, func() {
		c, err := net.Dial("tcp4", "127.0.0.1:"+port)
		if err != nil {
			return
		}
		c.Write([]byte("hello"))
		time.Sleep(10 * time.Millisecond)
		c.Close()
	}, "run", "-d", "2s", script, "-4")
	pid := strconv.Itoa(os.Getpid())
	var client, server int
	for _, row := range columns(t, r, "TIME(s)") {
		if len(row) != 8 || row[3] != "127.0.0.1" || row[5] != "127.0.0.1" {
			continue
		}
		switch {
		case row[6] == port && row[1] == pid:
			client++
		case row[4] == port && row[1] == pid:
			server++
		}
	}
	if client == 0 || server == 0 {
		t.Errorf("want lines of pid %s for both ends of connections to 127.0.0.1:%s, got %d client and %d server lines:\n%v", pid, port, client, server, r)
	}
}
