package otracemod_test

import (
	"errors"
	"strings"
	"testing"

	"otrace/runtime/event"
)

// queue adds the same four records to every test: two switches, an exec
// and a sys_enter.
func queue(t *testing.T, r *rig) {
	r.src.record(t, "sched:sched_switch", 1000, map[string]any{"next_comm": "bash", "next_pid": 100})
	r.src.record(t, "sched:sched_process_exec", 2000, map[string]any{"filename": "/bin/ls", "pid": 7})
	r.src.record(t, "raw_syscalls:sys_enter", 3000, map[string]any{"id": 257})
	r.src.record(t, "sched:sched_switch", 4000, map[string]any{"next_comm": "swapper/0", "next_pid": 0})
}

func TestOnAttachesHandlersToProbes(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{
			name: "a string names one event",
			src:  `otrace.on("sched:sched_switch", func(e) { otrace.printf("%s %s %d\n", e.name, e.next_comm, e.next_pid) })`,
			want: "sched:sched_switch bash 100\nsched:sched_switch swapper/0 0\n",
		},
		{
			name: "an array names several events",
			src:  `otrace.on(["sched:sched_process_exec", "raw_syscalls:sys_enter"], func(e) { otrace.printf("%s\n", e.name) })`,
			want: "sched:sched_process_exec\nraw_syscalls:sys_enter\n",
		},
		{
			name: "an immutable array works as an array",
			src:  `otrace.on(immutable(["raw_syscalls:sys_enter"]), func(e) { otrace.printf("%d\n", e.id) })`,
			want: "257\n",
		},
		{
			name: "a glob matches the catalog's names",
			src:  `otrace.on("sched:sched_*", func(e) { otrace.printf("%s %d\n", e.name, e.time) })`,
			want: "sched:sched_switch 1000\nsched:sched_process_exec 2000\nsched:sched_switch 4000\n",
		},
		{
			name: "the tracepoint: prefix names the same event",
			src:  `otrace.on("tracepoint:sched:sched_process_exec", func(e) { otrace.printf("%s %d\n", e.filename, e.field("pid")) })`,
			want: "/bin/ls 7\n",
		},
		{
			name: "overlapping probes call the handler once per event",
			src:  `otrace.on(["sched:*", "sched:sched_switch"], func(e) { otrace.printf("%s\n", e.name) })`,
			want: "sched:sched_switch\nsched:sched_process_exec\nsched:sched_switch\n",
		},
		{
			name: "a handler without a parameter is called without the event",
			src:  `n := 0; otrace.on("sched:sched_switch", func() { n += 1; otrace.printf("%d\n", n) })`,
			want: "1\n2\n",
		},
		{
			name: "a variadic handler gets the event as its one argument",
			src:  `otrace.on("raw_syscalls:sys_enter", func(...a) { otrace.printf("%d %d\n", len(a), a[0].id) })`,
			want: "1 257\n",
		},
		{
			name: "an empty options map is accepted",
			src:  `otrace.on("raw_syscalls:sys_enter", {}, func(e) { otrace.printf("%d\n", e.id) })`,
			want: "257\n",
		},
		{
			name: "handlers of one event run in the order they were attached",
			src: `otrace.on("raw_syscalls:sys_enter", func(e) { otrace.printf("first\n") })
otrace.on("raw_syscalls:*", func(e) { otrace.printf("second\n") })`,
			want: "first\nsecond\n",
		},
		{
			name: "a handler's error is reported and later events still run",
			src:  `otrace.on("sched:sched_switch", func(e) { if e.next_pid == 100 { x := e.nope }; otrace.printf("%s\n", e.next_comm) })`,
			want: "swapper/0\n",
		},
		{
			name: "an event kept past its handler refuses to be read, a copy does not",
			src: `kept := undefined; copied := undefined
otrace.on("sched:sched_switch", func(e) { kept = e; copied = e.copy() })
otrace.end(func() { otrace.printf("%s\n", copied.next_comm); otrace.printf("%s\n", kept.next_comm) })`,
			want: "swapper/0\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, rigConfig{})
			r.mustLoad(tt.src)
			queue(t, r)
			r.run()
			if got := r.out.String(); got != tt.want {
				t.Errorf("output:\n%s\nwant:\n%s\nstderr:\n%s", got, tt.want, r.stderr.String())
			}
			if strings.Contains(tt.name, "error") || strings.Contains(tt.name, "refuses") {
				if r.stderr.Len() == 0 {
					t.Error("no error was reported")
				}
			} else if r.stderr.Len() > 0 {
				t.Errorf("stderr: %s", r.stderr.String())
			}
		})
	}
}

func TestHandlerErrorsNameTheHandler(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.mustLoad("x := 1\notrace.on(\"sched:sched_switch\", func(e) {\n\ty := e.next_pdi\n})\n" +
		"otrace.end(func() { kept := 1; return kept.x.y })\n")
	queue(t, r)
	r.run()
	got := r.stderr.String()
	for _, want := range []string{
		`otrace: t.tengo:3:9: sched:sched_switch has no field "next_pdi" (did you mean next_pid?)`,
		"in the sched:sched_switch handler at t.tengo:3:7 (first occurrence; repeats are counted)",
		"in the end handler at t.tengo:5:29",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, got)
		}
	}
	if a := r.sess.Attachments()[0]; a.Stats.Errors.Total != 2 || a.Stats.Calls != 2 {
		t.Errorf("handler stats: %d calls, %d errors; want 2 and 2", a.Stats.Calls, a.Stats.Errors.Total)
	}
}

