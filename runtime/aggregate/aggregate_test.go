package aggregate

import (
	"slices"
	"strings"
	"testing"
)

func TestEachKindKeepsItsEdgeValues(t *testing.T) {
	tests := []struct {
		name   string
		kind   Kind
		values []int64
		want   string
	}{
		{"a count adds one per inc", Count, []int64{1, 1, 1}, "3"},
		{"a count adds n, zero included", Count, []int64{5, 0, 7}, "12"},
		{"a count of one zero exists and is zero", Count, []int64{0}, "0"},
		{"a sum of zero is zero", Sum, []int64{0}, "0"},
		{"a sum takes negatives", Sum, []int64{0, -5, 3}, "-2"},
		{"a sum past the largest int64 stays exact", Sum, []int64{maxInt, maxInt}, "18446744073709551614"},
		{"a sum past the smallest int64 stays exact", Sum, []int64{minInt, minInt}, "-18446744073709551616"},
		{"a sum that comes back into int64 is exact", Sum, []int64{maxInt, maxInt, minInt, minInt}, "-2"},
		{"a sum of the two extremes is minus one", Sum, []int64{maxInt, minInt}, "-1"},
		{"a min of zero is zero", Min, []int64{0}, "0"},
		{"a min takes the smallest", Min, []int64{3, -1, 5}, "-1"},
		{"a min reaches the smallest int64", Min, []int64{maxInt, minInt}, "-9223372036854775808"},
		{"a min of only the largest int64 is it", Min, []int64{maxInt}, "9223372036854775807"},
		{"a max of zero is zero", Max, []int64{0}, "0"},
		{"a max of negatives is the least negative", Max, []int64{-7, -3, -5}, "-3"},
		{"a max reaches the largest int64", Max, []int64{minInt, maxInt}, "9223372036854775807"},
		{"a max of only the smallest int64 is it", Max, []int64{minInt}, "-9223372036854775808"},
		{"an avg of zero is zero", Avg, []int64{0}, "0"},
		{"an avg prints a half", Avg, []int64{1, 2}, "1.5"},
		{"an avg of negatives keeps the sign", Avg, []int64{-1, -2}, "-1.5"},
		{"an avg rounds to two decimals", Avg, []int64{1, 1, 2}, "1.33"},
		{"an avg just below one rounds up", Avg, append(repeat(1, 1999), 0), "1"},
		{"an avg just above minus one rounds down", Avg, append(repeat(-1, 1999), 0), "-1"},
		{"a small negative avg keeps its sign", Avg, []int64{-1, 0, 0}, "-0.33"},
		{"an avg of the largest int64 is exact", Avg, []int64{maxInt, maxInt}, "9223372036854775807"},
		{"an avg of the smallest int64 is exact", Avg, []int64{minInt, minInt}, "-9223372036854775808"},
		{"an avg of both extremes is minus a half", Avg, []int64{maxInt, minInt}, "-0.5"},
		{"stats of one to three", Stats, []int64{1, 2, 3}, "count 3, average 2, total 6, min 1, max 3"},
		{"stats of zero", Stats, []int64{0}, "count 1, average 0, total 0, min 0, max 0"},
		{"stats of both extremes", Stats, []int64{maxInt, minInt},
			"count 2, average -0.5, total -1, min -9223372036854775808, max 9223372036854775807"},
		{"stats past int64 keep the total exact", Stats, []int64{maxInt, maxInt, maxInt},
			"count 3, average 9223372036854775807, total 27670116110564327421, min 9223372036854775807, max 9223372036854775807"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustNew(t, tt.kind, "x", Options{})
			for _, v := range tt.values {
				add(t, a, Key{}, v)
			}
			if got, want := a.String(), "@x: "+tt.want+"\n"; got != want {
				t.Errorf("%s of %v prints %q, want %q", tt.kind, tt.values, got, want)
			}
		})
	}
}

func TestValuesReadBackExactly(t *testing.T) {
	a := mustNew(t, Stats, "x", Options{})
	add(t, a, Key{}, maxInt)
	add(t, a, Key{}, maxInt)
	v, _ := a.Get(&Key{})
	if got := v.Avg(); got != float64(maxInt) {
		t.Errorf("Avg = %v, want %v", got, float64(maxInt))
	}
	if _, fits := v.Sum(); fits {
		t.Error("Sum of two largest int64 reports that it fits in an int64")
	}
	add(t, a, Key{}, minInt)
	add(t, a, Key{}, minInt)
	if s, fits := v.Sum(); !fits || s != -2 {
		t.Errorf("Sum = %d, %v; want -2, true", s, fits)
	}
	if got := v.Avg(); got != -0.5 {
		t.Errorf("Avg = %v, want -0.5", got)
	}
}

