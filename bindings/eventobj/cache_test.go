package eventobj_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"

	"otrace/bindings/eventobj"
)

func TestKeyCacheGivesTheRightFieldWhenKeysCollide(t *testing.T) {
	ev := loadEvent(t, "sched", "sched_switch")
	names := []string{
		"name", "time", "cpu", "pid", "tid", "comm", "lost", "fields",
		"prev_comm", "prev_pid", "prev_prio", "prev_state", "next_comm", "next_pid", "next_prio",
		"common_pid", "nope", "next_pdi",
	}
	// The cache has far fewer slots than the 18 names: with several key
	// objects per name, distinct names are bound to share slots, and one
	// name reaches the cache through several key objects.
	type key struct {
		k    *tengo.String
		name string
	}
	var keys []key
	for copies := 0; copies < 4; copies++ {
		for _, n := range names {
			keys = append(keys, key{&tengo.String{Value: n}, n})
		}
	}
	want := func(i int, name string) string {
		switch name {
		case "name":
			return `string "sched:sched_switch"`
		case "time":
			return fmt.Sprintf("int %d", 1000+i)
		case "cpu":
			return fmt.Sprintf("int %d", i%4)
		case "pid", "common_pid":
			return fmt.Sprintf("int %d", 100+i)
		case "tid":
			return fmt.Sprintf("int %d", 200+i)
		case "comm":
			return `string ""`
		case "lost":
			return fmt.Sprintf("int %d", i)
		case "fields":
			return `array ["prev_comm" "prev_pid" "prev_prio" "prev_state" "next_comm" "next_pid" "next_prio"]`
		case "prev_comm":
			return fmt.Sprintf(`string "p%d"`, i)
		case "next_comm":
			return fmt.Sprintf(`string "n%d"`, i)
		case "prev_pid":
			return fmt.Sprintf("int %d", 300+i)
		case "prev_prio":
			return fmt.Sprintf("int %d", 400+i)
		case "prev_state":
			return fmt.Sprintf("int %d", -i)
		case "next_pid":
			return fmt.Sprintf("int %d", 500+i)
		case "next_prio":
			return fmt.Sprintf("int %d", 600+i)
		}
		return "error"
	}
	o := eventobj.New(env(), ev)
	// Each round re-points the object at a new record and reads every key
	// in a different order, so each read may hit, miss or evict.
	for i := 0; i < 20; i++ {
		p := newPayload(t, ev).int("common_pid", int64(100+i)).chars("prev_comm", fmt.Sprintf("p%d", i)).
			int("prev_pid", int64(300+i)).int("prev_prio", int64(400+i)).int("prev_state", int64(-i)).
			chars("next_comm", fmt.Sprintf("n%d", i)).int("next_pid", int64(500+i)).int("next_prio", int64(600+i))
		rec := record(ev, p.raw)
		rec.Time, rec.CPU, rec.PID, rec.TID, rec.Lost = uint64(1000+i), uint32(i%4), int32(100+i), int32(200+i), uint64(i)
		o.Point(rec)
		for j := range keys {
			k := keys[(j*7+i*5)%len(keys)]
			v, err := o.IndexGet(k.k)
			got := "error"
			if err == nil {
				got = show(v)
			} else if !strings.Contains(err.Error(), "has no field") {
				t.Fatalf("round %d: e.%s: %v", i, k.name, err)
			}
			if w := want(i, k.name); got != w {
				t.Fatalf("round %d: e.%s = %s, want %s", i, k.name, got, w)
			}
		}
	}
}

func TestEachEventKindHasItsOwnKeyCache(t *testing.T) {
	sw := loadEvent(t, "sched", "sched_switch")
	exec := loadEvent(t, "sched", "sched_process_exec")
	env := env()
	osw, oexec := eventobj.New(env, sw), eventobj.New(env, exec)
	// The same key objects, as a script's constants would be, read from
	// both kinds in turn.
	nextPid, filename, pid := str("next_pid"), str("filename"), str("pid")
	for i := 0; i < 3; i++ {
		osw.Point(record(sw, newPayload(t, sw).int("next_pid", int64(10+i)).raw))
		oexec.Point(record(exec, newPayload(t, exec).str("filename", fmt.Sprintf("/bin/%d", i)).int("pid", 99).raw))
		if v, err := osw.IndexGet(nextPid); err != nil || show(v) != fmt.Sprintf("int %d", 10+i) {
			t.Errorf("switch e.next_pid = %v, %v", v, err)
		}
		if _, err := oexec.IndexGet(nextPid); err == nil {
			t.Error("exec e.next_pid succeeded")
		}
		if v, err := oexec.IndexGet(filename); err != nil || show(v) != fmt.Sprintf(`string "/bin/%d"`, i) {
			t.Errorf("exec e.filename = %v, %v", v, err)
		}
		if _, err := osw.IndexGet(filename); err == nil {
			t.Error("switch e.filename succeeded")
		}
		for _, o := range []*eventobj.Event{osw, oexec} {
			if v, err := o.IndexGet(pid); err != nil || show(v) != "int 42" {
				t.Errorf("e.pid = %v, %v; want the builtin 42", v, err)
			}
		}
	}
}