func TestOnRefusesBadArguments(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"too few arguments", `otrace.on("sched:sched_switch")`, "otrace.on(probe, [opts,] func(e) {...}): want 2 or 3 arguments, got 1"},
		{"too many arguments", `otrace.on("sched:sched_switch", {}, func(e) {}, 1)`, "want 2 or 3 arguments, got 4"},
		{"a function of two parameters", `otrace.on("sched:sched_switch", func(a, b) {})`, "otrace.on: the function takes 2 parameters; it gets one, the event: func(e) {...}"},
		{"a variadic function after a parameter", `otrace.on("sched:sched_switch", func(a, ...b) {})`, "the function takes 2 parameters"},
		{"a number as the handler", `otrace.on("sched:sched_switch", 5)`, "otrace.on: want a function or an aggregation's update (c.by(\"pid\")), got int"},
		{"a Go builtin as the handler", `otrace.on("sched:sched_switch", len)`, "otrace.on: want a function or an aggregation's update (c.by(\"pid\")), got builtin-function"},
		{"a number as the probe", `otrace.on(5, func(e) {})`, `otrace.on: the probe must be a string like "sched:sched_switch" or an array of them, not int`},
		{"an empty list of probes", `otrace.on([], func(e) {})`, "otrace.on: the list of probes is empty"},
		{"a list with a number", `otrace.on(["sched:sched_switch", 2], func(e) {})`, "otrace.on: probe 2 is int, not a string"},
		{"options that are not a map", `otrace.on("sched:sched_switch", 5, func(e) {})`, `otrace.on: options must be a map like {filter: "prev_state == 1"}, not int`},
		{"unknown option keys", `otrace.on("sched:sched_switch", {zz: 1, stack: "kernel"}, func(e) {})`, "otrace.on: unknown option(s) zz; known: filter, stack, stack_size"},
		{"a bad stack mode", `otrace.on("sched:sched_switch", {stack: "all"}, func(e) {})`, `otrace.on: stack must be "kernel", "user", "both" or "dwarf", not "all"`},
		{"an unknown probe", `otrace.on("sched:sched_swtich", func(e) {})`, `unknown event "sched:sched_swtich"; did you mean sched:sched_switch`},
		{"a probe in the wrong system", `otrace.on("irq:sched_switch", func(e) {})`, `unknown event "irq:sched_switch"; did you mean sched:sched_switch?`},
		{"a glob that matches nothing", `otrace.on("nosuch:*", func(e) {})`, `probe "nosuch:*" matches no event`},
		{"a probe that does not parse", `otrace.on("sched", func(e) {})`, `probe "sched": want SYSTEM:EVENT`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, rigConfig{})
			err := r.load("x := 1\n" + tt.src + "\n")
			var he *event.HandlerError
			if !errors.As(err, &he) {
				t.Fatalf("load: %v (%T), want a *event.HandlerError", err, err)
			}
			if !strings.Contains(he.Msg, tt.want) {
				t.Errorf("Msg %q does not contain %q", he.Msg, tt.want)
			}
			if !strings.HasPrefix(he.Pos, "t.tengo:2:") {
				t.Errorf("Pos %q, want the otrace.on call on line 2", he.Pos)
			}
			if n := len(r.sess.Attachments()); n != 0 {
				t.Errorf("%d handlers attached, want none", n)
			}
		})
	}
}

func TestRegisteringOnceTracingRunsIsRefused(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"otrace.on in a begin handler", `otrace.begin(func() { otrace.on("sched:sched_switch", func(e) {}) })`,
			"otrace.on: handlers must be attached at the top level of the script, before tracing starts"},
		{"otrace.on in an event handler", `otrace.on("raw_syscalls:sys_enter", func(e) { otrace.on("sched:sched_switch", func(e) {}) })`,
			"otrace.on: handlers must be attached at the top level of the script, before tracing starts"},
		{"otrace.begin in a handler", `otrace.on("raw_syscalls:sys_enter", func(e) { otrace.begin(func() {}) })`,
			"otrace.begin: tracing has already begun"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, rigConfig{})
			r.mustLoad(tt.src)
			before := len(r.sess.Attachments())
			queue(t, r)
			r.run()
			if !strings.Contains(r.stderr.String(), tt.want) {
				t.Errorf("stderr does not contain %q:\n%s", tt.want, r.stderr.String())
			}
			if n := len(r.sess.Attachments()); n != before {
				t.Errorf("%d handlers after the run, want %d", n, before)
			}
		})
	}
}

func TestEventsGetTheirOwnObjects(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.mustLoad(`
otrace.on("sched:sched_switch", func(e) { otrace.printf("a %s\n", e.next_comm) })
otrace.on(["sched:sched_process_exec", "sched:sched_switch"], func(e) { otrace.printf("b %s %v\n", e.name, e.has("filename")) })
`)
	queue(t, r)
	r.run()
	want := "a bash\nb sched:sched_switch false\nb sched:sched_process_exec true\na swapper/0\nb sched:sched_switch false\n"
	if got := r.out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s\nstderr: %s", got, want, r.stderr.String())
	}
	var names []string
	for _, ev := range r.src.enabled {
		names = append(names, ev.Name)
	}
	if got := strings.Join(names, ","); got != "sched:sched_switch,sched:sched_process_exec" {
		t.Errorf("enabled %s", got)
	}
}
