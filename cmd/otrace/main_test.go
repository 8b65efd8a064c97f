package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"otrace/runtime/event"
)

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = dispatch(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestHelpTeaches(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"run", "--help"}, {"help", "run"}} {
		out, _, code := run(t, args...)
		if code != exitOK || !strings.Contains(out, "otrace run") {
			t.Errorf("%v: exit %d, output %q", args, code, out)
		}
	}
	out, _, _ := run(t, "run", "--help")
	for _, want := range []string{"--duration", "--input", "--max-errors", "profile:hz:N", "e.copy()", "otrace.every"} {
		if !strings.Contains(out, want) {
			t.Errorf("run --help does not mention %s", want)
		}
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "Usage"},
		{"an unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"run without a script", []string{"run"}, "no script"},
		{"a bad duration", []string{"run", "-d", "soon", "-e", "1"}, "bad duration"},
		{"a bad pid", []string{"run", "-p", "x", "-e", "1"}, "bad pid"},
		{"a command given twice", []string{"run", "-c", "true", "-e", "1", "--", "true"}, "either with -c or after --"},
		{"a command with a recording", []string{"run", "--input", "x.rec", "-e", "1", "--", "true"}, "cannot be combined with --input"},
		{"a missing script", []string{"run", "/nonexistent.tengo"}, "cannot read the script"},
		{"a missing recording", []string{"run", "--input", "/nonexistent.rec", "-e", "1"}, "nonexistent.rec"},
		{"an unknown flag", []string{"run", "--frob", "-e", "1"}, "flag provided but not defined"},
		{"an unknown call graph", []string{"record", "-o", "x.rec", "-e", "profile:hz:99", "-g", "lbr"}, `--call-graph "lbr": want fp, dwarf[,SIZE], kernel, user or none`},
		{"a call graph size too big", []string{"record", "-o", "x.rec", "-e", "profile:hz:99", "-g", "dwarf,100000"}, "a size goes with dwarf only, in bytes from 8 to 65536"},
		{"a size on fp", []string{"record", "-o", "x.rec", "-e", "profile:hz:99", "--call-graph", "fp,64"}, "a size goes with dwarf only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, code := run(t, tt.args...)
			if code != exitUsage || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errs, tt.want)
			}
		})
	}
}

func TestParseRunSplitsScriptArgsAndCommand(t *testing.T) {
	o, _, err := parseRun([]string{"-d", "2s", "-I", "a", "-I", "b", "s.tengo", "x", "-y", "--", "ls", "-l"})
	if err != nil {
		t.Fatal(err)
	}
	if o.script != "s.tengo" || strings.Join(o.scriptArgs, " ") != "x -y" || strings.Join(o.argv, " ") != "ls -l" ||
		o.duration != 2*time.Second || strings.Join(o.libPath, ",") != "a,b" {
		t.Errorf("parsed %+v", o)
	}
}

func TestRunPrintsAndExits(t *testing.T) {
	out, errs, code := run(t, "run", "-e", `otrace.begin(func(){ otrace.printf("hi\n"); otrace.exit() })`)
	if out != "hi\n" || code != exitOK || !strings.Contains(errs, "otrace.exit() called") {
		t.Errorf("stdout %q stderr %q exit %d", out, errs, code)
	}
}

func TestOutputFlagWritesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	out, _, code := run(t, "run", "-o", path, "-e", `otrace.begin(func(){ otrace.printf("to %s\n", otrace.output) })`)
	got, err := os.ReadFile(path)
	if err != nil || code != exitOK || out != "" || string(got) != "to "+path+"\n" {
		t.Errorf("file %q (%v), stdout %q, exit %d", got, err, out, code)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.tengo")
	bad := filepath.Join(dir, "bad.tengo")
	os.WriteFile(good, []byte("otrace.on(\"a:b\", func(e) {})\n"), 0o644)
	os.WriteFile(bad, []byte("x := \n"), 0o644)
	if out, _, code := run(t, "check", good); code != exitOK || !strings.Contains(out, "ok") {
		t.Errorf("check good: %q exit %d", out, code)
	}
	if _, errs, code := run(t, "check", bad); code != exitUsage || !strings.Contains(errs, "bad.tengo:1:7: expected operand") {
		t.Errorf("check bad: %q exit %d", errs, code)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "version")
	if code != exitOK || !strings.HasPrefix(out, "otrace "+version) {
		t.Errorf("version: %q", out)
	}
}

