package export

import (
	"strings"
	"testing"

	"otrace/runtime/process"
	"otrace/runtime/stacks"
)

func TestParseSampleType(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     SampleType
		err      string
	}{
		{"type and unit", "cpu/nanoseconds", SampleType{"cpu", "nanoseconds"}, ""},
		{"a bare type counts", "samples", SampleType{"samples", "count"}, ""},
		{"an empty unit is refused", "cpu/", SampleType{}, "want type/unit"},
		{"an empty type is refused", "/bytes", SampleType{}, "want type/unit"},
		{"a second slash is refused", "a/b/c", SampleType{}, "want type/unit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseSampleType(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || got != c.want || got.String() != c.want.Type+"/"+c.want.Unit {
				t.Fatalf("got %v, %v", got, err)
			}
		})
	}
}

func TestNewProfileRefusesUnusableTypes(t *testing.T) {
	for _, c := range []struct {
		name  string
		types []SampleType
		err   string
	}{
		{"no types", nil, "at least one"},
		{"a type without unit", []SampleType{{"cpu", ""}}, "type and a unit"},
		{"a type twice", []SampleType{{"cpu", "nanoseconds"}, {"cpu", "count"}}, "given twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewProfile(c.types); err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err %v, want %q", err, c.err)
			}
		})
	}
}

func TestAddSumsSamplesWithTheSameStacksAndLabelsInAnyOrder(t *testing.T) {
	f := newFixture()
	p, _ := NewProfile([]SampleType{{"samples", "count"}, {"cpu", "nanoseconds"}})
	u, k := f.user(5, aLeaf, aMain), f.kernel(kWrite, kEntry)
	adds := []struct {
		stacks []StackRef
		labels Labels
	}{
		{[]StackRef{k, u}, Labels{StringLabel("comm", "app"), NumLabel("pid", 5, "")}},
		{[]StackRef{u, k}, Labels{NumLabel("pid", 5, ""), StringLabel("comm", "app")}},
		{[]StackRef{u, {Table: f.tab}, k}, Labels{StringLabel("comm", "app"), NumLabel("pid", 5, "")}},
		{[]StackRef{u}, Labels{StringLabel("comm", "app"), NumLabel("pid", 5, "")}},
		{[]StackRef{u}, Labels{StringLabel("comm", "app"), StringLabel("pid", "5")}},
		{[]StackRef{u}, nil},
	}
	for _, a := range adds {
		if err := p.Add(a.stacks, []int64{1, 10}, a.labels); err != nil {
			t.Fatal(err)
		}
	}
	// The first three are one sample; a string "5" is not the number 5.
	if p.Len() != 4 {
		t.Fatalf("%d distinct samples, want 4", p.Len())
	}
	if _, v := p.row(0); v[0] != 3 || v[1] != 30 {
		t.Errorf("first sample sums to %v, want [3 30]", v)
	}
}

func TestAddRefusesWhatCannotBeOneSample(t *testing.T) {
	f := newFixture()
	other := stacks.New(process.NewTable(), nil)
	p, _ := NewProfile([]SampleType{{"samples", "count"}})
	u := f.user(5, aMain)
	for _, c := range []struct {
		name   string
		stacks []StackRef
		values []int64
		labels Labels
		err    string
	}{
		{"too many values", []StackRef{u}, []int64{1, 2}, nil, "2 values, the profile has 1 types (samples/count)"},
		{"two user stacks", []StackRef{u, f.user(5, aLeaf)}, []int64{1}, nil, "two user stacks"},
		{"two kernel stacks", []StackRef{f.kernel(kDo), f.kernel(kWrite)}, []int64{1}, nil, "two kernel stacks"},
		{"a stack of another table", []StackRef{{Table: other, ID: other.Intern(true, 0, 1, []uint64{1})}}, []int64{1}, nil, "one run's stack table"},
		{"a stack without table", []StackRef{{ID: 3}}, []int64{1}, nil, "no table"},
		{"a label twice", nil, []int64{1}, Labels{StringLabel("a", "x"), NumLabel("a", 1, "")}, `label "a" given twice`},
		{"a label without key", nil, []int64{1}, Labels{StringLabel("", "x")}, "no key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// p takes f's table with its first stack, as in a run.
			if err := p.Add([]StackRef{u}, []int64{1}, nil); err != nil {
				t.Fatal(err)
			}
			err := p.Add(c.stacks, c.values, c.labels)
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err %v, want %q", err, c.err)
			}
		})
	}
}

func TestAddOfASampleSeenBeforeDoesNotAllocate(t *testing.T) {
	p, f := standard(t)
	stacks := []StackRef{f.kernel(kWrite, kDo, kEntry), f.user(5, aWrite, aMain+0x10, aStart)}
	values := []int64{1, 1000}
	labels := Labels{StringLabel("comm", "app"), NumLabel("pid", 5, ""), NumLabel("tid", 5, "")}
	n := p.Len()
	if allocs := testing.AllocsPerRun(1000, func() {
		if err := p.Add(stacks, values, labels); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("Add allocates %v times per sample seen before", allocs)
	}
	if p.Len() != n {
		t.Errorf("the sample was new: %d samples, had %d", p.Len(), n)
	}
}

func TestSetDefaultTypeNamesAnExistingType(t *testing.T) {
	p, _ := standard(t)
	if err := p.SetDefaultType("wall"); err == nil || !strings.Contains(err.Error(), "samples/count, cpu/nanoseconds") {
		t.Errorf("err %v; it must list the types", err)
	}
	if err := p.SetDefaultType("cpu"); err != nil {
		t.Fatal(err)
	}
	if i, _ := p.valueIndex(""); i != 1 {
		t.Errorf("default column %d, want 1", i)
	}
}
