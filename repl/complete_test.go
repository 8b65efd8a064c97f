package repl

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// direct is a REPL whose prompt goroutine is the test's: lines go in
// through handle, completions are asked for directly.
func direct(t *testing.T, cfg Config) (*REPL, *safeBuffer) {
	t.Helper()
	out := &safeBuffer{}
	cfg.Stdout, cfg.Stderr = out, out
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.eng.shutdown("test over") })
	return r, out
}

func TestCompletion(t *testing.T) {
	rec := fixture(t)
	r, out := direct(t, onRecording(t, rec))
	for _, l := range []string{
		`agg := otrace.count("sw")`,
		`k := otrace.counter("sched:sched_switch")`,
		`settings := {alpha: 1, alpine: 2, beta: 3}`,
		`text := import("text")`,
		`handler := func(ev) { return ev }`,
	} {
		r.handle(l)
	}
	if strings.Contains(out.String(), "error") {
		t.Fatalf("setting up: %s", out.String())
	}
	tests := []struct {
		name    string
		pending []string // lines of an open input before this one
		line    string
		head    string
		want    []string // exactly, or
		has     []string // among them
	}{
		{name: "a command", line: ":st", head: ":", want: []string{"start", "stats", "stop"}},
		{name: "a command after spaces", line: "  :li", head: "  :", want: []string{"list"}},
		{name: "a probe after :fields", line: ":fields sched:sched_s", head: ":fields ", want: []string{"sched:sched_switch"}},
		{name: "a glob after :list", line: ":list *wake", head: ":list ", want: []string{"sched:sched_wakeup"}},
		{name: "a help topic", line: ":help cou", head: ":help ", want: []string{"count", "counter"}},
		{name: "a variable for :clear", line: ":clear ", head: ":clear ", want: []string{"agg", "settings"}},
		{name: "a global", line: "x := sett", head: "x := ", want: []string{"settings"}},
		{name: "a builtin and a keyword", line: "le", head: "", has: []string{"len"}},
		{name: "no hidden names", line: "__", head: "", want: nil},
		{name: "the otrace module", line: "otrace.cou", head: "otrace.", want: []string{"count", "counter"}},
		{name: "a map's keys", line: "settings.al", head: "settings.", want: []string{"alpha", "alpine"}},
		{name: "a module's functions", line: "y := text.to_u", head: "y := text.", want: []string{"to_upper"}},
		{name: "an aggregation's methods", line: "agg.", head: "agg.", has: []string{"inc", "add", "top", "print"}},
		{name: "a counter's methods", line: "k.", head: "k.", want: []string{"by_event", "rate", "value"}},
		{name: "a probe in otrace.on", line: `otrace.on("sched:sched_sw`, head: `otrace.on("`, want: []string{"sched:sched_switch"}},
		{name: "a glob in otrace.on", line: `otrace.on("sched:*wake`, head: `otrace.on("`, want: []string{"sched:sched_wakeup"}},
		{name: "a probe in an array", line: `otrace.on(["sched:sched_switch", "sched:sched_w`, head: `otrace.on(["sched:sched_switch", "`, want: []string{"sched:sched_wakeup"}},
		{name: "a probe in otrace.counter", line: `otrace.counter("prof`, head: `otrace.counter("`, want: []string{"profile:hz:99"}},
		{name: "no probe in another string", line: `x := "sched:sch`, head: `x := "sched:sch`, want: nil},
		{name: "event fields in a handler", line: `otrace.on("sched:sched_switch", func(e) { x := e.prev_`, head: `otrace.on("sched:sched_switch", func(e) { x := e.`,
			want: []string{"prev_comm", "prev_pid", "prev_prio", "prev_state"}},
		{name: "event fields on a later line of a handler", pending: []string{`otrace.on("sched:sched_wakeup", {filter: "prio < 100"}, func(ev) {`, `  if ev.pid > 0 {`},
			line: `    otrace.printf("%s\n", ev.`, head: `    otrace.printf("%s\n", ev.`, has: []string{"comm", "target_cpu", "stack", "copy"}},
		{name: "no event fields after the handler closed", pending: []string{`otrace.on("sched:sched_switch", func(e) { return 1 })`},
			line: `e.prev`, head: `e.`, want: nil},
		{name: "a function's parameter outside otrace.on", line: `ev.`, head: `ev.`, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.pending = tt.pending
			defer func() { r.pending = nil }()
			head, got, tail := r.complete(tt.line+"TAIL", len([]rune(tt.line)))
			if head != tt.head || tail != "TAIL" {
				t.Errorf("head %q tail %q, want %q and TAIL", head, tail, tt.head)
			}
			if tt.has != nil {
				for _, w := range tt.has {
					if !slices.Contains(got, w) {
						t.Errorf("completions %q lack %q", got, w)
					}
				}
				return
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("completions %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFileNamesComplete(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "trace.tengo"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "tracedir"), 0o755)
	r, _ := direct(t, Config{})
	head, got, _ := r.complete(":load "+dir+"/tr", len(":load "+dir+"/tr"))
	want := []string{filepath.Join(dir, "trace.tengo"), filepath.Join(dir, "tracedir") + "/"}
	if head != ":load " || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %q %q, want %q", head, got, want)
	}
}
