package otracemod_test

import (
	"strings"
	"testing"

	"github.com/d5/tengo/v2"
)

func i(v int64) *tengo.Int               { return &tengo.Int{Value: v} }
func f(v float64) *tengo.Float           { return &tengo.Float{Value: v} }
func s(v string) *tengo.String           { return &tengo.String{Value: v} }
func arr(v ...tengo.Object) *tengo.Array { return &tengo.Array{Value: v} }

func TestSortOrdersValues(t *testing.T) {
	tests := []struct {
		name string
		in   tengo.Object
		desc tengo.Object // nil: no second argument
		want string
	}{
		{"ints", arr(i(3), i(-1), i(2), i(0)), nil, "[-1, 0, 2, 3]"},
		{"ints above 2^53 that differ by one", arr(i(1<<53+1), i(1<<53), i(1<<53+3), i(1<<53+2)), nil,
			"[9007199254740992, 9007199254740993, 9007199254740994, 9007199254740995]"},
		{"the extremes of int64", arr(i(1<<63-1), i(-1<<63), i(1<<63-2), i(-1<<63+1)), nil,
			"[-9223372036854775808, -9223372036854775807, 9223372036854775806, 9223372036854775807]"},
		{"floats", arr(f(2.5), f(-1.25), f(0.5)), nil, "[-1.25, 0.5, 2.5]"},
		{"ints and floats by value", arr(i(2), f(1.5), i(1), f(2.25)), nil, "[1, 1.5, 2, 2.25]"},
		{"strings bytewise", arr(s("b"), s("B"), s("a"), s("ab"), s("")), nil, `["", "B", "a", "ab", "b"]`},
		{"mixed kinds by kind name", arr(i(3), s("a"), f(1.5), arr(i(1)), tengo.TrueValue), nil, `[[1], true, 1.5, 3, "a"]`},
		{"[count, name] pairs by count, then name", arr(arr(i(3), s("b")), arr(i(5), s("a")), arr(i(3), s("a"))), nil,
			`[[3, "a"], [3, "b"], [5, "a"]]`},
		{"[count, name] pairs descending", arr(arr(i(3), s("b")), arr(i(5), s("a")), arr(i(3), s("a"))), tengo.TrueValue,
			`[[5, "a"], [3, "b"], [3, "a"]]`},
		{"a shorter array before a longer one it starts", arr(arr(i(1), i(2)), arr(i(1)), arr()), nil, "[[], [1], [1, 2]]"},
		{"immutable arrays and arrays together", arr(&tengo.ImmutableArray{Value: []tengo.Object{i(2)}}, arr(i(1))), nil, "[[1], [2]]"},
		{"descending ints", arr(i(1), i(3), i(2)), tengo.TrueValue, "[3, 2, 1]"},
		{"descending above 2^53", arr(i(1<<53), i(1<<53+1)), tengo.TrueValue, "[9007199254740993, 9007199254740992]"},
		{"a falsy second argument sorts ascending", arr(i(1), i(3), i(2)), i(0), "[1, 2, 3]"},
		{"an immutable array", &tengo.ImmutableArray{Value: []tengo.Object{s("b"), s("a")}}, nil, `["a", "b"]`},
		{"an empty array", arr(), nil, "[]"},
	}
	sortFn := sortFn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []tengo.Object{tt.in}
			if tt.desc != nil {
				args = append(args, tt.desc)
			}
			before := tt.in.String()
			got, err := sortFn(args...)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := got.(*tengo.Array); !ok {
				t.Errorf("sort returned %s, want an array", got.TypeName())
			}
			if got.String() != tt.want {
				t.Errorf("sort = %s, want %s", got, tt.want)
			}
			if tt.in.String() != before {
				t.Errorf("sort changed its input to %s", tt.in)
			}
		})
	}
}

func TestSortIsStable(t *testing.T) {
	// 1 and 1.0 compare equal, as do two values of a kind without an order.
	one, oneF, two := i(1), f(1), i(2)
	yes, no := tengo.TrueValue, tengo.FalseValue
	tests := []struct {
		name string
		in   []tengo.Object
		desc bool
		want []tengo.Object
	}{
		{"ascending keeps equal values in order", []tengo.Object{two, one, oneF}, false, []tengo.Object{one, oneF, two}},
		{"ascending keeps equal values in order, reversed", []tengo.Object{oneF, two, one}, false, []tengo.Object{oneF, one, two}},
		{"descending keeps equal values in order", []tengo.Object{one, two, oneF}, true, []tengo.Object{two, one, oneF}},
		{"unordered values stay where they are", []tengo.Object{yes, no, yes}, false, []tengo.Object{yes, no, yes}},
	}
	sortFn := sortFn(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sortFn(arr(tt.in...), tengo.FalseValue)
			if tt.desc {
				got, err = sortFn(arr(tt.in...), tengo.TrueValue)
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, o := range got.(*tengo.Array).Value {
				if o != tt.want[k] {
					t.Fatalf("element %d is %s %s, want %s %s", k, o.TypeName(), o, tt.want[k].TypeName(), tt.want[k])
				}
			}
		})
	}
}

func TestSortRefusesBadArguments(t *testing.T) {
	sortFn := sortFn(t)
	tests := []struct {
		name string
		args []tengo.Object
		want string
	}{
		{"no arguments", nil, "otrace.sort(array, [descending]): want 1 or 2 arguments, got 0"},
		{"three arguments", []tengo.Object{arr(), tengo.TrueValue, tengo.TrueValue}, "otrace.sort(array, [descending]): want 1 or 2 arguments, got 3"},
		{"a map", []tengo.Object{&tengo.Map{Value: map[string]tengo.Object{}}}, "otrace.sort: want an array, got map"},
		{"a string", []tengo.Object{s("cba")}, "otrace.sort: want an array, got string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sortFn(tt.args...)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSortFromAScript(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.mustLoad(`
counts := {sshd: 3, bash: 10, cron: 3, init: 1}
pairs := []
for name, n in counts { pairs = append(pairs, [n, name]) }
for p in otrace.sort(pairs, true) { otrace.printf("%d %s\n", p[0], p[1]) }
keys := []
for k, _ in counts { keys = append(keys, k) }
otrace.printf("%v\n", otrace.sort(keys))
`)
	want := "10 bash\n3 sshd\n3 cron\n1 init\n" + `["bash", "cron", "init", "sshd"]` + "\n"
	if got := r.out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	if err := newRig(t, rigConfig{}).load(`otrace.sort({})`); err == nil || !strings.Contains(err.Error(), "want an array, got map") {
		t.Errorf("sort of a map: %v", err)
	}
}
