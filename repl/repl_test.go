package repl

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestStateStaysAcrossLinesAndFunctionsSpanLines(t *testing.T) {
	s := startREPL(t, Config{})
	out := s.send(
		`x := 20`,
		`double := func(a) {`,
		`  if a > 100 {`,
		`    return a`,
		`  }`,
		`  return a * 2`,
		`}`,
		`double(x) + 2`,
		`m := {a: [1, 2,`,
		`3]}`,
		`len(m.a)`,
		`undefined`,
	)
	if got := strings.TrimSpace(out); got != "42\n3" {
		t.Errorf("printed %q, want 42 and 3", got)
	}
	// A command inside a pending input is Tengo, not a command: Ctrl-C
	// is the way out; here the input is completed instead.
	expect(t, "a map across lines", s.send(`n := {`, `k: 1}`, `n.k`), "1\n")
}

func TestAFailedLineLeavesEarlierStateIntact(t *testing.T) {
	s := startREPL(t, Config{})
	s.send(`a := 1`)
	out := s.send(`y := 2; z := nope`)
	expect(t, "a compile error", out, ":1:14: unresolved reference 'nope'", "    y := 2; z := nope\n", "^")
	if !regexp.MustCompile(`error: in\[\d+\]:1:14`).MatchString(out) {
		t.Errorf("the error is not at in[N]:1:14:\n%s", out)
	}
	expect(t, "a variable of the failed line", s.send(`y`), "unresolved reference 'y'")
	expect(t, "1/0", s.send(`1/0`), ":1:1: integer division by zero")
	out = s.send(`g := func() { return 7 }; h := 1 / 0`)
	expect(t, "a function on a line that fails at run time", out, "integer division by zero")
	expect(t, "its name is forgotten", s.send(`g`), "unresolved reference 'g'")
	expect(t, "and can be defined again", s.send(`g := 8; g + a`), "9\n")
	expect(t, "a runtime error", s.send(`a + "s"`), ":1:1: invalid operation: int + string")
	expect(t, "the state after it all", s.send(`a`), "1\n")
	expect(t, "redefining with :=", s.send(`a := 3`), "'a' redeclared")
}

// scripted is a lineReader that returns lines, or errAborted for "^C".
type scripted struct{ lines []string }

func (s *scripted) Prompt(string) (string, error) {
	if len(s.lines) == 0 {
		return "", io.EOF
	}
	l := s.lines[0]
	s.lines = s.lines[1:]
	if l == "^C" {
		return "", errAborted
	}
	return l, nil
}
func (s *scripted) Remember(string) {}
func (s *scripted) Close() error    { return nil }

