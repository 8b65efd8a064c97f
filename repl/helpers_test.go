package repl

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"otrace/collectors/replay"
)

// liveRequired is OTRACE_LIVE=1: a live test that cannot run fails.
var liveRequired = os.Getenv("OTRACE_LIVE") == "1"

// unavailable skips a test this machine cannot run, or fails it when
// OTRACE_LIVE=1 demands live tests.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if liveRequired {
		t.Fatalf("OTRACE_LIVE=1 but this test cannot run: %s", msg)
	}
	t.Skipf("%s (set OTRACE_LIVE=1 to make this a failure)", msg)
}

// safeBuffer is the REPL's output as the test reads it.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// typist is a REPL running in this process on a pipe: the test types
// lines and reads what the REPL printed since.
type typist struct {
	t     *testing.T
	r     *REPL
	in    *io.PipeWriter
	out   *safeBuffer
	seen  int
	marks int
	done  chan error
}

// startREPL starts a REPL reading from a pipe, on the recording, the
// live source or nothing as cfg says.
func startREPL(t *testing.T, cfg Config) *typist {
	t.Helper()
	pr, pw := io.Pipe()
	out := &safeBuffer{}
	cfg.Stdin, cfg.Stdout, cfg.Stderr = pr, out, out
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &typist{t: t, r: r, in: pw, out: out, done: make(chan error, 1)}
	go func() { s.done <- r.Loop() }()
	t.Cleanup(func() { s.quit() })
	s.send() // past the banner (and a script given to load)
	return s
}

// quit ends the input and waits for the REPL to clean up.
func (s *typist) quit() string {
	s.t.Helper()
	s.in.Close()
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			s.t.Errorf("Loop: %v", err)
		}
	case <-time.After(20 * time.Second):
		s.t.Fatalf("the REPL did not end 20s after its input did:\n%s", s.out.String())
	}
	return s.since()
}

func (s *typist) since() string {
	all := s.out.String()
	out := all[s.seen:]
	s.seen = len(all)
	return out
}

// send types lines and returns what the REPL printed until it read them
// all: a mark expression typed after them comes back when they ran.
func (s *typist) send(lines ...string) string {
	s.t.Helper()
	s.marks++
	mark := fmt.Sprintf("mark-%d", s.marks)
	for _, l := range append(lines, fmt.Sprintf("%q", mark)) {
		if _, err := io.WriteString(s.in, l+"\n"); err != nil {
			s.t.Fatalf("typing %q: %v", l, err)
		}
	}
	want := fmt.Sprintf("%q\n", mark)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		all := s.out.String()
		if i := strings.Index(all[s.seen:], want); i >= 0 {
			out := all[s.seen : s.seen+i]
			s.seen += i + len(want)
			return out
		}
		time.Sleep(2 * time.Millisecond)
	}
	s.t.Fatalf("the REPL did not run %q within 30s; its output:\n%s", lines, s.out.String()[s.seen:])
	return ""
}

// expect fails the test unless out contains each of want.
func expect(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s: the output lacks %q:\n%s", what, w, out)
		}
	}
}

// fixture writes the replay package's synthetic recording (2000
// context switches) and returns its path.
func fixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sched.rec")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := replay.WriteSchedFixture(f, replay.FixtureOptions{Switches: 2000}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// onRecording is a Config that explores the fixture.
func onRecording(t *testing.T, path string) Config {
	t.Helper()
	r, err := replay.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return Config{Source: r, Recording: path}
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// otraceBinary builds cmd/otrace once for the tests that run it.
func otraceBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "otrace-repl-test-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "otrace")
		out, err := exec.Command("go", "build", "-o", binary, "otrace/cmd/otrace").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build otrace/cmd/otrace: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}
