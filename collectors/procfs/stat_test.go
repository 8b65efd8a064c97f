package procfs

import (
	"strings"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		line string
		want stat
		err  string // a substring of the error, "" for none
	}{
		{
			name: "a plain line gives pid, comm, state, ppid, flags and threads",
			line: statLine(4242, "bash", 'S', 4000, 0x400100, 1),
			want: stat{PID: 4242, Comm: "bash", State: 'S', PPID: 4000, Flags: 0x400100, Threads: 1},
		},
		{
			name: "a comm with spaces and parentheses ends at the last parenthesis",
			line: statLine(7, "(a) b)", 'R', 1, 0, 3),
			want: stat{PID: 7, Comm: "(a) b)", State: 'R', PPID: 1, Threads: 3},
		},
		{
			name: "a comm that mimics the fields after it is still one comm",
			line: statLine(8, "x) S 99 99 (", 'S', 2, 0, 1),
			want: stat{PID: 8, Comm: "x) S 99 99 (", State: 'S', PPID: 2, Threads: 1},
		},
		{
			name: "a comm holding a newline is kept whole",
			line: statLine(9, "a\nb", 'S', 1, 0, 1),
			want: stat{PID: 9, Comm: "a\nb", State: 'S', PPID: 1, Threads: 1},
		},
		{
			name: "an empty comm is allowed",
			line: statLine(10, "", 'S', 1, 0, 1),
			want: stat{PID: 10, State: 'S', PPID: 1, Threads: 1},
		},
		{
			name: "a kernel thread has PF_KTHREAD and parent kthreadd",
			line: statLine(11, "kworker/0:1-mm_percpu_wq", 'I', 2, 0x4208060, 1),
			want: stat{PID: 11, Comm: "kworker/0:1-mm_percpu_wq", State: 'I', PPID: 2, Flags: 0x4208060, Threads: 1},
		},
		{
			name: "init has parent 0",
			line: "1 (systemd) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 23 0\n",
			want: stat{PID: 1, Comm: "systemd", State: 'S', PPID: 0, Flags: 4194560, Threads: 1},
		},
		{
			name: "a line cut after the ppid has no thread count",
			line: "12 (short) Z 3",
			want: stat{PID: 12, Comm: "short", State: 'Z', PPID: 3},
		},
		{name: "a line without '(' is rejected", line: "12 short S 3", err: "no '('"},
		{name: "a line without ')' is rejected", line: "12 (short S 3", err: "no ')'"},
		{name: "a ')' before the '(' is rejected", line: "12 )x( S 3", err: "no ')'"},
		{name: "a bad pid is rejected", line: "1x2 (a) S 3", err: "bad pid"},
		{name: "pid 0 is rejected", line: "0 (a) S 3", err: "bad pid"},
		{name: "a missing pid is rejected", line: "(a) S 3", err: "bad pid"},
		{name: "a line ending after the comm is rejected", line: "12 (a)", err: "need state and ppid"},
		{name: "a line ending after the state is rejected", line: "12 (a) S\n", err: "need state and ppid"},
		{name: "a long state is rejected", line: "12 (a) SS 3", err: "bad state"},
		{name: "a negative ppid is rejected", line: "12 (a) S -3", err: "bad ppid"},
		{name: "a ppid beyond int32 is rejected", line: "12 (a) S 4294967296", err: "bad ppid"},
		{name: "bad flags are rejected", line: "12 (a) S 3 1 1 0 -1 0x10", err: "bad flags"},
		{name: "a bad thread count is rejected", line: strings.Replace(statLine(12, "a", 'S', 3, 0, 1), " 0 1 0 4242 ", " 0 z 0 4242 ", 1), err: "bad num_threads"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.line))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseTgid(t *testing.T) {
	tests := []struct {
		name   string
		status string
		want   int32
		ok     bool
	}{
		{"a thread's status names its process", "Name:\tworker\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t100\nNgid:\t0\nPid:\t101\n", 100, true},
		{"a status without Tgid has none", "Name:\tworker\nPid:\t101\n", 0, false},
		{"a bad Tgid is none", "Tgid:\tx\n", 0, false},
		{"a dead task has Tgid 0", "Name:\ttrue\nState:\tX (dead)\nTgid:\t0\nNgid:\t0\nPid:\t6848\n", 0, true},
		{"a negative Tgid is none", "Tgid:\t-1\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseTgid([]byte(tt.status))
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %d, %v, want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
