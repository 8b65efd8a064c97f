package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"otrace/collectors/replay"
)

func TestReplExploresARecordingWithAScriptLoaded(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "sched.rec")
	f, err := os.Create(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := replay.WriteSchedFixture(f, replay.FixtureOptions{Switches: 100}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	script := filepath.Join(dir, "count.tengo")
	os.WriteFile(script, []byte("n := 0\notrace.on(\"sched:sched_switch\", func(e) { n += 1 })\n"), 0o644)
	var out, errb strings.Builder
	code := dispatch([]string{"repl", "--input", rec, script, "arg1"}, strings.NewReader(":start\nn\notrace.args\n"), &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"loaded " + script, "playing " + rec, "\n100\n", `["arg1"]`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errb.String(), "otrace: 100 events") {
		t.Errorf("stderr lacks the summary:\n%s", errb.String())
	}
}

func TestReplUsage(t *testing.T) {
	out, _, code := run(t, "help", "repl")
	if code != exitOK || !strings.Contains(out, "otrace repl [flags] [SCRIPT") || !strings.Contains(out, "--input") {
		t.Errorf("help repl: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"repl", "--frob"}, {"repl", "/nonexistent.tengo"}, {"repl", "--input", "x.rec", "--cpu", "0"}} {
		if _, errs, code := run(t, args...); code != exitUsage || errs == "" {
			t.Errorf("%v: exit %d, stderr %q; want a usage error", args, code, errs)
		}
	}
}
