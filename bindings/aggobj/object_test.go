package aggobj

import (
	"bytes"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"

	"otrace/runtime/aggregate"
)

func TestScriptsAggregateAndPrint(t *testing.T) {
	tests := []struct {
		name string
		src  string
	}{
		{"count_keys_of_every_kind", `
c := otrace.count("calls")
c.inc()
c.inc(undefined)
c.inc("bash")
c.inc("bash")
c.add("sshd", 5)
c.inc(12)
c.inc(["bash", 12])
c.inc(["bash", 12])
c.add(3)
c.print()
`},
		{"each_kind_reads_back", `
for kind in ["count", "sum", "min", "max", "avg", "stats"] {
	a := otrace[kind]()
	for v in [1, 2, 7] { a.add("k", v) }
	emit(kind, a.get("k"))
}
h := otrace.hist()
for v in [0, 1, 2, 3, 1024] { h.add(v) }
emit("hist", h.get())
l := otrace.lhist(0, 100, 10)
for v in [-1, 5, 100] { l.add("k", v) }
emit("lhist", l.get("k"))
`},
		{"missing_keys_read_as_nothing", `
emit(otrace.count().get("x"), otrace.sum().get(), otrace.min().get("x"), otrace.avg().get(), otrace.hist().get("x"))
`},
		{"sums_beyond_int64_read_as_floats", `
s := otrace.sum("big")
s.add(9223372036854775807)
s.add(9223372036854775807)
emit(s.get())
s.print()
`},
		{"top_keys_len_delete_clear", `
c := otrace.count("c")
for k in ["d", "b", "c", "a", "e", "c", "d", "a", "a"] { c.inc(k) }
emit("top", c.top())
emit("top 2", c.top(2))
emit("top 0", c.top(0))
emit("top 10", c.top(10))
emit("keys", c.keys())
emit("len", c.len())
emit("delete a", c.delete("a"), "again", c.delete("a"))
emit("len", c.len(), c.keys())
c.clear()
emit("cleared", c.len(), c.keys(), c.top())
c.inc(["x", 1])
emit("tuple key", c.keys(), c.top(1))
`},
		{"print_and_string_agree", `
h := otrace.hist("usecs")
for v in [0, 0, 2, 3, 5, 8, 1024] { h.add(v) }
h.print()
emit(string(h) == "" ? "empty" : "string too")
emit(h)
emit(h.name, type_name(h), type_name(otrace.lhist(0, 1, 1)))
`},
		{"max_keys_drops_and_reports", `
c := otrace.count("x", {max_keys: 2})
for k in ["a", "b", "c", "d", "a"] { c.inc(k) }
c.add("e", 1000)
c.print()
`},
		{"copies_are_the_same_aggregation", `
c := otrace.count("c")
d := copy(c)
d.inc("a")
m := {agg: c}
n := copy(m)
n.agg.inc("a")
emit(c.get("a"), c == d, c == otrace.count())
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustLoad(t, tt.src)
			r.out.WriteString("-- PrintAll\n")
			if err := r.mod.PrintAll(&r.out); err != nil {
				t.Fatal(err)
			}
			for _, w := range r.warnings {
				r.out.WriteString("-- warning: " + w + "\n")
			}
			golden(t, tt.name, r.out.String())
		})
	}
}

func TestWrongArgumentsSayWhatIsWrong(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"a map key", `otrace.count().inc({})`, "count.inc: key must be a string, int, array or stack, not map"},
		{"a float key", `otrace.sum().add(1.5, 1)`, "sum.add: key must be a string, int, array or stack, not float"},
		{"a bool key to get", `otrace.hist().get(true)`, "hist.get: key must be a string, int, array or stack, not bool"},
		{"a map inside a tuple", `otrace.count().inc(["a", {}])`, "count.inc: a key array holds strings, ints and stacks, not map (element 1)"},
		{"a nested tuple", `otrace.count().inc([[1]])`, "a key array holds strings, ints and stacks, not array (element 0)"},
		{"an empty tuple", `otrace.count().inc([])`, "count.inc: a key array must not be empty"},
		{"a float value", `otrace.hist().add(1.5)`, "hist.add: value must be an int, not float"},
		{"a string n", `otrace.count().add("k", "1")`, "count.add: n must be an int, not string"},
		{"a negative n", `otrace.count().add("k", -1)`, "count.add: n must not be negative, got -1"},
		{"too many arguments to inc", `otrace.count().inc(1, 2)`, "count.inc([key]): want at most 1 argument, got 2"},
		{"no arguments to add", `otrace.avg().add()`, "avg.add([key,] value): want 1 or 2 arguments, got 0"},
		{"inc on a sum", `otrace.sum().inc("k")`, `a sum has add, get, top, keys, len, clear, print, delete, by and name, not "inc"`},
		{"an unknown method", `otrace.count().incr("k")`, `a count has inc, add, get`},
		{"a negative top", `otrace.count().top(-1)`, "count.top: n must be an int of at least 0, not -1"},
		{"arguments to len", `otrace.count().len(1)`, "count.len() takes no arguments"},
		{"a name that is not a string", `otrace.count(1)`, "otrace.count([name], [opts]): name must be a string, not int"},
		{"options that are not a map", `otrace.count("x", 1)`, "otrace.count: options must be a map like {max_keys: 1000}, not int"},
		{"unknown options", `otrace.count("x", {max_key: 1, y: 2})`, "otrace.count: unknown option(s) max_key, y; known: max_keys"},
		{"zero max_keys", `otrace.count("x", {max_keys: 0})`, "otrace.count: max_keys must be an int from 1 to 2147483647, not 0"},
		{"too many constructor arguments", `otrace.sum("x", {}, 3)`, "otrace.sum([name], [opts]): want at most 2 arguments, got 3"},
		{"a duplicate name", `otrace.count("x"); otrace.sum("x")`, `otrace.sum: an aggregation named "x" exists already`},
		{"lhist without bounds", `otrace.lhist("x", 0, 10)`, "otrace.lhist([name], min, max, step, [opts]): want min, max and step"},
		{"lhist with a float bound", `otrace.lhist("x", 0, 10.0, 1)`, "otrace.lhist: max must be an int, not float"},
		{"lhist with a zero step", `otrace.lhist(0, 10, 0)`, "otrace.lhist: lhist step must be at least 1, got 0"},
		{"lhist with max below min", `otrace.lhist(10, 0, 1)`, "otrace.lhist: lhist max (0) must be greater than min (10)"},
		{"lhist with too many buckets", `otrace.lhist(0, 100000, 1)`, "at most 1000: raise the step"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestCopyReturnsTheSameObject(t *testing.T) {
	m := New(Config{})
	for name, fn := range m.Functions() {
		args := []tengo.Object{}
		if name == "lhist" {
			args = []tengo.Object{&tengo.Int{Value: 0}, &tengo.Int{Value: 10}, &tengo.Int{Value: 1}}
		}
		o, err := fn.(*tengo.UserFunction).Value(args...)
		if err != nil {
			t.Fatal(err)
		}
		if o.Copy() != o {
			t.Errorf("%s: Copy() returned another object", name)
		}
		if a, ok := Agg(o); !ok || a.Kind().String() != name {
			t.Errorf("%s: Agg() = %v, %v", name, a, ok)
		}
	}
}

func TestStackKeysComeBackAsTheStackObjects(t *testing.T) {
	r := mustLoad(t, `
c := otrace.count("stacks")
keep("inc", func(s) { c.inc(s); c.inc(["sleep", s]) })
keep("keys", func() { return c.keys() })
`)
	s1 := &fakeStack{id: 1, text: "\tschedule+0x2a (vmlinux)\n"}
	s2 := &fakeStack{id: 2, text: "\tnanosleep+0x14 (libc.so.6)\n"}
	for _, s := range []*fakeStack{s1, s2, s1} {
		if _, err := r.script.Call1(r.kept["inc"], s); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := r.script.Call0(r.kept["keys"])
	if err != nil {
		t.Fatal(err)
	}
	// Tuples sort before stacks; stacks by their text.
	ks := keys.(*tengo.Array).Value
	if len(ks) != 4 || ks[2] != s2 || ks[3] != s1 {
		t.Fatalf("keys() = %v, want the two tuples then the two stack objects", keys)
	}
	if tuple := ks[0].(*tengo.Array).Value; tuple[1] != s2 {
		t.Errorf("a tuple key holds %v, want the stack object", tuple[1])
	}
	var b bytes.Buffer
	if err := r.mod.PrintAll(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "stack_keys", b.String())
}

func TestKnownKeysAllocateNothingInGo(t *testing.T) {
	stack := &fakeStack{id: 7, text: "\tf\n"}
	tests := []struct {
		name   string
		kind   string
		method string
		args   []tengo.Object
	}{
		{"count.inc of nothing", "count", "inc", nil},
		{"count.inc of a string", "count", "inc", []tengo.Object{&tengo.String{Value: "bash"}}},
		{"count.inc of an int", "count", "inc", []tengo.Object{&tengo.Int{Value: 42}}},
		{"count.inc of a tuple", "count", "inc", []tengo.Object{&tengo.Array{Value: []tengo.Object{&tengo.String{Value: "bash"}, &tengo.Int{Value: 42}}}}},
		{"count.inc of a stack", "count", "inc", []tengo.Object{stack}},
		{"count.add of a string", "count", "add", []tengo.Object{&tengo.String{Value: "bash"}, &tengo.Int{Value: 3}}},
		{"hist.add of a value", "hist", "add", []tengo.Object{&tengo.Int{Value: 300}}},
		{"stats.add of a tuple", "stats", "add", []tengo.Object{&tengo.ImmutableArray{Value: []tengo.Object{&tengo.String{Value: "bash"}, stack}}, &tengo.Int{Value: 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Config{})
			o, err := m.Functions()[tt.kind].(*tengo.UserFunction).Value()
			if err != nil {
				t.Fatal(err)
			}
			method, err := o.IndexGet(&tengo.String{Value: tt.method})
			if err != nil {
				t.Fatal(err)
			}
			call := method.(*tengo.UserFunction).Value
			if _, err := call(tt.args...); err != nil { // the key is new here
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(1000, func() {
				if _, err := call(tt.args...); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s allocates %v times per call, want 0", tt.name, allocs)
			}
		})
	}
}

func TestUnnamedAggregationsDoNotPrintAtTheEnd(t *testing.T) {
	r := mustLoad(t, `
otrace.count().inc("a")
otrace.count(undefined, {max_keys: 1}).inc("b")
otrace.count("named").inc("c")
`)
	var b bytes.Buffer
	if err := r.mod.PrintAll(&b); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "@named[c]: 1\n" {
		t.Errorf("PrintAll = %q, want only @named", got)
	}
	if n := len(r.mod.Registry().All()); n != 3 {
		t.Errorf("the registry holds %d aggregations, want 3", n)
	}
	if a := r.mod.Registry().All()[1]; a.MaxKeys() != 1 || a.Kind() != aggregate.Count {
		t.Errorf("the second aggregation is a %s of max_keys %d", a.Kind(), a.MaxKeys())
	}
}
