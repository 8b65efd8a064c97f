package tracefs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var fakeEvents = []string{
	"sched:sched_switch", "sched:sched_wakeup", "sched:sched_wakeup_new",
	"sched:sched_process_exec", "irq:irq_handler_entry", "irq:irq_handler_exit",
	"ftrace:function", "syscalls:sys_enter_openat",
}

func TestEventsListsTheTreeSorted(t *testing.T) {
	fs := fakeTracefs(t, fakeEvents...)
	got, err := fs.Events()
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(fakeEvents))
	if !slices.Equal(got, want) {
		t.Errorf("Events() = %q\nwant %q", got, want)
	}
}

func TestEventsIsReadOnce(t *testing.T) {
	fs := fakeTracefs(t, fakeEvents...)
	first, err := fs.Events()
	if err != nil {
		t.Fatal(err)
	}
	first[0] = "changed by the caller"
	addFakeEvent(t, fs.Root(), "net:net_dev_xmit", 7)
	second, err := fs.Events()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(second, "net:net_dev_xmit") {
		t.Error("an event added after the first listing appeared: the catalogue was read again")
	}
	if slices.Contains(second, "changed by the caller") {
		t.Error("a caller's change to the returned slice reached the cache")
	}
}

func TestEventsErrors(t *testing.T) {
	fs := fakeTracefs(t)
	if err := os.RemoveAll(filepath.Join(fs.Root(), "events")); err != nil {
		t.Fatal(err)
	}
	_, err := fs.Events()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(fs.Root(), "events")) {
		t.Fatalf("Events() on a vanished tree: err = %v, want one naming the directory", err)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name, glob string
		want       []string
	}{
		{"a system glob matches its events", "irq:*",
			[]string{"irq:irq_handler_entry", "irq:irq_handler_exit"}},
		{"a star crosses the colon", "*wakeup*",
			[]string{"sched:sched_wakeup", "sched:sched_wakeup_new"}},
		{"a plain name matches itself", "sched:sched_switch", []string{"sched:sched_switch"}},
		{"a tracepoint: prefix is allowed", "tracepoint:sched:sched_switch", []string{"sched:sched_switch"}},
		{"a t: prefix is allowed", "t:ftrace:*", []string{"ftrace:function"}},
		{"a character class works", "irq:irq_handler_e[n]*", []string{"irq:irq_handler_entry"}},
		{"an unknown system matches nothing", "nosuch:*", nil},
		{"a bad glob matches nothing", "sched:[", nil},
	}
	fs := fakeTracefs(t, fakeEvents...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fs.Match(tt.glob); !slices.Equal(got, tt.want) {
				t.Errorf("Match(%q) = %q, want %q", tt.glob, got, tt.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	fs := fakeTracefs(t, fakeEvents...)
	writeFile(t, filepath.Join(fs.Root(), "events/broken/bad/format"), "name: bad\nID: x\n")
	tests := []struct {
		name, system, event string
		wantErr             []string // substrings; none means success
	}{
		{"a known event parses with its ID and fields", "sched", "sched_switch", nil},
		{"a typo suggests the close name", "sched", "sched_swich",
			[]string{"no event sched:sched_swich", "events/sched/sched_swich/format", "did you mean sched:sched_switch?"}},
		{"a typo in the system suggests the close name", "shed", "sched_switch",
			[]string{"did you mean sched:sched_switch?"}},
		{"a part of a name suggests the names holding it", "sched", "switch",
			[]string{"did you mean sched:sched_switch?"}},
		{"an unknown event of a known system points at its list", "irq", "softirq_raise_and_more",
			[]string{"no event irq:softirq_raise_and_more", "otrace list 'irq:*'", "2 events of irq"}},
		{"a name with a slash is unknown, not a path", "sched", "../sched/sched_switch",
			[]string{"no event sched:../sched/sched_switch"}},
		{"a bad format file is named in the error", "broken", "bad",
			[]string{filepath.Join(fs.Root(), "events/broken/bad/format")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := fs.Format(tt.system, tt.event)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if f.System != tt.system || f.Name != tt.event || f.ID == 0 || f.Field("value") == nil {
					t.Errorf("Format = %+v, want %s:%s with an ID and a value field", f, tt.system, tt.event)
				}
				return
			}
			if err == nil {
				t.Fatalf("Format(%q, %q) succeeded, want an error", tt.system, tt.event)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v\nwant it to say %q", err, want)
				}
			}
		})
	}
}

func TestFormatIsReadOnce(t *testing.T) {
	fs := fakeTracefs(t, fakeEvents...)
	first, err := fs.Format("sched", "sched_switch")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(fs.Root(), "events/sched/sched_switch/format")); err != nil {
		t.Fatal(err)
	}
	second, err := fs.Format("sched", "sched_switch")
	if err != nil || second != first {
		t.Errorf("second Format = %p, %v; want the cached %p", second, err, first)
	}
}
