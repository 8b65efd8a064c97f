package aggregate

import (
	"bytes"
	"strings"
	"testing"
)

func TestRegistryPrintsNamedAggregationsInCreationOrder(t *testing.T) {
	var r Registry
	mk := func(kind Kind, name string) *Agg {
		a, err := r.New(kind, name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	z := mk(Count, "zeta")
	anon := mk(Count, "")
	mk(Sum, "empty")
	h := mk(Hist, "alpha")
	add(t, z, Str("b"), 2)
	add(t, z, Str("a"), 1)
	add(t, anon, Key{}, 5)
	add(t, h, Key{}, 3)
	var b bytes.Buffer
	if err := r.PrintAll(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "registry_print_all", b.String())
	if len(r.All()) != 4 {
		t.Errorf("All holds %d aggregations, want 4", len(r.All()))
	}
}

func TestRegistryNamesAreUnique(t *testing.T) {
	var r Registry
	if _, err := r.New(Count, "x", Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.New(Sum, "x", Options{}); err == nil || !strings.Contains(err.Error(), `"x" exists already`) {
		t.Errorf("second x: error %v, want one saying it exists", err)
	}
	for range 2 {
		if _, err := r.New(Count, "", Options{}); err != nil {
			t.Errorf("unnamed aggregations need no unique name: %v", err)
		}
	}
}

func TestRegistriesOfOneScriptMergeByPosition(t *testing.T) {
	mk := func(n int64) *Registry {
		var r Registry
		c, _ := r.New(Count, "c", Options{})
		h, _ := r.New(Hist, "", Options{})
		add(t, c, Str("k"), n)
		add(t, h, Key{}, n)
		return &r
	}
	r := mk(1)
	if err := r.Merge(mk(2)); err != nil {
		t.Fatal(err)
	}
	if got := r.All()[0].String(); got != "@c[k]: 3\n" {
		t.Errorf("merged count prints %q", got)
	}
	if v, _ := r.All()[1].Get(&Key{}); v.Count != 2 {
		t.Errorf("merged hist holds %d values, want 2", v.Count)
	}

	var other Registry
	other.New(Count, "d", Options{})
	other.New(Hist, "", Options{})
	if err := r.Merge(&other); err == nil || !strings.Contains(err.Error(), "is @c in one registry and @d") {
		t.Errorf("merging registries with different names: %v", err)
	}
	var short Registry
	if err := r.Merge(&short); err == nil {
		t.Error("merging registries of different sizes succeeded")
	}
}
