package probe

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, spec, canonical string
		kind                  Kind
		glob                  bool
	}{
		{"a plain tracepoint keeps its name", "sched:sched_switch", "sched:sched_switch", Tracepoint, false},
		{"the tracepoint prefix is dropped", "tracepoint:sched:sched_switch", "sched:sched_switch", Tracepoint, false},
		{"a glob tracepoint is a glob", "syscalls:sys_enter_*", "syscalls:sys_enter_*", Tracepoint, true},
		{"a glob in the system is a glob", "sch?d:sched_switch", "sch?d:sched_switch", Tracepoint, true},
		{"profile takes a frequency", "profile:hz:99", "profile:hz:99", Profile, false},
		{"software takes a perf name", "software:page-faults", "software:page-faults", Software, false},
		{"software takes a period", "software:cpu-clock:10000", "software:cpu-clock:10000", Software, false},
		{"hardware takes a perf name", "hardware:instructions", "hardware:instructions", Hardware, false},
		{"uprobe splits path and symbol at the last colon", "uprobe:/bin/bash:readline", "uprobe:/bin/bash:readline", Uprobe, false},
		{"uretprobe is its own kind", "uretprobe:/lib/libc.so.6:malloc", "uretprobe:/lib/libc.so.6:malloc", Uretprobe, false},
		{"etw keeps its provider", "etw:Microsoft-Windows-Kernel-Process", "etw:Microsoft-Windows-Kernel-Process", ETW, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != tt.kind || p.Canonical() != tt.canonical || p.IsGlob() != tt.glob {
				t.Errorf("Parse(%q) = kind %v canonical %q glob %v", tt.spec, p.Kind, p.Canonical(), p.IsGlob())
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, spec, want string }{
		{"an empty name", "", "empty probe"},
		{"a name without a system", "sched_switch", "want SYSTEM:EVENT"},
		{"too many colons", "a:b:c", "want SYSTEM:EVENT"},
		{"a frequency that is not a number", "profile:hz:lots", "frequency"},
		{"a frequency of zero", "profile:hz:0", "frequency"},
		{"a frequency above the kernel's limit", "profile:hz:1000000", "frequency"},
		{"profile without hz", "profile:99", "profile:hz:N"},
		{"an unknown software event", "software:cpu-cycles", "unknown software event"},
		{"a zero period", "software:cpu-clock:0", "period"},
		{"a uprobe without a symbol", "uprobe:/bin/bash", "uprobe:PATH:SYMBOL"},
		{"a uprobe with an empty symbol", "uprobe:/bin/bash:", "uprobe:PATH:SYMBOL"},
		{"a bad glob", "sched:[", "bad glob"},
		{"an empty etw provider", "etw:", "etw:PROVIDER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error = %v, want one containing %q", tt.spec, err, tt.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	p, _ := Parse("sched:sched_*")
	for name, want := range map[string]bool{
		"sched:sched_switch": true, "sched:sched_wakeup": true,
		"syscalls:sys_enter_read": false, "sched:other": false,
	} {
		if p.Match(name) != want {
			t.Errorf("sched:sched_* matches %s = %v, want %v", name, !want, want)
		}
	}
	q, _ := Parse("sched:sched_switch")
	if !q.Match("sched:sched_switch") || q.Match("sched:sched_switch2") {
		t.Error("a plain name must match only itself")
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"sched:sched_switch", "sched:sched_wakeup", "sched:sched_waking", "syscalls:sys_enter_read"}
	got := Suggest("sched:sched_swich", names, 3)
	if len(got) == 0 || got[0] != "sched:sched_switch" {
		t.Errorf("Suggest typo = %v, want sched:sched_switch first", got)
	}
	if got := Suggest("net:netif_rx", names, 3); len(got) != 0 {
		t.Errorf("Suggest of an unrelated name = %v, want nothing", got)
	}
	if got := Suggest("sched:sched_wak", names, 1); len(got) != 1 {
		t.Errorf("Suggest limited to 1 gave %v", got)
	}
}

func TestDistanceGivesUpPastTheLimit(t *testing.T) {
	if d := distance("kitten", "sitting", 10); d != 3 {
		t.Errorf("distance(kitten, sitting) = %d, want 3", d)
	}
	if d := distance("a", "abcdefgh", 2); d != 3 {
		t.Errorf("distance past the limit = %d, want limit+1 = 3", d)
	}
}