func TestCtrlCAtThePromptDropsAPendingInput(t *testing.T) {
	out := &safeBuffer{}
	r, err := New(Config{Stdout: out, Stderr: out})
	if err != nil {
		t.Fatal(err)
	}
	r.in = &scripted{lines: []string{`v := 5`, `g := func() {`, `  return 1`, `^C`, `v`, `g`, `:quit`, `v`}}
	if err := r.Loop(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	expect(t, "after Ctrl-C", got, "\n5\n", "unresolved reference 'g'")
	if strings.Count(got, "5\n") != 1 {
		t.Errorf("the input after :quit ran:\n%s", got)
	}
}

func TestCommandsReportMisuse(t *testing.T) {
	s := startREPL(t, Config{})
	out := s.send(`:frob`, `:sta`, `:detach x`, `:stop`, `:pause`, `:save`, `:clear nothing`, `:help nonsense`)
	expect(t, "misuse", out,
		"unknown command :frob; :help lists the commands",
		"unknown command :sta; did you mean :start, :stats?",
		`"x" is not a handler number`,
		"tracing is not running",
		"usage: :save FILE",
		"nothing is not an aggregation",
		`no help on "nonsense"`,
	)
	expect(t, "help", s.send(`:help`, `:help count`, `:help maps`, `:help event`), ":detach N", "otrace.count([NAME]", ":maps\n", "e.copy()")
}

func TestARecordingIsExploredPlayedAndPlayedAgain(t *testing.T) {
	rec := fixture(t)
	s := startREPL(t, onRecording(t, rec))
	expect(t, ":list", s.send(`:list sched`), "sched:sched_switch\n", "sched:sched_wakeup\n", "3 probes")
	expect(t, ":fields", s.send(`:fields sched:sched_switch`), "e.prev_comm", "e.next_pid", "every event also has e.name")
	expect(t, ":help PROBE", s.send(`:help sched:sched_wakeup`), "e.target_cpu")
	s.send(
		`c := otrace.count("sw")`,
		`n := 0`,
		`otrace.on("sched:sched_switch", func(e) { c.inc(e.prev_comm); n += 1 })`,
		`otrace.end(func() { otrace.printf("end n=%d\n", n) })`,
	)
	expect(t, "before :start", s.send(`:handlers`), "tracing not started", "sched:sched_switch", "]:1:43", "end")
	out := s.send(`:start`)
	expect(t, "the first play", out, "playing "+rec, "end n=2000\n", "@sw[", "otrace: 2,000 events, 42 lost, 0 handler errors")
	expect(t, ":maps", s.send(`:maps`), "@sw[bash]: ")
	out = s.send(`:handlers`)
	expect(t, ":handlers after the play", out, "stopped (end of input)", "2,000        0        2,000")
	// A second play starts the counts over; the script's state goes on.
	out = s.send(`:start`)
	expect(t, "the second play", out, "end n=4000\n", "otrace: 2,000 events")
	expect(t, ":clear", s.send(`:clear sw`, `:maps`), "cleared aggregation @sw", "no aggregation")
	s.send(`:start`, `m := {}`, `m["k"] = 3`)
	expect(t, ":clear by variable", s.send(`:maps`, `:clear c`, `:clear m`, `:maps`), `m = {"k": 3}`, "cleared aggregation c", "cleared map m", "no aggregation")
	if out := s.send(`:maps`); strings.Contains(out, "@sw") {
		t.Errorf("the cleared aggregation still prints:\n%s", out)
	}
	expect(t, ":stats", s.send(`:stats`), "events          2,000", "lost            42", "sched:sched_switch")
}

func TestHandlersAttachAndDetachWhileARecordingPlays(t *testing.T) {
	rec := fixture(t)
	s := startREPL(t, onRecording(t, rec))
	// A begin handler attaches another handler while the recording plays,
	// as a line typed at the prompt would, then detaches the first one.
	out := s.send(
		`sw := 0`,
		`wake := 0`,
		`otrace.on("sched:sched_switch", func(e) { sw += 1 })`,
		`otrace.on("sched:sched_wakeup", func(e) { wake += 1 })`,
		`:detach 1`,
		`:handlers`,
	)
	expect(t, "detached before the start", out, "detached #1 sched:sched_wakeup")
	s.send(`:start`)
	expect(t, "only the attached handler ran", s.send(`[sw, wake]`), "[2000, 0]")
	if out := s.send(`:detach 1`); !strings.Contains(out, "there is no handler 1") {
		t.Errorf("detaching twice: %s", out)
	}
}

func TestSavedInputRunsAsAScript(t *testing.T) {
	rec := fixture(t)
	dir := t.TempDir()
	saved := filepath.Join(dir, "s.tengo")
	s := startREPL(t, onRecording(t, rec))
	s.send(
		`c := otrace.count("sw")`,
		`sleeps := 0`,
		`otrace.on("sched:sched_switch", func(e) {`,
		`  c.inc(e.prev_comm)`,
		`  if e.prev_state == 1 { sleeps += 1 }`,
		`})`,
		`c`,             // an inspection: not saved
		`bad := nope`,   // a compile error: not saved
		`oops := 1 / 0`, // a runtime error: not saved
		`unwanted := otrace.on("sched:sched_wakeup", func(e) {})`,
		`otrace.on("sched:sched_wakeup", func(e) { sleeps += 1000000 })`,
		`:detach 2`,
		`otrace.end(func() { otrace.printf("sleeps %d\n", sleeps) })`,
	)
	replOut := s.send(`:start`)
	expect(t, "the REPL's run", replOut, "sleeps ")
	expect(t, ":save", s.send(`:save `+saved), "saved 6 inputs to "+saved)
	text, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	for _, no := range []string{"nope", "1 / 0", "\nc\n"} {
		if strings.Contains(string(text), no) {
			t.Errorf("the saved script has %q:\n%s", no, text)
		}
	}
	expect(t, "the saved script", string(text), "// detached in the REPL:\n// otrace.on(\"sched:sched_wakeup\", func(e) { sleeps += 1000000 })", "unwanted := otrace.on")

	cmd := exec.Command(otraceBinary(t), "run", "--input", rec, saved)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("otrace run of the saved script: %v\n%s", err, out)
	}
	// The same lines, in the same order: the sleep count and every @sw
	// line of the aggregation.
	want := regexp.MustCompile(`(?m)^(sleeps \d+|@sw\[.*)$`)
	if got, w := want.FindAllString(string(out), -1), want.FindAllString(replOut, -1); strings.Join(got, "\n") != strings.Join(w, "\n") || len(w) < 5 {
		t.Errorf("otrace run printed\n%s\nthe REPL printed\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
	}
}

func TestInterruptStopsALoopAndTheSessionGoesOn(t *testing.T) {
	s := startREPL(t, Config{})
	s.send(`kept := "here"`)
	go func() {
		time.Sleep(200 * time.Millisecond)
		s.r.Interrupt()
	}()
	start := time.Now()
	out := s.send(`for {}`)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the interrupt took %v", took)
	}
	expect(t, "the interrupted loop", out, ":1:1: interrupted")
	expect(t, "after it", s.send(`kept`), `"here"`)
}