// buildOtrace builds the binary for tests that need a real process.
func buildOtrace(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "otrace")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func TestSignalsEndTheRunCleanly(t *testing.T) {
	bin := buildOtrace(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		cmd := exec.Command(bin, "run", "-e", `n := 0
otrace.every("20ms", func() { n += 1 })
otrace.end(func() { otrace.printf("end ran after %v ticks\n", n > 0) })`)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// A signal before otrace handles it would kill it (a loaded
		// machine can take longer than any fixed sleep to get there).
		waitForHandler(t, cmd.Process.Pid, sig)
		time.Sleep(100 * time.Millisecond) // some ticks
		cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%v: exit %v, stderr %s", sig, err, errb.String())
			}
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v did not end the run", sig)
		}
		if out.String() != "end ran after true ticks\n" || !strings.Contains(errb.String(), "interrupted by "+signalName(sig)) {
			t.Errorf("%v: stdout %q stderr %q", sig, out.String(), errb.String())
		}
	}
}

// waitForHandler waits until process pid catches sig (SigCgt in
// /proc/PID/status), or sleeps a while where there is no /proc.
func waitForHandler(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	status := fmt.Sprintf("/proc/%d/status", pid)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		b, err := os.ReadFile(status)
		if err != nil {
			time.Sleep(300 * time.Millisecond)
			return
		}
		for _, l := range strings.Split(string(b), "\n") {
			if hex, ok := strings.CutPrefix(l, "SigCgt:"); ok {
				mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
				if err == nil && mask&(1<<(uint(sig)-1)) != 0 {
					return
				}
			}
		}
	}
	t.Fatalf("pid %d did not catch %v within 10 s", pid, sig)
}

func TestCommandExitEndsTheRun(t *testing.T) {
	bin := buildOtrace(t)
	for _, args := range [][]string{
		{"run", "-c", "sleep 0.2; exit 3", "-e", `otrace.end(func() { otrace.printf("done\n") })`},
		{"run", "-e", `otrace.end(func() { otrace.printf("done\n") })`, "--", "sleep", "0.2"},
	} {
		start := time.Now()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "done\n") || !strings.Contains(string(out), "command exited with status") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("%v took %v", args, el)
		}
	}
}

func TestTestRunsScriptTestsAndReportsDifferences(t *testing.T) {
	bin := buildOtrace(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "hello.tengo")
	os.WriteFile(script, []byte("// input: none\notrace.begin(func() { otrace.printf(\"hello\\n\") })\n"), 0o644)
	if out, err := exec.Command(bin, "test", "-update", dir).CombinedOutput(); err != nil {
		t.Fatalf("test -update: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "test", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1 passed, 0 failed") {
		t.Fatalf("a passing test: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "hello.out"), []byte("goodbye\n"), 0o644)
	out, err = exec.Command(bin, "test", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "0 passed, 1 failed") || !strings.Contains(string(out), `want: "goodbye"`) {
		t.Fatalf("a failing test must fail with a diff: %v\n%s", err, out)
	}
}

func TestParseCallGraph(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		mode event.StackMode
		size uint32
	}{
		{"fp", event.BothStacks, 0},
		{"dwarf", event.DwarfStack, 0},
		{"dwarf,8192", event.DwarfStack, 8192},
		{"dwarf,100", event.DwarfStack, 104},
		{"kernel", event.KernelStack, 0},
		{"user", event.UserStack, 0},
		{"none", event.NoStack, 0},
	} {
		var o recordOptions
		if err := parseCallGraph(tc.arg, &o); err != nil || o.stack != tc.mode || o.stackSize != tc.size {
			t.Errorf("%s: %v, %v, %d; want %v, %d", tc.arg, err, o.stack, o.stackSize, tc.mode, tc.size)
		}
	}
}