func TestKeysOfDifferentKindsAreDifferentKeys(t *testing.T) {
	a := mustNew(t, Count, "x", Options{})
	keys := []Key{
		{},
		Int(1),
		Str("1"),
		Tuple(Int(1)),
		Tuple(Str("1")),
		Tuple(Int(1), Int(1)),
		Tuple(Str("\x01"), Str("")), // same bytes as ("", "\x01") unless lengths are encoded
		Tuple(Str(""), Str("\x01")),
		StackOf(&fakeStack{id: 1, text: "1"}),
	}
	for i, k := range keys {
		for range i + 1 {
			add(t, a, k, 1)
		}
	}
	if a.Len() != len(keys) {
		t.Fatalf("Len = %d, want %d", a.Len(), len(keys))
	}
	for i, k := range keys {
		v, ok := a.Get(&k)
		if !ok || v.Count != int64(i+1) {
			t.Errorf("key %d (%v) holds %v, %v; want %d", i, k, v, ok, i+1)
		}
	}
}

func TestATupleKeyIsCopiedWhenStored(t *testing.T) {
	a := mustNew(t, Count, "x", Options{})
	elems := []Key{Str("bash"), Int(12)}
	add(t, a, Tuple(elems...), 1)
	elems[0] = Str("sshd") // the caller reuses its slice
	add(t, a, Tuple(elems...), 1)
	add(t, a, Tuple(Str("bash"), Int(12)), 1)
	if got, want := a.String(), "@x[sshd, 12]: 1\n@x[bash, 12]: 2\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestAddingToAKnownKeyDoesNotAllocate(t *testing.T) {
	stack := &fakeStack{id: 7, text: "\tf\n"}
	tests := []struct {
		name string
		kind Kind
		key  Key
	}{
		{"an unkeyed count", Count, Key{}},
		{"a count by int", Count, Int(42)},
		{"a count by string", Count, Str("bash")},
		{"a count by tuple", Count, Tuple(Str("bash"), Int(42))},
		{"a count by stack", Count, StackOf(stack)},
		{"a stats by tuple", Stats, Tuple(Str("bash"), Int(42))},
		{"a hist by string", Hist, Str("bash")},
		{"an lhist by int", LHist, Int(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustNew(t, tt.kind, "x", Options{Linear: Linear{0, 100, 10}})
			k := tt.key
			add(t, a, k, 1)
			allocs := testing.AllocsPerRun(1000, func() { a.Add(&k, 5) })
			if allocs != 0 {
				t.Errorf("Add allocates %v times per call, want 0", allocs)
			}
		})
	}
}

func TestTheKeyCapDropsAndCountsNewKeys(t *testing.T) {
	var warnings []string
	warn := func(msg string) { warnings = append(warnings, msg) }
	a := mustNew(t, Count, "x", Options{MaxKeys: 2, Warn: warn})
	add(t, a, Str("a"), 1)
	add(t, a, Str("b"), 1)
	for _, k := range []Key{Str("c"), Str("d"), Str("c"), Int(1), {}} {
		if a.Add(&k, 1) {
			t.Errorf("Add(%v) on a full aggregation was kept", k)
		}
	}
	k := Str("e")
	a.Add(&k, 1000) // a count drops by how much it would have counted
	add(t, a, Str("a"), 1)
	if a.Len() != 2 {
		t.Errorf("Len = %d, want 2", a.Len())
	}
	if a.Dropped() != 1005 {
		t.Errorf("Dropped = %d, want 1005", a.Dropped())
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "@x reached max_keys 2") {
		t.Errorf("warnings = %q, want one about @x and max_keys 2", warnings)
	}
	want := "@x[b]: 1\n@x[a]: 2\n@x: 1,005 updates of new keys dropped (max_keys 2)\n"
	if got := a.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	a.Clear()
	if a.Dropped() != 0 || a.String() != "" {
		t.Errorf("after Clear: Dropped = %d, String = %q; want 0, \"\"", a.Dropped(), a.String())
	}
	add(t, a, Str("z"), 1)
	add(t, a, Str("y"), 1)
	a.Add(&k, 1)
	if len(warnings) != 1 {
		t.Errorf("the warning came %d times, want once", len(warnings))
	}
}

