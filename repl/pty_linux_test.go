package repl

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal: posix_openpt on /dev/ptmx, unlock,
// then the follower by number, 40 rows of 200 columns.
func openPTY() (leader, follower *os.File, err error) {
	leader, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(leader.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		leader.Close()
		return nil, nil, fmt.Errorf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		leader.Close()
		return nil, nil, fmt.Errorf("reading the pty number: %v", err)
	}
	follower, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		leader.Close()
		return nil, nil, err
	}
	if err := unix.IoctlSetWinsize(int(follower.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 200}); err != nil {
		leader.Close()
		follower.Close()
		return nil, nil, err
	}
	return leader, follower, nil
}

// terminalRun is otrace running on a pseudo-terminal, typed at like a
// person would.
type terminalRun struct {
	t      *testing.T
	cmd    *exec.Cmd
	pty    *os.File
	mu     sync.Mutex
	screen bytes.Buffer
	seen   int
	exited chan error
	read   chan struct{} // closed when the terminal has nothing more to read
}

// inTerminal starts otrace with args on a new pseudo-terminal, as the
// session leader with it as its controlling terminal, so that Ctrl-C is
// the terminal's SIGINT.
func inTerminal(t *testing.T, env []string, args ...string) *terminalRun {
	t.Helper()
	leader, follower, err := openPTY()
	if err != nil {
		unavailable(t, "no pseudo-terminal: %v", err)
	}
	cmd := exec.Command(otraceBinary(t), args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = follower, follower, follower
	cmd.Env = append(os.Environ(), append([]string{"TERM=xterm"}, env...)...)
	cmd.Dir = t.TempDir()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	follower.Close()
	tr := &terminalRun{t: t, cmd: cmd, pty: leader, exited: make(chan error, 1), read: make(chan struct{})}
	go func() {
		defer close(tr.read)
		buf := make([]byte, 4096)
		for {
			n, err := leader.Read(buf)
			tr.mu.Lock()
			tr.screen.Write(buf[:n])
			tr.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { tr.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		leader.Close()
	})
	return tr
}

// typeKeys writes keys to the terminal.
func (tr *terminalRun) typeKeys(keys string) {
	tr.t.Helper()
	if _, err := tr.pty.Write([]byte(keys)); err != nil {
		tr.t.Fatalf("typing %q: %v", keys, err)
	}
}

var escapes = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// expect waits until the terminal shows want after what was seen before,
// and moves past it; it returns what came before want, without escape
// sequences.
func (tr *terminalRun) expect(want string, within time.Duration) string {
	tr.t.Helper()
	deadline := time.Now().Add(within)
	for {
		tr.mu.Lock()
		text := tr.screen.String()[tr.seen:]
		tr.mu.Unlock()
		if i := strings.Index(text, want); i >= 0 {
			tr.seen += i + len(want)
			return escapes.ReplaceAllString(text[:i], "")
		}
		if time.Now().After(deadline) {
			tr.t.Fatalf("the terminal did not show %q within %v; it shows:\n%s", want, within, escapes.ReplaceAllString(text, ""))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// line types a line and waits for the next prompt; it returns what the
// line printed.
func (tr *terminalRun) line(l string) string {
	tr.t.Helper()
	tr.typeKeys(l + "\r")
	return tr.expect("otrace> ", 20*time.Second)
}

// rest is what the terminal showed after the last expect, without
// escape sequences.
func (tr *terminalRun) rest() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return escapes.ReplaceAllString(tr.screen.String()[tr.seen:], "")
}

// wait waits for otrace to exit and returns its exit status.
func (tr *terminalRun) wait() int {
	tr.t.Helper()
	select {
	case err := <-tr.exited:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			tr.t.Fatal(err)
		}
		select { // the last output, up to the terminal's hang-up
		case <-tr.read:
		case <-time.After(5 * time.Second):
		}
		return tr.cmd.ProcessState.ExitCode()
	case <-time.After(20 * time.Second):
		tr.t.Fatalf("otrace did not exit within 20s:\n%s", tr.rest())
		return -1
	}
}

func TestATerminalSessionEditsCompletesAndSurvivesCtrlC(t *testing.T) {
	rec := fixture(t)
	state := t.TempDir()
	tr := inTerminal(t, []string{"XDG_STATE_HOME=" + state}, "repl", "--input", rec)
	tr.expect("otrace> ", 20*time.Second)
	tr.line(`x := 4`)
	if out := tr.line(`x * 10`); !strings.Contains(out, "40") {
		t.Errorf("x * 10 printed %q", out)
	}

	// Tab completes a probe name in the line being edited; Ctrl-C then
	// clears the line.
	tr.typeKeys(`otrace.on("sched:sched_sw` + "\t")
	tr.expect(`sched:sched_switch`, 10*time.Second)
	tr.typeKeys("\x03")
	tr.expect("otrace> ", 10*time.Second)

	// A function over several lines, with the continuation prompt.
	tr.typeKeys("f := func() {\r")
	tr.expect("...> ", 10*time.Second)
	tr.typeKeys("return x + 3\r")
	tr.expect("...> ", 10*time.Second)
	tr.typeKeys("}\r")
	tr.expect("otrace> ", 10*time.Second)
	if out := tr.line(`f()`); !strings.Contains(out, "7") {
		t.Errorf("f() printed %q", out)
	}

	// Ctrl-C while a statement runs interrupts it, not the session.
	tr.typeKeys("for {}\r")
	time.Sleep(300 * time.Millisecond)
	tr.typeKeys("\x03")
	if out := tr.expect("otrace> ", 10*time.Second); !strings.Contains(out, "interrupted") {
		t.Errorf("Ctrl-C during for {} printed %q", out)
	}
	if out := tr.line(`x`); !strings.Contains(out, "4") {
		t.Errorf("after the interrupt, x printed %q", out)
	}

	// Ctrl-D leaves, and the history is kept.
	tr.typeKeys("\x04")
	if code := tr.wait(); code != 0 {
		t.Errorf("exit status %d after Ctrl-D", code)
	}
	hist, err := os.ReadFile(filepath.Join(state, "otrace", "history"))
	if err != nil || !strings.Contains(string(hist), "x := 4\n") || !strings.Contains(string(hist), "for {}\n") {
		t.Errorf("history file: %v\n%s", err, hist)
	}
}

func TestSIGTERMEndsTheSessionAsCtrlDDoes(t *testing.T) {
	tr := inTerminal(t, []string{"XDG_STATE_HOME=" + t.TempDir()}, "repl")
	tr.expect("otrace> ", 20*time.Second)
	tr.line(`otrace.end(func() { otrace.printf("end handler ran\n") })`)
	tr.line(`otrace.every("10ms", func() {})`)
	if out := tr.line(`:start`); !strings.Contains(out, "tracing started") {
		t.Fatalf(":start printed %q", out)
	}
	if err := tr.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := tr.wait(); code != 0 {
		t.Errorf("exit status %d after SIGTERM", code)
	}
	if out := tr.rest(); !strings.Contains(out, "end handler ran") || !strings.Contains(out, "(terminated by SIGTERM)") {
		t.Errorf("after SIGTERM the terminal shows:\n%s", out)
	}
}
