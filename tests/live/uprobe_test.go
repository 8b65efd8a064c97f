//go:build linux

package live

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const targetCalls = 5000

func TestUprobesCountEveryCallAndReturnOfAFunction(t *testing.T) {
	prog := workload(t, "calls")
	r := otrace(t, "run", "-e", fmt.Sprintf(`
entries := 0
returns := 0
otrace.on("uprobe:%[1]s:target", func(e) { entries += 1 })
otrace.on("uretprobe:%[1]s:target", func(e) { returns += 1 })
otrace.end(func() {
	otrace.printf("entries %%d\n", entries)
	otrace.printf("returns %%d\n", returns)
})`, prog), "--", prog, strconv.Itoa(targetCalls))
	mustSucceed(t, r)
	if s := summaryOf(t, r); s.lost != 0 {
		t.Errorf("%d events lost", s.lost)
	}
	if got := value(t, r, "entries"); got != targetCalls {
		t.Errorf("uprobe on target: %d calls, want %d\n%v", got, targetCalls, r)
	}
	if got := value(t, r, "returns"); got != targetCalls {
		t.Errorf("uretprobe on target: %d returns, want %d\n%v", got, targetCalls, r)
	}
	// The program's own account ("calls sum S", S = 0+1+...+K-1) shows it
	// made the K calls, so a miscount above is otrace's.
	sum := lines(r.stdout, "calls")
	if want := strconv.Itoa(targetCalls * (targetCalls - 1) / 2); len(sum) != 1 || len(sum[0]) != 3 || sum[0][2] != want {
		t.Errorf("the program printed %q, want calls sum %s", sum, want)
	}
	assertNoUprobesLeft(t, r.pid, prog)
}

// assertNoUprobesLeft checks the run removed the uprobes it created: none
// in its group otrace_PID, none on prog. Other otrace runs on the machine
// may own otrace_ groups of their own, so only ours are counted.
func assertNoUprobesLeft(t *testing.T, pid int, prog string) {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(env.tracefs, "uprobe_events"))
	if err != nil {
		t.Fatalf("reading uprobe_events: %v", err)
	}
	group := fmt.Sprintf("otrace_%d/", pid)
	for _, l := range strings.Split(string(text), "\n") {
		if strings.Contains(l, group) || (strings.Contains(l, "otrace_") && strings.Contains(l, prog+":")) {
			t.Errorf("uprobe left behind after the run: %s", l)
		}
	}
}

// A signal in the middle of a run with uprobes (SIGINT, SIGTERM, SIGHUP)
// ends it as cleanly as its end would: the end handler's output is in the
// -o file, the summary names the signal, and the uprobes are gone.
func TestASignalEndsAUprobeRunWithItsOutputsAndNoUprobesLeft(t *testing.T) {
	needLive(t)
	prog := workload(t, "calls")
	for _, sig := range []struct {
		name string
		sig  syscall.Signal
	}{{"SIGINT", syscall.SIGINT}, {"SIGTERM", syscall.SIGTERM}, {"SIGHUP", syscall.SIGHUP}} {
		t.Run(sig.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.txt")
			inv := startOtrace(t, nil, "run", "-o", out, "-e", fmt.Sprintf(`
entries := 0
otrace.on("uprobe:%s:target", func(e) { entries += 1 })
otrace.end(func() { otrace.printf("entries %%d\n", entries) })`, prog), "--", prog, "2000000000")
			waitCaught(t, inv.cmd.Process.Pid, sig.sig)
			time.Sleep(300 * time.Millisecond) // calls to count
			inv.signal(sig.sig)
			r := inv.wait()
			mustSucceed(t, r)
			if s := summaryOf(t, r); s.reason != "interrupted by "+sig.name {
				t.Errorf("summary gives %q as the reason, want interrupted by %s\n%v", s.reason, sig.name, r)
			}
			text, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("the -o file: %v", err)
			}
			if got := lines(string(text), "entries"); len(got) != 1 || len(got[0]) != 2 || got[0][1] == "0" {
				t.Errorf("the -o file lacks the end handler's count of calls:\n%s\n%v", text, r)
			}
			assertNoUprobesLeft(t, r.pid, prog)
		})
	}
}

// waitCaught waits until process pid catches sig (SigCgt in its status):
// a signal sent earlier would kill it instead of ending the run.
func waitCaught(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatalf("otrace's status: %v", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if hex, ok := strings.CutPrefix(l, "SigCgt:"); ok {
				if mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64); err == nil && mask&(1<<(uint(sig)-1)) != 0 {
					return
				}
			}
		}
	}
	t.Fatalf("otrace (pid %d) did not catch %v within 10 s", pid, sig)
}
