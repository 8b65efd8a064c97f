package eventobj_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"

	"otrace/bindings/eventobj"
	"otrace/runtime/event"
)

// synthetic covers what the real formats in testdata lack: a __rel_loc
// string, a dynamic array of signed ints and a fixed array of shorts.
const synthetic = `name: synth
ID: 9999
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:__rel_loc char[] rel;	offset:8;	size:4;	signed:0;
	field:__data_loc int[] vals;	offset:12;	size:4;	signed:1;
	field:short pair[2];	offset:16;	size:4;	signed:1;

print fmt: "rel=%s", __get_rel_str(rel)
`

func TestFieldsDecode(t *testing.T) {
	type read struct{ key, want string }
	tests := []struct {
		name   string
		system string
		format string // testdata file, or "" for synthetic
		fill   func(p *payload)
		reads  []read
	}{
		{
			name: "builtins come from the record and the process table", system: "sched", format: "sched_switch",
			fill: func(p *payload) {},
			reads: []read{
				{"name", `string "sched:sched_switch"`},
				{"time", "int 123456789"},
				{"cpu", "int 3"},
				{"pid", "int 42"},
				{"tid", "int 43"},
				{"comm", `string "worker"`},
				{"lost", "int 7"},
				{"fields", `array ["prev_comm" "prev_pid" "prev_prio" "prev_state" "next_comm" "next_pid" "next_prio"]`},
			},
		},
		{
			name: "signed ints, longs and char arrays decode", system: "sched", format: "sched_switch",
			fill: func(p *payload) {
				p.int("common_pid", 42).chars("prev_comm", "bash").int("prev_pid", 100).int("prev_prio", 120).
					int("prev_state", -1).chars("next_comm", "abcdefghijklmnop").int("next_pid", -5).int("next_prio", 4096)
			},
			reads: []read{
				{"prev_comm", `string "bash"`},
				{"prev_pid", "int 100"},
				{"prev_prio", "int 120"},
				{"prev_state", "int -1"},
				{"next_comm", `string "abcdefghijklmnop"`}, // all 16 bytes, no NUL
				{"next_pid", "int -5"},
				{"next_prio", "int 4096"},
				{"common_pid", "int 42"}, // not listed, still readable
			},
		},
		{
			name: "a __data_loc string decodes and a shadowed payload field stays reachable", system: "sched", format: "sched_process_exec",
			fill: func(p *payload) { p.str("filename", "/usr/bin/ls").int("pid", 777).int("old_pid", 776) },
			reads: []read{
				{"filename", `string "/usr/bin/ls"`},
				{"pid", "int 42"}, // the builtin wins
				{"old_pid", "int 776"},
			},
		},
		{
			name: "an array of unsigned longs decodes to an array of ints", system: "raw_syscalls", format: "sys_enter",
			fill: func(p *payload) { p.int("id", 257).ints("args", 1, 2, -1, 1<<40, 0, 6) },
			reads: []read{
				{"id", "int 257"},
				{"args", fmt.Sprintf("array [1 2 -1 %d 0 6]", int64(1)<<40)}, // u64 above 2^63 reads negative
			},
		},
		{
			name: "unsigned and signed ints of 1, 4 and 8 bytes", system: "kvm", format: "kvm_pvclock_update",
			fill: func(p *payload) {
				p.int("vcpu_id", 1).int("version", -1).int("tsc_timestamp", 1<<40).int("system_time", -1).
					int("tsc_to_system_mul", 0x80000000).int("tsc_shift", -3).int("flags", 0xff)
			},
			reads: []read{
				{"vcpu_id", "int 1"},
				{"version", "int 4294967295"},
				{"tsc_timestamp", fmt.Sprintf("int %d", int64(1)<<40)},
				{"system_time", "int -1"},
				{"tsc_to_system_mul", "int 2147483648"},
				{"tsc_shift", "int -3"},
				{"flags", "int 255"},
			},
		},
		{
			name: "a signed short, and comm the builtin over comm the field", system: "oom", format: "oom_score_adj_update",
			fill: func(p *payload) { p.int("pid", 9).chars("comm", "oomer").int("oom_score_adj", -1000) },
			reads: []read{
				{"oom_score_adj", "int -1000"},
				{"comm", `string "worker"`},
			},
		},
		{
			name: "pointers and size_t read as int64", system: "kmem", format: "kmalloc",
			fill: func(p *payload) {
				p.int("call_site", -0x7e0000000000).int("ptr", -0x777f00000000).int("bytes_req", 100).int("bytes_alloc", 128).
					int("gfp_flags", 0xcc0).int("node", -1)
			},
			reads: []read{
				{"call_site", fmt.Sprintf("int %d", int64(-0x7e0000000000))},
				{"ptr", fmt.Sprintf("int %d", int64(-0x777f00000000))},
				{"bytes_req", "int 100"},
				{"bytes_alloc", "int 128"},
				{"gfp_flags", "int 3264"},
				{"node", "int -1"},
			},
		},
		{
			name: "a dynamic array of bytes decodes to bytes", system: "ras", format: "non_standard_event",
			fill: func(p *payload) {
				p.chars("sec_type", "0123456789abcdef").str("fru_text", "DIMM 3").int("sev", 2).int("len", 3).dyn("buf", []byte{1, 0, 255})
			},
			reads: []read{
				{"sec_type", `string "0123456789abcdef"`},
				{"fru_text", `string "DIMM 3"`},
				{"sev", "int 2"},
				{"len", "int 3"},
				{"buf", "bytes [1 0 255]"},
			},
		},
		{
			name: "name is the event's, the payload's name is a field", system: "irq", format: "irq_handler_entry",
			fill: func(p *payload) { p.int("irq", 9).str("name", "eth0") },
			reads: []read{
				{"irq", "int 9"},
				{"name", `string "irq:irq_handler_entry"`},
			},
		},
		{
			name: "__rel_loc strings, dynamic int arrays and short arrays", system: "synth", format: "",
			fill: func(p *payload) {
				p.str("rel", "relative").dyn("vals", []byte{1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff}).ints("pair", -2, 7)
			},
			reads: []read{
				{"rel", `string "relative"`},
				{"vals", "array [1 -2]"},
				{"pair", "array [-2 7]"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev *event.Event
			if tt.format == "" {
				ev = parseEvent(t, tt.system, []byte(synthetic))
			} else {
				ev = loadEvent(t, tt.system, tt.format)
			}
			p := newPayload(t, ev)
			tt.fill(p)
			o := eventobj.New(env(), ev)
			o.Point(record(ev, p.raw))
			for _, r := range tt.reads {
				if got := show(get(t, o, r.key)); got != r.want {
					t.Errorf("e.%s = %s, want %s", r.key, got, r.want)
				}
			}
		})
	}
}

func TestCommFallsBackToTheProcessName(t *testing.T) {
	ev := loadEvent(t, "sched", "sched_switch")
	o := eventobj.New(env(), ev)
	rec := record(ev, newPayload(t, ev).raw)
	for _, tc := range []struct {
		pid, tid int32
		want     string
	}{{42, 43, "worker"}, {42, 44, "main"}, {7, 7, ""}} {
		rec.PID, rec.TID = tc.pid, tc.tid
		o.Point(rec)
		if got := get(t, o, "comm").(*tengo.String).Value; got != tc.want {
			t.Errorf("comm of %d/%d = %q, want %q", tc.pid, tc.tid, got, tc.want)
		}
	}
}

func TestFieldMethodReadsThePayloadEvenWhenShadowed(t *testing.T) {
	ev := loadEvent(t, "sched", "sched_process_exec")
	p := newPayload(t, ev).str("filename", "/bin/sh").int("pid", 777)
	o := eventobj.New(env(), ev)
	o.Point(record(ev, p.raw))
	field := method(t, o, "field")
	tests := []struct {
		name string
		args []tengo.Object
		want string
		err  string
	}{
		{"a shadowed field reads the payload", []tengo.Object{str("pid")}, "int 777", ""},
		{"a plain field reads the payload", []tengo.Object{str("filename")}, `string "/bin/sh"`, ""},
		{"a builtin that is no field reads undefined", []tengo.Object{str("tid")}, "undefined <undefined>", ""},
		{"an unknown name reads undefined", []tengo.Object{str("nope")}, "undefined <undefined>", ""},
		{"a name that is not a string is an error", []tengo.Object{&tengo.Int{Value: 1}}, "", "invalid type for argument 'name'"},
		{"no name is an error", nil, "", "wrong number of arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := field(tt.args...)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("field(%v) error %v, want %q", tt.args, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if show(got) != tt.want {
				t.Errorf("field(%v) = %s, want %s", tt.args, show(got), tt.want)
			}
		})
	}
}

