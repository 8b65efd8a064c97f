package filter

import (
	"strings"
	"testing"
)

// kernelCase is a filter for sched:sched_switch and what the kernel says of
// it. live_linux_test.go asks the running kernel; TestKernelVerdicts checks
// otrace against the verdicts recorded from Linux 6.18.
type kernelCase struct {
	expr   string
	kernel bool // the kernel accepts it
	// why otrace refuses a filter the kernel accepts; "" when otrace
	// agrees with the kernel.
	why string
}

var kernelCases = []kernelCase{
	// Both accept.
	{expr: "prev_pid == 1", kernel: true},
	{expr: "prev_pid==1&&next_pid==2", kernel: true},
	{expr: "prev_state & 0x1 && next_pid > 0", kernel: true},
	{expr: "prev_pid == 1 || prev_pid == 2 && next_pid == 3", kernel: true},
	{expr: "!prev_pid == 1", kernel: true},
	{expr: "!!prev_pid == 1", kernel: true},
	{expr: "((prev_pid == 1))", kernel: true},
	{expr: "prev_pid == 1 && next_pid == 2 || (prev_prio < 100 && !(next_prio >= 120))", kernel: true},
	{expr: `prev_comm == "bash"`, kernel: true},
	{expr: `prev_comm == 'bash'`, kernel: true},
	{expr: `prev_comm != ""`, kernel: true},
	{expr: `prev_comm ~ "post*"`, kernel: true},
	{expr: `prev_comm ~ "*gre*"`, kernel: true},
	{expr: `prev_comm ~ "!kworker*"`, kernel: true},
	{expr: `prev_comm ~ "k?[a-z]*"`, kernel: true},
	{expr: `prev_comm ~ "[ab"`, kernel: true},
	{expr: `prev_comm ~ "*[s]h"`, kernel: true},
	{expr: "prev_pid == -1", kernel: true},
	{expr: "prev_pid == -0x10", kernel: true},
	{expr: "common_type == 010", kernel: true},
	{expr: "common_type == 18446744073709551615", kernel: true},
	{expr: "prev_state >= -9223372036854775808", kernel: true},
	{expr: "prev_pid == 0xFFFFFFFFF", kernel: true},
	{expr: "common_flags == 256", kernel: true},
	{expr: "prev_state == 00000000000000000000001", kernel: true},
	{expr: "\tprev_pid\t==\t1\n", kernel: true},

	// Both refuse.
	{expr: "prev_stat == 1"},
	{expr: "prev_comm == bash"},
	{expr: `prev_comm < "a"`},
	{expr: "prev_pid ~ 1"},
	{expr: `prev_pid == "1"`},
	{expr: "common_type == -1"},
	{expr: "common_type == 08"},
	{expr: "prev_pid == 0x"},
	{expr: "prev_state == 9223372036854775808"},
	{expr: "prev_pid == 0xFFFFFFFFFFFFFFFF"},
	{expr: "prev_pid = 1"},
	{expr: "prev_pid =~ 1"},
	{expr: "(prev_pid == 1"},
	{expr: "prev_pid == 1)"},
	{expr: "()"},
	{expr: "&& prev_pid == 1"},
	{expr: "prev_pid == 1 || || next_pid == 2"},
	{expr: "prev_pid == 1 & 2"},
	{expr: "prev_pid == 1 prev_pid == 2"},
	{expr: "(prev_pid == 1)(next_pid == 2)"},
	{expr: `prev_comm == "ba`},
	{expr: `prev_comm == "a"b"`},
	{expr: "prev_pid =="},
	{expr: "prev_pid"},
	{expr: "prev_pid == 1.5"},
	{expr: "prev_pid == +1"},
	{expr: "prev_pid == 000000000000000000000001"},
	{expr: `prev_comm == "` + strings.Repeat("x", 256) + `"`},
	{expr: `COMM < "a"`},

	// The kernel accepts, otrace refuses on purpose.
	{expr: "prev_pid == 1 && ", kernel: true, why: "a dangling && is a mistake the kernel ignores"},
	{expr: "prev_pid == 1 ||", kernel: true, why: "a dangling || is a mistake the kernel ignores"},
	{expr: "prev_pid == 1 && !", kernel: true, why: "a trailing ! is a mistake the kernel ignores"},
	{expr: `COMM == "bash"`, kernel: true, why: "COMM reads the current task, not the payload"},
	{expr: "CPU == 1", kernel: true, why: "CPU reads the current CPU, not the payload"},
	{expr: "common_cpu == 1", kernel: true, why: "common_cpu reads the current CPU, not the payload"},
	{expr: `prev_comm ~ "*sh"`, kernel: true, why: "the kernel's suffix match on char arrays compares the array's last bytes"},
	{expr: `prev_comm ~ "1*"`, kernel: true, why: "the kernel reads a pattern starting with a digit as a literal"},
	{expr: "prev_state.function == schedule", kernel: true, why: ".function needs the kernel's symbols"},
	{expr: "0", kernel: true, why: `tracefs reads "0" as "no filter"`},
}

func TestKernelVerdicts(t *testing.T) {
	f := testFormat(t, "sched_switch")
	for _, c := range kernelCases {
		_, err := Compile(c.expr, f)
		want := c.kernel && c.why == ""
		if got := err == nil; got != want {
			t.Errorf("Compile(%q) accepts = %v, want %v (kernel %v; %s): %v", c.expr, got, want, c.kernel, c.why, err)
		}
	}
}
