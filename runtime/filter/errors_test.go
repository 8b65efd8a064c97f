package filter

import (
	"errors"
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	long := strings.Repeat("x", 256)
	cases := []struct {
		name   string
		event  string
		expr   string
		column int
		want   string // the whole message when it starts with "filter ", else a part of it
	}{
		{"a misspelt field names the closest", "sched_switch", "prev_stat == 1", 1,
			`filter "prev_stat == 1": no field "prev_stat" in sched:sched_switch (did you mean prev_state?); fields: prev_comm, prev_pid, prev_prio, prev_state, next_comm, next_pid, next_prio, common_type, common_flags, common_preempt_count, common_pid`},
		{"an unknown field with no close name lists the fields", "sys_enter", "nr == 1", 1,
			`no field "nr" in raw_syscalls:sys_enter; fields: id, args, common_type`},
		{"a missing value names the operator and column", "sched_switch", "prev_pid ==", 12,
			`filter "prev_pid ==": expected a value after "==" at column 12`},
		{"an empty filter says what to write", "sched_switch", "  ", 0, "it is empty"},
		{"the filter 0 is refused", "sched_switch", "0", 0, `"0" is how tracefs spells "no filter"`},
		{"a filter longer than a page is refused", "sched_switch", strings.Repeat("(", 4096), 0, "the kernel takes at most 4095"},
		{"a NUL byte is refused", "sched_switch", "prev_pid == 1\x00", 14, "NUL byte at column 14"},
		{"an unclosed parenthesis is unbalanced", "sched_switch", "(prev_pid == 1", 1, `the "(" at column 1 is never closed`},
		{"an unclosed parenthesis at the end is unbalanced", "sched_switch", "prev_pid == 1 && (", 18, `the "(" at column 18 is never closed`},
		{"an extra closing parenthesis is unbalanced", "sched_switch", "prev_pid == 1)", 14, `the ")" at column 14 closes nothing`},
		{"empty parentheses are refused", "sched_switch", "prev_pid == 1 && ()", 18, "empty parentheses at column 18"},
		{"a dangling && is refused", "sched_switch", "prev_pid == 1 && ", 15, `nothing after "&&" at column 15; add a predicate or remove the "&&"`},
		{"a dangling || is refused", "sched_switch", "prev_pid == 1 ||", 15, `nothing after "||" at column 15`},
		{"a trailing ! is refused", "sched_switch", "prev_pid == 1 && !", 18, `nothing after "!" at column 18`},
		{"a leading && is refused", "sched_switch", "&& prev_pid == 1", 1, `expected a predicate FIELD OP VALUE at column 1, found "&&"`},
		{"a doubled || is refused", "sched_switch", "prev_pid == 1 || || next_pid == 2", 18, `expected a predicate after "||" at column 18, found "||"`},
		{"two predicates need an operator between them", "sched_switch", "prev_pid == 1 next_pid == 2", 15, `unexpected "next_pid" at column 15; join predicates with && or ||`},
		{"a single & between predicates is refused", "sched_switch", "prev_pid == 1 & 2", 15, `unexpected "&" at column 15`},
		{"a single = is not an operator", "sched_switch", "prev_pid = 1", 10, `expected an operator after "prev_pid" at column 10: one of == != < <= > >= & ~ (== compares)`},
		{"an unknown operator is refused", "sched_switch", "prev_pid => 1", 10, "expected an operator"},
		{"a field alone is refused", "sched_switch", "prev_pid", 9, "expected an operator"},
		{"a field followed by && is refused", "sched_switch", "prev_pid && next_pid == 1", 10, "expected an operator"},
		{"an operator twice is refused", "sched_switch", "prev_pid == == 1", 13, `expected a value after "==" at column 13, found "=="`},
		{"a decimal fraction is refused", "sched_switch", "prev_pid == 1.5", 14, `unexpected ".5" at column 14; values are integers or quoted strings`},
		{"a number with letters is not a number", "sched_switch", "prev_pid == 1abc", 13, `"1abc" at column 13 is not a number`},
		{"an octal number with an 8 is not a number", "sched_switch", "prev_pid == 08", 13, "is not a number"},
		{"0x without digits is not a number", "sched_switch", "prev_pid == 0x", 13, "is not a number"},
		{"a lone minus is not a number", "sched_switch", "prev_pid == -", 13, "is not a number"},
		{"a plus sign is not a value", "sched_switch", "prev_pid == +1", 13, `expected a value after "==" at column 13, found "+1"`},
		{"a negative value for an unsigned field is refused", "sched_switch", "common_type == -1", 16, "common_type is unsigned (unsigned short, unsigned 16-bit), so it cannot be compared with -1"},
		{"a value above the signed range is refused", "sched_switch", "prev_state == 9223372036854775808", 15, "out of range"},
		{"a value below the signed range is refused", "sched_switch", "prev_pid == -9223372036854775809", 13, "out of range"},
		{"a value above the unsigned range is refused", "sched_switch", "common_type == 18446744073709551616", 16, "out of range"},
		{"a number of 24 characters is too long for the kernel", "sched_switch", "prev_pid == 000000000000000000000001", 13, "is 24 characters; the kernel reads at most 23"},
		{"a string value for a number is refused", "sched_switch", `prev_pid == "x"`, 13, "prev_pid is a number (pid_t, signed 32-bit); compare it with a number"},
		{"a quoted number for a number field says to drop the quotes", "sched_switch", `prev_pid == "12"`, 13, "without quotes: prev_pid == 12"},
		{"a number for a string field says to quote it", "sched_switch", "prev_comm == 12", 14, `put the value at column 14 in quotes: prev_comm == "12"`},
		{"a bare word for a string field says to quote it", "sched_switch", "prev_comm == bash", 14, `put the string at column 14 in quotes: prev_comm == "bash"`},
		{"a bare glob for a string field is refused", "sched_switch", "prev_comm ~ bash*", 13, "in quotes"},
		{"an unclosed string is refused", "sched_switch", `prev_comm == "bash`, 14, `missing closing " for the string at column 14`},
		{"quotes do not escape", "sched_switch", `prev_comm == "a\"b"`, 18, `unexpected "b\"" at column 18; quotes do not escape: put a string holding " in single quotes`},
		{"a string longer than the kernel takes is refused", "sched_switch", `prev_comm == "` + long + `"`, 14, "is 256 bytes; the kernel takes at most 255"},
		{"< on a string is refused", "sched_switch", `prev_comm < "a"`, 11, "strings compare with ==, != and ~, not <"},
		{"& on a string is refused", "sched_switch", `prev_comm & "a"`, 11, "not &"},
		{"~ on a number is refused", "sched_switch", "prev_pid ~ 1", 10, "~ matches strings, and prev_pid is a number"},
		{"~ with a quoted value on a number is refused", "sched_switch", `prev_pid ~ "1*"`, 10, "~ matches strings"},
		{"a suffix match on a char array is refused with a glob that works", "sched_switch", `prev_comm ~ "*sh"`, 13, `so "*sh" matches only strings that fill it; write "*[s]h", a full glob that works`},
		{"a negated suffix match on a char array is refused too", "sched_switch", `prev_comm ~ "!*sh"`, 13, `write "!*[s]h"`},
		{"a glob starting with a digit is refused with one that globs", "sched_switch", `prev_comm ~ "1*"`, 13, `write "[1]*" to glob`},
		{"a negated glob starting with a digit is refused too", "sched_switch", `prev_comm ~ "!1*"`, 13, `write "![1]*" to glob`},
		{"COMM is refused as not in the payload", "sched_switch", `COMM == "bash"`, 1, "COMM is the kernel's stand-in for the current task's comm, which is not in the payload"},
		{"comm is refused when the event has no such field", "sched_switch", `comm == "bash"`, 1, "the current task's comm"},
		{"CPU is refused", "sched_switch", "CPU == 1", 1, "the current CPU"},
		{"common_cpu is refused", "sched_switch", "common_cpu == 1", 1, "the current CPU"},
		{"STACKTRACE is refused", "sched_switch", "STACKTRACE == 1", 1, "the kernel stack"},
		{".function is refused", "sched_switch", "prev_state.function == schedule", 11, "needs the kernel's symbols"},
		{"a char pointer is refused", "odd", `name == "x"`, 1, "name is a const char *: the kernel compares the string it points to"},
		{"a non-char array is refused", "sys_enter", "args == 1", 1, "args is an array (unsigned long[6])"},
		{"a dynamic non-char array is refused", "odd", "addrs == 1", 1, "addrs is an array (u64[])"},
		{"an integer of an odd width is refused", "odd", "huge == 1", 1, "huge is a 16-byte __int128"},
		{"a stray character is refused", "sched_switch", "prev_pid == 1 && $x", 18, `expected a predicate after "&&" at column 18, found "$x"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(c.expr, formatFor(t, c.event))
			if err == nil {
				t.Fatalf("Compile(%q) succeeded", c.expr)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("Compile(%q) = %T, want *Error", c.expr, err)
			}
			msg := err.Error()
			if strings.HasPrefix(c.want, "filter ") {
				if msg != c.want {
					t.Errorf("Compile(%q):\n got %s\nwant %s", c.expr, msg, c.want)
				}
			} else if !strings.Contains(msg, c.want) {
				t.Errorf("Compile(%q) = %s\nwant it to contain %s", c.expr, msg, c.want)
			}
			if fe.Column != c.column {
				t.Errorf("Compile(%q): column %d, want %d (%s)", c.expr, fe.Column, c.column, msg)
			}
			if fe.Filter != c.expr {
				t.Errorf("Compile(%q): Filter = %q", c.expr, fe.Filter)
			}
		})
	}
}

func TestCompileWithoutAFormatFails(t *testing.T) {
	if _, err := Compile("prev_pid == 1", nil); err == nil || !strings.Contains(err.Error(), "no event format") {
		t.Errorf("Compile with a nil format = %v", err)
	}
}