func TestHasMethodKnowsBuiltinsAndFields(t *testing.T) {
	ev := loadEvent(t, "sched", "sched_switch")
	o := eventobj.New(env(), ev)
	o.Point(record(ev, newPayload(t, ev).raw))
	has := method(t, o, "has")
	for name, want := range map[string]bool{
		"next_pid": true, "prev_comm": true, "pid": true, "comm": true, "time": true,
		"common_pid": true, "nope": false, "": false, "filename": false,
	} {
		got, err := has(str(name))
		if err != nil {
			t.Fatal(err)
		}
		wantObj := tengo.FalseValue
		if want {
			wantObj = tengo.TrueValue
		}
		if got != wantObj {
			t.Errorf("has(%q) = %v, want %v", name, got, want)
		}
	}
	if _, err := has(); err == nil {
		t.Error("has() succeeded")
	}
	if _, err := has(&tengo.Int{Value: 1}); err == nil {
		t.Error("has(1) succeeded")
	}
}

func TestUnknownFieldErrorSuggestsTheClosestName(t *testing.T) {
	switchEv := loadEvent(t, "sched", "sched_switch")
	empty := &event.Event{Name: "profile:hz:99", Format: &event.Format{Name: "hz:99"}}
	fields := "; its fields: prev_comm, prev_pid, prev_prio, prev_state, next_comm, next_pid, next_prio"
	tests := []struct {
		name string
		ev   *event.Event
		key  string
		want string
	}{
		{"a transposed field name", switchEv, "next_pdi", `sched:sched_switch has no field "next_pdi" (did you mean next_pid?)` + fields},
		{"a misspelt builtin", switchEv, "tme", `sched:sched_switch has no field "tme" (did you mean time?)` + fields},
		{"a name close to nothing", switchEv, "qqqqqqqq", `sched:sched_switch has no field "qqqqqqqq"` + fields},
		{"an event without payload fields", empty, "cpus", `profile:hz:99 has no field "cpus" (did you mean cpu?); it has no payload fields, only name, time, cpu, pid, tid, comm`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := eventobj.New(env(), tt.ev)
			o.Point(record(tt.ev, make([]byte, 64)))
			for i := 0; i < 2; i++ { // the second read comes from the key cache
				_, err := o.IndexGet(str(tt.key))
				if err == nil || err.Error() != tt.want {
					t.Errorf("read %d: error %v, want %q", i, err, tt.want)
				}
			}
		})
	}
}

