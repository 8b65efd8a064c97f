package filter

import (
	"testing"

	"otrace/runtime/event"
)

type matchCase struct {
	name  string
	event string // a testdata format, or "odd" for oddFormat
	expr  string
	set   func(p *payload)
	want  bool
}

func formatFor(t testing.TB, name string) *event.Format {
	if name == "odd" {
		return oddFormat(t)
	}
	return testFormat(t, name)
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := formatFor(t, c.event)
			flt := compile(t, c.expr, f)
			p := newPayload(t, f)
			if c.set != nil {
				c.set(p)
			}
			if got := flt.Match(p.raw); got != c.want {
				t.Errorf("%q (as %q) on %v: Match = %v, want %v", c.expr, flt, p, got, c.want)
			}
		})
	}
}

func TestIntegerComparisons(t *testing.T) {
	state := func(v int64) func(*payload) { return func(p *payload) { p.int("prev_state", v) } }
	pid := func(v int64) func(*payload) { return func(p *payload) { p.int("prev_pid", v) } }
	flags := func(v int64) func(*payload) { return func(p *payload) { p.int("common_flags", v) } }
	runMatchCases(t, []matchCase{
		{"equal values match", "sched_switch", "prev_state == 1", state(1), true},
		{"different values do not match", "sched_switch", "prev_state == 1", state(2), false},
		{"!= matches different values", "sched_switch", "prev_state != 1", state(2), true},
		{"a signed field below zero is less than zero", "sched_switch", "prev_state < 0", state(-1), true},
		{"a signed field compares signed with a negative value", "sched_switch", "prev_pid >= -5", pid(-3), true},
		{"a signed field below the negative bound fails >=", "sched_switch", "prev_pid >= -5", pid(-6), false},
		{"an unsigned field compares unsigned", "sched_switch", "common_flags > 100", flags(0xff), true},
		{"<= includes the bound", "sched_switch", "prev_pid <= 7", pid(7), true},
		{"< excludes the bound", "sched_switch", "prev_pid < 7", pid(7), false},
		{"> excludes the bound", "sched_switch", "prev_pid > 7", pid(7), false},
		{"& matches when a bit is shared", "sched_switch", "prev_state & 0x3", state(2), true},
		{"& fails when no bit is shared", "sched_switch", "prev_state & 0x3", state(4), false},
		{"& sees the top bit of a 64-bit field", "sched_switch", "prev_state & -0x8000000000000000", state(-1 << 63), true},
		{"hex values read as hex", "sched_switch", "prev_pid == 0x1F", pid(31), true},
		{"an uppercase 0X reads as hex", "sched_switch", "prev_pid == 0X1f", pid(31), true},
		{"a leading 0 reads as octal", "sched_switch", "prev_pid == 010", pid(8), true},
		{"negative hex reads as negative", "sched_switch", "prev_pid == -0x10", pid(-16), true},
		{"a value wider than the field is cut to its width", "sched_switch", "common_flags == 256", flags(0), true},
		{"a value cut to a signed width is sign-extended", "sched_switch", "prev_pid == 0xffffffff", pid(-1), true},
		{"a cut value compares in the field's type", "sched_switch", "prev_pid < 0xffffffff", pid(-2), true},
		{"the largest unsigned 64-bit value is accepted", "sys_enter", "common_type == 18446744073709551615", func(p *payload) { p.int("common_type", 0xffff) }, true},
		{"the smallest signed 64-bit value is accepted", "sys_enter", "id > -9223372036854775808", func(p *payload) { p.int("id", -1) }, true},
		{"a pointer compares as an unsigned address", "odd", "ptr > 0x1000", func(p *payload) { p.int("ptr", -1) }, true},
		{"a signed byte sign-extends", "odd", "tiny < 0", func(p *payload) { p.int("tiny", -1) }, true},
		{"a signed 16-bit field sign-extends", "odd", "small == -2", func(p *payload) { p.int("small", -2) }, true},
		{"common fields are filterable", "sched_process_exec", "common_pid == 42 && pid == 42", func(p *payload) { p.int("common_pid", 42).int("pid", 42) }, true},
	})
}