func TestValuesInternStrings(t *testing.T) {
	v := eventobj.NewValues()
	a := v.Str([]byte("swapper/0"))
	b := v.Str([]byte("swapper/0"))
	c := v.String("swapper/0")
	if a != b || a != c {
		t.Error("the same text gave different *tengo.String")
	}
	if a.Value != "swapper/0" {
		t.Errorf("Str = %q", a.Value)
	}
	if d := v.Str([]byte("kworker")); d == a || d.Value != "kworker" {
		t.Errorf("a different text gave %q", d.Value)
	}
	if e := v.Str(nil); e.Value != "" || e != v.String("") {
		t.Errorf("empty text gave %q, or was not interned", e.Value)
	}

	// The bytes are copied: the caller's buffer may change afterwards.
	buf := []byte("bash")
	s := v.Str(buf)
	copy(buf, "zsh!")
	if s.Value != "bash" || v.Str([]byte("bash")) != s {
		t.Errorf("interned string changed with its source buffer: %q", s.Value)
	}

	long := strings.Repeat("x", 300)
	l1, l2 := v.Str([]byte(long)), v.Str([]byte(long))
	if l1.Value != long || l2.Value != long {
		t.Error("a long string came back wrong")
	}
	if l1 == l2 {
		t.Error("a 300-byte string was interned; only short ones should be")
	}
}

func TestValuesStopInterningWhenFull(t *testing.T) {
	v := eventobj.NewValues()
	for i := 0; i < 1<<16+10; i++ {
		s := fmt.Sprintf("s%d", i)
		if got := v.Str([]byte(s)); got.Value != s {
			t.Fatalf("Str(%q) = %q", s, got.Value)
		}
	}
	first := v.Str([]byte("s0"))
	if first != v.Str([]byte("s0")) {
		t.Error("a string interned before the table filled is no longer shared")
	}
	late := fmt.Sprintf("s%d", 1<<16+5)
	if a, b := v.Str([]byte(late)), v.Str([]byte(late)); a.Value != late || a == b {
		t.Errorf("a string past the table's limit: %q, shared %v", a.Value, a == b)
	}
}

func TestRepeatedStringsAllocateNothing(t *testing.T) {
	v := eventobj.NewValues()
	b := []byte("swapper/0")
	v.Str(b)
	if n := testing.AllocsPerRun(1000, func() { v.Str(b) }); n != 0 {
		t.Errorf("Str of an interned string allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { v.String("swapper/0") }); n != 0 {
		t.Errorf("String of an interned string allocates %v times", n)
	}
}

func TestValuesCacheSmallInts(t *testing.T) {
	v := eventobj.NewValues()
	for _, n := range []int64{0, 1, 42, 1024} {
		a, b := v.Int(n), v.Int(n)
		if a != b || a.Value != n {
			t.Errorf("Int(%d): %d, shared %v; want a cached value", n, a.Value, a == b)
		}
	}
	for _, n := range []int64{-1, 1025, 1 << 40, -1 << 63} {
		a, b := v.Int(n), v.Int(n)
		if a.Value != n || b.Value != n {
			t.Errorf("Int(%d) = %d", n, a.Value)
		}
		if a == b {
			t.Errorf("Int(%d) is shared; only 0..1024 are cached", n)
		}
	}
	if n := testing.AllocsPerRun(1000, func() { v.Int(512) }); n != 0 {
		t.Errorf("Int(512) allocates %v times", n)
	}
}

func TestReadingFieldsAllocatesNothingForInternedValues(t *testing.T) {
	ev := loadEvent(t, "sched", "sched_switch")
	p := newPayload(t, ev).chars("next_comm", "swapper/0").int("next_pid", 7).int("prev_prio", 120)
	o := eventobj.New(env(), ev)
	o.Point(record(ev, p.raw))
	for _, name := range []string{"next_comm", "next_pid", "prev_prio", "pid", "tid", "cpu", "comm", "name", "copy", "fields"} {
		key := str(name)
		get(t, o, name)
		if n := testing.AllocsPerRun(1000, func() {
			if _, err := o.IndexGet(key); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("e.%s allocates %v times per read", name, n)
		}
	}
}

func benchRead(b *testing.B, field string) {
	ev := loadEvent(b, "sched", "sched_switch")
	p := newPayload(b, ev).chars("next_comm", "swapper/0").int("next_pid", 1234567)
	o := eventobj.New(env(), ev)
	o.Point(record(ev, p.raw))
	key := str(field)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.IndexGet(key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIndexGetString reads an interned char array (e.next_comm).
func BenchmarkIndexGetString(b *testing.B) { benchRead(b, "next_comm") }

// BenchmarkIndexGetInt reads a pid above the small-int cache (e.next_pid),
// so it includes one *tengo.Int allocation.
func BenchmarkIndexGetInt(b *testing.B) { benchRead(b, "next_pid") }