func TestIndexingWithANonStringIsAnError(t *testing.T) {
	ev := loadEvent(t, "sched", "sched_switch")
	o := eventobj.New(env(), ev)
	o.Point(record(ev, newPayload(t, ev).raw))
	if _, err := o.IndexGet(&tengo.Int{Value: 0}); err != tengo.ErrInvalidIndexType {
		t.Errorf("e[0]: error %v, want ErrInvalidIndexType", err)
	}
}

func TestAnExpiredEventRefusesToBeRead(t *testing.T) {
	ev := loadEvent(t, "sched", "sched_switch")
	o := eventobj.New(env(), ev)
	o.Point(record(ev, newPayload(t, ev).chars("next_comm", "x").raw))
	copyFn, fieldFn := method(t, o, "copy"), method(t, o, "field")
	o.Expire()
	for _, key := range []string{"next_comm", "pid", "name", "copy", "nope"} {
		_, err := o.IndexGet(str(key))
		if err == nil || !strings.Contains(err.Error(), "keep e.copy() instead") {
			t.Errorf("e.%s after Expire: error %v, want one that mentions e.copy()", key, err)
		}
	}
	// Methods fetched while valid refuse too.
	if _, err := copyFn(); err == nil || !strings.Contains(err.Error(), "e.copy()") {
		t.Errorf("e.copy() after Expire: error %v", err)
	}
	if _, err := fieldFn(str("next_comm")); err == nil || !strings.Contains(err.Error(), "e.copy()") {
		t.Errorf("e.field() after Expire: error %v", err)
	}
	if s := o.String(); !strings.Contains(s, "expired") || !strings.Contains(s, "e.copy()") {
		t.Errorf("String() after Expire = %q", s)
	}
	if c, ok := o.Copy().(*tengo.Error); !ok || !strings.Contains(c.String(), "e.copy()") {
		t.Errorf("copy(e) after Expire = %v, want an error value", o.Copy())
	}
	// Pointing it again makes it readable again.
	o.Point(record(ev, newPayload(t, ev).chars("next_comm", "y").raw))
	if got := show(get(t, o, "next_comm")); got != `string "y"` {
		t.Errorf("after Point: next_comm = %s", got)
	}
}