func TestStringComparisons(t *testing.T) {
	comm := func(s string) func(*payload) { return func(p *payload) { p.bytes("next_comm", s) } }
	file := func(s string) func(*payload) { return func(p *payload) { p.dyn("filename", s) } }
	runMatchCases(t, []matchCase{
		{"a char array equals its text", "sched_switch", `next_comm == "bash"`, comm("bash"), true},
		{"a char array does not equal a prefix of its text", "sched_switch", `next_comm == "bas"`, comm("bash"), false},
		{"a char array does not equal a longer text", "sched_switch", `next_comm == "bashful"`, comm("bash"), false},
		{"single quotes work like double quotes", "sched_switch", `next_comm == 'bash'`, comm("bash"), true},
		{"!= matches a different text", "sched_switch", `next_comm != "bash"`, comm("zsh"), true},
		{"!= fails on the same text", "sched_switch", `next_comm != "bash"`, comm("bash"), false},
		{"an empty string equals an empty array", "sched_switch", `next_comm == ""`, comm(""), true},
		{"a full array without a NUL equals a text it begins, as strncmp does", "sched_switch", `next_comm == "abcdefghijklmnopXYZ"`, comm("abcdefghijklmnop"), true},
		{"~ with a trailing * matches a prefix", "sched_switch", `next_comm ~ "post*"`, comm("postgres"), true},
		{"~ with a trailing * fails on another prefix", "sched_switch", `next_comm ~ "post*"`, comm("pgbouncer"), false},
		{"~ with * at both ends matches a substring", "sched_switch", `next_comm ~ "*gre*"`, comm("postgres"), true},
		{"a substring match looks past the NUL, as strnstr does", "sched_switch", `next_comm ~ "*cd*"`, comm("ab\x00cd"), true},
		{"~ without wildcards is equality", "sched_switch", `next_comm ~ "bash"`, comm("bash"), true},
		{"~ with ? matches one byte", "sched_switch", `next_comm ~ "ba?h"`, comm("bash"), true},
		{"~ with ? does not match the end", "sched_switch", `next_comm ~ "bash?"`, comm("bash"), false},
		{"~ with a class matches a member", "sched_switch", `next_comm ~ "kworker/[0-9]*"`, comm("kworker/3:1"), true},
		{"~ with a negated class rejects a member", "sched_switch", `next_comm ~ "kworker/[!0-9]*"`, comm("kworker/3:1"), false},
		{"~ with an inner * crosses slashes", "sched_switch", `next_comm ~ "k*1"`, comm("kworker/3:1"), true},
		{"a suffix written as a full glob works on arrays", "sched_switch", `next_comm ~ "*[s]h"`, comm("bash"), true},
		{"~ with a leading ! negates the match", "sched_switch", `next_comm ~ "!kworker*"`, comm("bash"), true},
		{"~ with a leading ! fails on a match", "sched_switch", `next_comm ~ "!kworker*"`, comm("kworker/0:0"), false},
		{"a lone * matches everything", "sched_switch", `next_comm ~ "*"`, comm(""), true},
		{"a dynamic string equals its text", "sched_process_exec", `filename == "/bin/ls"`, file("/bin/ls\x00"), true},
		{"a suffix match works on dynamic strings", "sched_process_exec", `filename ~ "*/ls"`, file("/bin/ls\x00"), true},
		{"a suffix match fails on another suffix", "sched_process_exec", `filename ~ "*/ls"`, file("/bin/cat\x00"), false},
		{"a prefix match works on dynamic strings", "sched_process_exec", `filename ~ "/usr/*"`, file("/usr/bin/ls\x00"), true},
		{"a dynamic string locator outside the payload reads as empty", "sched_process_exec", `filename == ""`, func(p *payload) { p.int("filename", 0x00100400) }, true},
		{"a __rel_loc string is found relative to its locator", "odd", `rel == "hello"`, func(p *payload) { p.dyn("rel", "hello\x00") }, true},
		{"an unsigned char array is a string, as in the kernel", "odd", `mac == "ab"`, func(p *payload) { p.bytes("mac", "ab") }, true},
	})
}

func TestPrecedenceAndGrouping(t *testing.T) {
	// a, b and c are prev_pid == 1, next_pid == 1 and prev_prio == 1.
	abc := func(a, b, c bool) func(*payload) {
		v := func(x bool) int64 {
			if x {
				return 1
			}
			return 0
		}
		return func(p *payload) { p.int("prev_pid", v(a)).int("next_pid", v(b)).int("prev_prio", v(c)) }
	}
	const a, b, c = "prev_pid == 1", "next_pid == 1", "prev_prio == 1"
	runMatchCases(t, []matchCase{
		{"&& binds tighter than || on the right", "sched_switch", a + " || " + b + " && " + c, abc(true, false, false), true},
		{"&& binds tighter than || on the left", "sched_switch", a + " && " + b + " || " + c, abc(false, false, true), true},
		{"parentheses override precedence", "sched_switch", "(" + a + " || " + b + ") && " + c, abc(true, false, false), false},
		{"! applies to the predicate that follows", "sched_switch", "!" + a + " || " + b, abc(false, false, false), true},
		{"! applies to a group", "sched_switch", "!(" + a + " || " + b + ")", abc(false, true, false), false},
		{"!! cancels out", "sched_switch", "!!" + a, abc(true, false, false), true},
		{"! binds tighter than &&", "sched_switch", "!" + a + " && " + b, abc(false, true, false), true},
		{"a chain of && needs every predicate", "sched_switch", a + " && " + b + " && " + c, abc(true, true, false), false},
		{"a chain of || needs any predicate", "sched_switch", a + " || " + b + " || " + c, abc(false, false, true), true},
		{"nested groups evaluate inside out", "sched_switch", "((" + a + ") && (" + b + " || !(" + c + ")))", abc(true, false, false), true},
		{"spacing does not matter", "sched_switch", "prev_pid==1&&next_pid==1||prev_prio==1", abc(true, true, false), true},
	})
}