func TestLoadRunsAScriptIntoTheSession(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "lib.tengo")
	os.WriteFile(lib, []byte("greeting := \"hello\"\nshout := func(s) { return s + \"!\" }\n"), 0o644)
	bad := filepath.Join(dir, "bad.tengo")
	os.WriteFile(bad, []byte("x := 1\ny := x +\n"), 0o644)
	s := startREPL(t, Config{Script: lib})
	expect(t, "the script loaded at the start", s.send(`shout(greeting)`), `"hello!"`)
	out := s.send(`:load ` + bad)
	expect(t, "a script that does not compile", out, bad+":2:", "was not loaded")
	expect(t, "its names", s.send(`x`), "unresolved reference 'x'")
	expect(t, "a missing script", s.send(`:load `+filepath.Join(dir, "none.tengo")), "cannot read the script")
}

func TestExportWritesAnAggregationOrAProfile(t *testing.T) {
	rec := fixture(t)
	dir := t.TempDir()
	s := startREPL(t, onRecording(t, rec))
	s.send(
		`c := otrace.count("sw")`,
		`p := otrace.profile()`,
		`otrace.on("sched:sched_switch", func(e) { c.inc(e.prev_comm) })`,
		`otrace.on("profile:hz:99", func(e) { p.add(e.stack, [1]) })`,
		`:start`,
	)
	txt, folded := filepath.Join(dir, "sw.txt"), filepath.Join(dir, "cpu.folded")
	out := s.send(`:export c `+txt, `:export p `+folded, `:export nothing x.txt`, `:export c`)
	expect(t, ":export", out, "wrote c to "+txt, "wrote p to "+folded, "no variable nothing", "usage: :export NAME FILE")
	if b, err := os.ReadFile(txt); err != nil || !strings.Contains(string(b), "@sw[bash]") {
		t.Errorf("the exported aggregation: %v\n%s", err, b)
	}
	if b, err := os.ReadFile(folded); err != nil || len(b) == 0 {
		t.Errorf("the exported profile: %v\n%s", err, b)
	}
}

func TestTimersRunAndOtraceExitStopsTracing(t *testing.T) {
	s := startREPL(t, Config{})
	s.send(`otrace.exit()`) // not tracing: nothing to stop
	s.send(`ticks := 0`, `otrace.every("10ms", func() { ticks += 1 })`)
	expect(t, ":start", s.send(`:start`), "tracing started (0 probes)")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.send(`ticks > 3`), "true") {
		if time.Now().After(deadline) {
			t.Fatal("the timer did not run")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.send(`otrace.exit()`)
	deadline = time.Now().Add(10 * time.Second)
	for out := ""; !strings.Contains(out, "stopped (otrace.exit() called)"); out = s.send(`:stats`) {
		if time.Now().After(deadline) {
			t.Fatalf("otrace.exit() did not stop tracing: %s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	expect(t, "a new start", s.send(`:start`, `:stop`), "tracing started", "(:stop)")
}

func TestAnInputLeftOpenAtTheEndIsReported(t *testing.T) {
	out := &safeBuffer{}
	r, err := New(Config{Stdout: out, Stderr: out})
	if err != nil {
		t.Fatal(err)
	}
	r.in = &scripted{lines: []string{`h := func() {`, `  return 2`}}
	if err := r.Loop(); err != nil {
		t.Fatal(err)
	}
	expect(t, "the open input", out.String(), "in[1]:2:11: expected '}', found 'EOF'", "(the input ended inside it)")
}