func TestTheDefaultKeyCapIs65536(t *testing.T) {
	a := mustNew(t, Count, "x", Options{})
	for i := range DefaultMaxKeys + 10 {
		k := Int(int64(i))
		a.Add(&k, 1)
	}
	if a.Len() != 65536 || a.Dropped() != 10 || a.MaxKeys() != 65536 {
		t.Errorf("Len, Dropped, MaxKeys = %d, %d, %d; want 65536, 10, 65536", a.Len(), a.Dropped(), a.MaxKeys())
	}
}

func TestDeleteRemovesOnlyItsKey(t *testing.T) {
	s1, s2 := &fakeStack{id: 1, text: "\ta\n"}, &fakeStack{id: 2, text: "\tb\n"}
	keys := []Key{{}, Int(1), Str("a"), Tuple(Str("a"), Int(1)), StackOf(s1), Int(2), Str("b"), Tuple(Str("b"), Int(2)), StackOf(s2)}
	for i := range keys {
		t.Run(keys[i].Kind.name()+" "+strings.TrimSpace(keys[i].String()), func(t *testing.T) {
			a := mustNew(t, Sum, "x", Options{})
			for j, k := range keys {
				add(t, a, k, int64(j))
			}
			if !a.Delete(&keys[i]) {
				t.Fatal("Delete of a present key reported false")
			}
			if a.Delete(&keys[i]) {
				t.Error("a second Delete reported true")
			}
			for j, k := range keys {
				v, ok := a.Get(&k)
				switch {
				case j == i && ok:
					t.Errorf("key %v is still there", k)
				case j != i && (!ok || v.SumText() != itoa(j)):
					t.Errorf("key %v holds %v, %v; want %d", k, v, ok, j)
				}
			}
			if a.Len() != len(keys)-1 {
				t.Errorf("Len = %d, want %d", a.Len(), len(keys)-1)
			}
			add(t, a, keys[i], 100) // back, as a new key
			if v, _ := a.Get(&keys[i]); v.SumText() != "100" {
				t.Errorf("re-added key holds %s, want 100", v.SumText())
			}
		})
	}
}

func (k KeyKind) name() string {
	return [...]string{"unkeyed", "int", "string", "tuple", "stack"}[k]
}

func itoa(i int) string { return Int(int64(i)).String() }

func TestOrderIsByValueThenByKey(t *testing.T) {
	a := mustNew(t, Count, "x", Options{})
	for _, kv := range []struct {
		k string
		n int64
	}{{"d", 2}, {"b", 1}, {"c", 2}, {"a", 3}, {"e", 1}} {
		add(t, a, Str(kv.k), kv.n)
	}
	names := func(es []Entry) string {
		var s []string
		for _, e := range es {
			s = append(s, e.Key.Str)
		}
		return strings.Join(s, " ")
	}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"printing goes up by value, ties by key", names(a.ByValue()), "b e c d a"},
		{"top goes down by value, ties by key", names(a.Top(-1)), "a c d b e"},
		{"top of two is the first two", names(a.Top(2)), "a c"},
		{"top of zero is nothing", names(a.Top(0)), ""},
		{"top of more than there is is everything", names(a.Top(10)), "a c d b e"},
		{"keys go in key order", keyNames(a.Keys()), "a b c d e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func keyNames(ks []Key) string {
	var s []string
	for _, k := range ks {
		s = append(s, k.String())
	}
	return strings.Join(s, " ")
}

func TestKeysOfMixedKindsOrderByKindFirst(t *testing.T) {
	a := mustNew(t, Count, "x", Options{})
	keys := []Key{
		StackOf(&fakeStack{id: 2, text: "a"}),
		Tuple(Str("a"), Int(2)),
		Tuple(Str("a")),
		Tuple(Str("a"), Int(1)),
		Str("b"),
		Str("a"),
		Int(10),
		Int(-3),
		{},
		StackOf(&fakeStack{id: 1, text: "b"}),
	}
	for _, k := range keys {
		add(t, a, k, 1)
	}
	got := strings.ReplaceAll(keyNames(a.Keys()), "\n", "/")
	want := " -3 10 a b a a, 1 a, 2 /a/ /b/"
	if got != want {
		t.Errorf("keys in order: %q, want %q", got, want)
	}
	if !slices.EqualFunc(a.Top(-1), a.ByValue(), func(x, y Entry) bool { return CompareKeys(&x.Key, &y.Key) == 0 }) {
		t.Error("with equal values, top and print order differ; both should go by key")
	}
}