func TestShortPayloadsDoNotMatch(t *testing.T) {
	f := testFormat(t, "sched_switch")
	for _, expr := range []string{"next_prio == 0", "next_prio != 5", "!(next_prio == 5)"} {
		flt := compile(t, expr, f)
		p := newPayload(t, f)
		if !flt.Match(p.raw) {
			t.Errorf("%q: a full payload of zeros does not match", expr)
		}
		if flt.Match(p.raw[:len(p.raw)-1]) {
			t.Errorf("%q: a payload one byte short matches", expr)
		}
	}
}

func TestStringIsNormalizedAndRecompiles(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"spaces are normalized", "prev_pid==1&&next_pid  !=\t2", "prev_pid == 1 && next_pid != 2"},
		{"hex and octal values print in decimal", "prev_pid == 0x10 || prev_pid == 010", "prev_pid == 16 || prev_pid == 8"},
		{"masks print in hex", "prev_state & 3", "prev_state & 0x3"},
		{"negative values stay negative", "prev_pid == -0x10 || prev_pid & -1", "prev_pid == -16 || prev_pid & -1"},
		{"values print as written, not cut to the width", "common_flags == 256", "common_flags == 256"},
		{"strings print in double quotes", `prev_comm == 'bash'`, `prev_comm == "bash"`},
		{"strings holding a double quote keep single quotes", `prev_comm == 'a"b'`, `prev_comm == 'a"b'`},
		{"globs print as written", `prev_comm ~ "!kworker*"`, `prev_comm ~ "!kworker*"`},
		{"redundant parentheses go", "((prev_pid == 1)) && (next_pid == 2)", "prev_pid == 1 && next_pid == 2"},
		{"parentheses an || inside an && needs stay", "(prev_pid == 1 || next_pid == 2) && prev_prio == 3", "(prev_pid == 1 || next_pid == 2) && prev_prio == 3"},
		{"an && inside an || needs none", "prev_pid == 1 || (next_pid == 2 && prev_prio == 3)", "prev_pid == 1 || next_pid == 2 && prev_prio == 3"},
		{"! wraps what it negates", "!prev_pid == 1 && !(next_pid == 2 || prev_prio == 3)", "!(prev_pid == 1) && !(next_pid == 2 || prev_prio == 3)"},
		{"chains flatten", "prev_pid == 1 && (next_pid == 2 && prev_prio == 3)", "prev_pid == 1 && next_pid == 2 && prev_prio == 3"},
	}
	f := testFormat(t, "sched_switch")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := compile(t, c.in, f).String()
			if s != c.want {
				t.Errorf("String of %q = %q, want %q", c.in, s, c.want)
			}
			if again := compile(t, s, f).String(); again != s {
				t.Errorf("String of %q = %q, not a fixed point", s, again)
			}
		})
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	cases := []struct{ event, expr string }{
		{"sched_switch", "prev_state == 1 && next_pid > 100"},
		{"sched_switch", `next_comm ~ "post*" || next_comm ~ "*gre*" || next_comm ~ "k?[a-z]*r" || prev_comm == "bash"`},
		{"sched_switch", `!(prev_prio < -1) && prev_state & 0x3`},
		{"sched_process_exec", `filename ~ "*/ls" && filename != "/bin/ls"`},
		{"odd", `rel ~ "*ell*" && ptr != 0`},
	}
	for _, c := range cases {
		f := formatFor(t, c.event)
		flt := compile(t, c.expr, f)
		p := newPayload(t, f)
		if c.event == "sched_process_exec" {
			p.dyn("filename", "/usr/bin/ls\x00")
		}
		if n := testing.AllocsPerRun(1000, func() { flt.Match(p.raw) }); n != 0 {
			t.Errorf("%q: Match allocates %v times per call", c.expr, n)
		}
	}
}

func BenchmarkMatchTwoPredicates(b *testing.B) {
	f := testFormat(b, "sched_switch")
	flt := compile(b, "prev_state == 1 && next_pid > 100", f)
	p := newPayload(b, f).int("prev_state", 1).int("next_pid", 4242)
	b.ReportAllocs()
	for b.Loop() {
		if !flt.Match(p.raw) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkMatchStringGlob(b *testing.B) {
	f := testFormat(b, "sched_switch")
	flt := compile(b, `prev_state == 1 && next_comm ~ "post*"`, f)
	p := newPayload(b, f).int("prev_state", 1).bytes("next_comm", "postgres")
	b.ReportAllocs()
	for b.Loop() {
		if !flt.Match(p.raw) {
			b.Fatal("no match")
		}
	}
}