func TestCopyIsDetachedFromTheRecord(t *testing.T) {
	ev := loadEvent(t, "raw_syscalls", "sys_enter")
	p := newPayload(t, ev).int("id", 1).ints("args", 10, 20, 30, 40, 50, 60)
	o := eventobj.New(env(), ev)
	rec := record(ev, p.raw)
	o.Point(rec)
	byMethod, err := method(t, o, "copy")()
	if err != nil {
		t.Fatal(err)
	}
	byBuiltin := o.Copy()
	// The collector reuses its buffer and the record; the object moves on.
	p.int("id", 2).ints("args", 0, 0, 0, 0, 0, 0)
	rec.PID, rec.TID, rec.Time = 1, 1, 1
	o.Point(record(ev, newPayload(t, ev).int("id", 3).raw))
	o.Expire()
	for name, c := range map[string]tengo.Object{"e.copy()": byMethod, "copy(e)": byBuiltin} {
		m, ok := c.(*tengo.Map)
		if !ok {
			t.Fatalf("%s is %s, want a map", name, c.TypeName())
		}
		keys := make([]string, 0, len(m.Value))
		for k := range m.Value {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if got, want := strings.Join(keys, ","), "args,comm,cpu,id,name,pid,tid,time"; got != want {
			t.Errorf("%s keys %s, want %s", name, got, want)
		}
		for k, want := range map[string]string{
			"id": "int 1", "args": "array [10 20 30 40 50 60]", "pid": "int 42", "tid": "int 43",
			"time": "int 123456789", "comm": `string "worker"`, "name": `string "raw_syscalls:sys_enter"`,
		} {
			if got := show(m.Value[k]); got != want {
				t.Errorf("%s[%q] = %s, want %s", name, k, got, want)
			}
		}
	}
	if byMethod == byBuiltin {
		t.Error("two copies are the same map")
	}
}

func TestStringShowsBuiltinsThenFieldsInOrder(t *testing.T) {
	ev := loadEvent(t, "sched", "sched_switch")
	p := newPayload(t, ev).chars("prev_comm", "bash").int("prev_pid", 100).int("prev_prio", 120).int("prev_state", 1).
		chars("next_comm", "swapper/0").int("next_prio", 120)
	o := eventobj.New(env(), ev)
	o.Point(record(ev, p.raw))
	want := `{name: "sched:sched_switch", time: 123456789, cpu: 3, pid: 42, tid: 43, comm: "worker", ` +
		`prev_comm: "bash", prev_pid: 100, prev_prio: 120, prev_state: 1, next_comm: "swapper/0", next_pid: 0, next_prio: 120}`
	for i := 0; i < 3; i++ {
		if got := o.String(); got != want {
			t.Fatalf("String() =\n%s\nwant\n%s", got, want)
		}
	}
	if o.TypeName() != "event" {
		t.Errorf("TypeName() = %q", o.TypeName())
	}
	if o.IsFalsy() || !o.Equals(o) || o.Equals(eventobj.New(env(), ev)) {
		t.Error("an event is truthy and equal only to itself")
	}

	// A shadowed payload field is left out: the builtin of that name shows.
	exec := loadEvent(t, "sched", "sched_process_exec")
	oe := eventobj.New(env(), exec)
	oe.Point(record(exec, newPayload(t, exec).str("filename", "/bin/true").int("pid", 9).int("old_pid", 9).raw))
	want = `{name: "sched:sched_process_exec", time: 123456789, cpu: 3, pid: 42, tid: 43, comm: "worker", filename: "/bin/true", old_pid: 9}`
	if got := oe.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
}

func TestAShortPayloadIsAnErrorNotAPanic(t *testing.T) {
	sw := loadEvent(t, "sched", "sched_switch")
	exec := loadEvent(t, "sched", "sched_process_exec")
	sys := loadEvent(t, "raw_syscalls", "sys_enter")
	ras := loadEvent(t, "ras", "non_standard_event")
	badLoc := newPayload(t, exec).str("filename", "/bin/sh").raw
	badLoc[8+2] = 0xff // the locator's offset now points past the end
	tests := []struct {
		name string
		ev   *event.Event
		raw  []byte
		key  string
		ok   bool
	}{
		{"a field that fits is read", sw, make([]byte, 30), "prev_pid", true},
		{"an int past the end", sw, make([]byte, 30), "prev_prio", false},
		{"a char array past the end", sw, make([]byte, 30), "next_comm", false},
		{"a nil payload", sw, nil, "prev_pid", false},
		{"a __data_loc string pointing outside", exec, badLoc, "filename", false},
		{"a __data_loc locator past the end", exec, make([]byte, 10), "filename", false},
		{"an array cut short", sys, make([]byte, 40), "args", false},
		{"a dynamic byte array pointing outside", ras, func() []byte {
			b := newPayload(t, ras).raw
			b[52], b[53], b[54], b[55] = 0x00, 0x10, 0x04, 0x00 // 4 bytes at 4096
			return b
		}(), "buf", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := eventobj.New(env(), tt.ev)
			o.Point(record(tt.ev, tt.raw))
			v, err := o.IndexGet(str(tt.key))
			if tt.ok {
				if err != nil {
					t.Fatalf("e.%s: %v", tt.key, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("e.%s = %v, want an error", tt.key, v)
			}
			want := fmt.Sprintf("%s: field %s lies outside the %d-byte payload", tt.ev.Name, tt.key, len(tt.raw))
			if err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			// Printing and copying do not fail: the field shows undefined.
			if s := o.String(); !strings.Contains(s, tt.key+": <undefined>") {
				t.Errorf("String() = %s, want %s undefined", s, tt.key)
			}
			if m, ok := o.Copy().(*tengo.Map); !ok || m.Value[tt.key] != tengo.UndefinedValue {
				t.Errorf("Copy()[%s] = %v, want undefined", tt.key, o.Copy())
			}
		})
	}
}
