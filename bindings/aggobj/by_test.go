package aggobj

import (
	"encoding/binary"
	"strings"
	"testing"

	"otrace/runtime/event"
	"otrace/runtime/process"
)

// exitFormat is raw_syscalls:sys_exit's layout with a comm array added, so
// one event has int, string and builtin key parts.
const exitFormat = `name: sys_exit
ID: 21
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:long id;	offset:8;	size:8;	signed:1;
	field:long ret;	offset:16;	size:8;	signed:1;
	field:char label[8];	offset:24;	size:8;	signed:0;

print fmt: "NR %ld = %ld", REC->id, REC->ret
`

func exitEvent(t *testing.T, id int) *event.Event {
	t.Helper()
	f, err := event.ParseFormat("raw_syscalls", []byte(exitFormat))
	if err != nil {
		t.Fatal(err)
	}
	return &event.Event{ID: id, Name: "raw_syscalls:sys_exit", Format: f}
}

func exitRecord(ev *event.Event, pid int32, cpu uint32, id, ret int64, label string) *event.Record {
	raw := make([]byte, 32)
	binary.LittleEndian.PutUint64(raw[8:], uint64(id))
	binary.LittleEndian.PutUint64(raw[16:], uint64(ret))
	copy(raw[24:], label)
	return &event.Record{Event: ev, PID: pid, TID: pid, CPU: cpu, Time: 1000, Raw: raw}
}

