package aggobj

import (
	"bytes"
	"errors"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"

	"otrace/bindings/host"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// rig is a script with the aggregation constructors as otrace.*, emit(x)
// writing x's text and a newline to out, and keep(name, fn) saving a
// function for Go to call.
type rig struct {
	mod      *Module
	script   *host.Script
	out      bytes.Buffer
	warnings []string
	kept     map[string]tengo.Object
}

// load compiles and runs src's top level.
func load(t testing.TB, src string) (*rig, error) {
	t.Helper()
	r := &rig{kept: map[string]tengo.Object{}}
	r.mod = New(Config{Out: &r.out, Warn: func(msg string) { r.warnings = append(r.warnings, msg) }})
	emit := &tengo.UserFunction{Name: "emit", Value: func(args ...tengo.Object) (tengo.Object, error) {
		for i, a := range args {
			if i > 0 {
				r.out.WriteByte(' ')
			}
			r.out.WriteString(text(a))
		}
		r.out.WriteByte('\n')
		return tengo.UndefinedValue, nil
	}}
	keep := &tengo.UserFunction{Name: "keep", Value: func(args ...tengo.Object) (tengo.Object, error) {
		name, ok := args[0].(*tengo.String)
		if len(args) != 2 || !ok {
			return nil, errors.New("keep(name, fn)")
		}
		r.kept[name.Value] = args[1]
		return tengo.UndefinedValue, nil
	}}
	s, err := host.Compile(host.Options{
		File: "t.tengo",
		Src:  []byte(src),
		Globals: map[string]tengo.Object{
			"otrace": &tengo.ImmutableMap{Value: r.mod.Functions()},
			"emit":   emit,
			"keep":   keep,
		},
	})
	if err != nil {
		return nil, err
	}
	t.Cleanup(s.Close)
	r.script = s
	return r, s.RunMain()
}

// mustLoad is load that fails the test on an error.
func mustLoad(t testing.TB, src string) *rig {
	t.Helper()
	r, err := load(t, src)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// golden compares got with testdata/name.golden, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

// fakeStack is a stack object: a Tengo object that is an aggregate.Stack.
type fakeStack struct {
	tengo.ObjectImpl
	id   uint64
	text string
}

func (s *fakeStack) TypeName() string           { return "stack" }
func (s *fakeStack) String() string             { return s.text }
func (s *fakeStack) Copy() tengo.Object         { return s }
func (s *fakeStack) Equals(x tengo.Object) bool { return s == x }
func (s *fakeStack) AggKey() uint64             { return s.id }

// text is how emit shows a value: strings bare, maps with sorted keys.
func text(o tengo.Object) string {
	var kv map[string]tengo.Object
	switch v := o.(type) {
	case *tengo.String:
		return v.Value
	case *tengo.Map:
		kv = v.Value
	case *tengo.ImmutableMap:
		kv = v.Value
	default:
		return o.String()
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		parts = append(parts, k+": "+kv[k].String())
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