// attach makes the update a script kept as "u" into the handler otrace.on
// would attach to evs.
func attach(t *testing.T, r *rig, procs *process.Table, evs ...*event.Event) event.Handler {
	t.Helper()
	u, ok := r.kept["u"].(NativeHandler)
	if !ok {
		t.Fatalf("kept %T, not a NativeHandler", r.kept["u"])
	}
	h, err := u.Handler(evs, procs)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestByUpdatesInGo(t *testing.T) {
	procs := process.NewTable()
	procs.AddComm(process.Comm{PID: 7, TID: 7, Comm: "dd"})
	procs.AddComm(process.Comm{PID: 9, TID: 9, Comm: "sh"})
	ev := exitEvent(t, 3)
	recs := []*event.Record{
		exitRecord(ev, 7, 0, 0, 1, "read"),
		exitRecord(ev, 7, 1, 0, 1, "read"),
		exitRecord(ev, 7, 1, 1, -2, "write"),
		exitRecord(ev, 9, 0, 257, -2, "openat"),
		exitRecord(ev, 9, 0, 257, 3, "openat"),
	}
	cases := []struct{ name, src, want string }{
		{"count by an int field", `c := otrace.count("c"); keep("u", c.by("id"))`, "@c[1]: 1\n@c[0]: 2\n@c[257]: 2\n"},
		{"count by a builtin", `c := otrace.count("c"); keep("u", c.by("pid"))`, "@c[9]: 2\n@c[7]: 3\n"},
		{"count by comm, from the process model", `c := otrace.count("c"); keep("u", c.by("comm"))`, "@c[sh]: 2\n@c[dd]: 3\n"},
		{"count by a string field", `c := otrace.count("c"); keep("u", c.by("label"))`, "@c[write]: 1\n@c[openat]: 2\n@c[read]: 2\n"},
		{"count by the event's name", `c := otrace.count("c"); keep("u", c.by("name"))`, "@c[raw_syscalls:sys_exit]: 5\n"},
		{"a tuple", `c := otrace.count("c"); keep("u", c.by(["cpu", "id"]))`, "@c[0, 0]: 1\n@c[1, 0]: 1\n@c[1, 1]: 1\n@c[0, 257]: 2\n"},
		{"a one-part array keys like its part", `c := otrace.count("c"); keep("u", c.by(["id"]))`, "@c[1]: 1\n@c[0]: 2\n@c[257]: 2\n"},
		{"no key", `c := otrace.count("c"); keep("u", c.by([]))`, "@c: 5\n"},
		{"sum of a signed field", `s := otrace.sum("s"); keep("u", s.by("pid", "ret"))`, "@s[7]: 0\n@s[9]: 1\n"},
		{"max", `m := otrace.max("m"); keep("u", m.by("comm", "ret"))`, "@m[dd]: 1\n@m[sh]: 3\n"},
		{"hist of a field", `h := otrace.hist("h"); keep("u", h.by([], "id"))`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustLoad(t, tc.src)
			h := attach(t, r, procs, ev)
			for _, rec := range recs {
				if err := h.HandleEvent(rec); err != nil {
					t.Fatal(err)
				}
			}
			r.mod.PrintAll(&r.out)
			got := r.out.String()
			if tc.want == "" {
				if !strings.Contains(got, "[256, 512)") || !strings.Contains(got, "[0]") {
					t.Errorf("hist of ids 0,0,1,257,257:\n%s", got)
				}
				return
			}
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestByRefusesWhatItCannotRead(t *testing.T) {
	ev := exitEvent(t, 0)
	cases := []struct{ src, want string }{
		{`keep("u", otrace.count().by("idd"))`, `count.by: raw_syscalls:sys_exit has no field "idd" (it has pid, tid, cpu, time, comm, name, id, ret, label)`},
		{`keep("u", otrace.sum().by("pid", "label"))`, "sum.by: raw_syscalls:sys_exit's field label is not a number"},
		{`keep("u", otrace.sum().by("pid", "comm"))`, "sum.by: comm is a string; the value added must be a number"},
	}
	for _, tc := range cases {
		r := mustLoad(t, tc.src)
		u := r.kept["u"].(NativeHandler)
		if _, err := u.Handler([]*event.Event{ev}, process.NewTable()); err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v, want %s", tc.src, err, tc.want)
		}
	}
	for _, tc := range []struct{ src, want string }{
		{`otrace.count().by("id", "ret")`, "a count counts events; add a field's values with otrace.sum"},
		{`otrace.sum().by("id")`, "want 2 argument(s), got 1"},
		{`otrace.count().by(3)`, "keys is int"},
		{`otrace.count().by(["id", 3])`, "key part 2 is int, not a field name"},
		{`otrace.sum().by("id", 1)`, "value is int, not a field name"},
	} {
		if _, err := load(t, tc.src); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want ...%s", tc.src, err, tc.want)
		}
	}
}

func TestByReportsAShortPayload(t *testing.T) {
	ev := exitEvent(t, 0)
	r := mustLoad(t, `keep("u", otrace.count().by("ret"))`)
	h := attach(t, r, process.NewTable(), ev)
	rec := exitRecord(ev, 1, 0, 0, 0, "")
	rec.Raw = rec.Raw[:12]
	err := h.HandleEvent(rec)
	if err == nil || err.Error() != "raw_syscalls:sys_exit: field ret lies outside the 12-byte payload" {
		t.Errorf("got %v", err)
	}
}

func TestByUpdateAllocatesNothing(t *testing.T) {
	ev := exitEvent(t, 0)
	r := mustLoad(t, `keep("u", otrace.count().by(["pid", "id"]))`)
	h := attach(t, r, process.NewTable(), ev)
	rec := exitRecord(ev, 7, 0, 1, 0, "")
	h.HandleEvent(rec)
	if n := testing.AllocsPerRun(1000, func() { h.HandleEvent(rec) }); n != 0 {
		t.Errorf("%v allocations per update of a key seen before", n)
	}
}

func BenchmarkByCountInt(b *testing.B) {
	t := &testing.T{}
	ev := exitEvent(t, 0)
	r := mustLoad(b, `keep("u", otrace.count().by("id"))`)
	u := r.kept["u"].(NativeHandler)
	h, _ := u.Handler([]*event.Event{ev}, process.NewTable())
	recs := make([]*event.Record, 64)
	for i := range recs {
		recs[i] = exitRecord(ev, 7, 0, int64(i*7), 0, "")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.HandleEvent(recs[i&63])
	}
}
