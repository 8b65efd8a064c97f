package host_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/d5/tengo/v2"

	"otrace/bindings/host"
)

// repl makes an interactive script with keep(name, fn) like load's.
func repl(t *testing.T) (*host.Interactive, map[string]tengo.Object) {
	t.Helper()
	lib := t.TempDir()
	writeFiles(t, lib, map[string]string{"text.tengo": "export {to_upper: func(s) { return s == \"ok\" ? \"OK\" : s }}\n"})
	kept := map[string]tengo.Object{}
	keep := &tengo.UserFunction{Name: "keep", Value: func(args ...tengo.Object) (tengo.Object, error) {
		kept[args[0].(*tengo.String).Value] = args[1]
		return tengo.UndefinedValue, nil
	}}
	in, err := host.NewInteractive(host.Options{Globals: map[string]tengo.Object{"keep": keep}, Modules: host.NewModules([]string{lib})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	return in, kept
}

// eval runs one input that must succeed and returns its values as text.
func eval(t *testing.T, in *host.Interactive, n int, src string) string {
	t.Helper()
	res, err := in.Eval(name(n), []byte(src))
	if err != nil {
		t.Fatalf("input %q: %v", src, err)
	}
	var vals []string
	for _, v := range res.Values {
		vals = append(vals, v.String())
	}
	return strings.Join(vals, " ")
}

func name(n int) string { return "in[" + string(rune('0'+n)) + "]" }

func TestInputsShareVariablesFunctionsAndModules(t *testing.T) {
	in, _ := repl(t)
	steps := []struct{ src, want string }{
		{`x := 20`, ""},
		{`double := func(v) { return v * 2 }`, ""},
		{`text := import("text")`, ""},
		{`x = double(x) + 2`, ""},
		{`x`, "42"},
		{`text.to_upper("ok"); x + 1`, `"OK" 43`},
		{`undefined`, ""},
		{`m := {a: 1}; m.a`, "1"},
	}
	for i, s := range steps {
		if got := eval(t, in, i, s.src); got != s.want {
			t.Errorf("input %q printed %q, want %q", s.src, got, s.want)
		}
	}
}

func TestAnOpenBlockIsIncomplete(t *testing.T) {
	in, _ := repl(t)
	for _, src := range []string{"f := func(x) {", "f(1,", "s := `raw", "/* note", "y := 1 +"} {
		_, err := in.Eval("in[1]", []byte(src))
		var ie *host.IncompleteError
		if !errors.As(err, &ie) {
			t.Errorf("%q: got %v, want an IncompleteError", src, err)
		}
	}
	for _, src := range []string{"}", "x := \"open", "1 +* 2"} {
		_, err := in.Eval("in[2]", []byte(src))
		var ie *host.IncompleteError
		var ce *host.CompileError
		if errors.As(err, &ie) || !errors.As(err, &ce) {
			t.Errorf("%q: got %v (%T), want a plain CompileError", src, err, err)
		}
	}
	if got := eval(t, in, 3, "f := func(x) {\n  return x + 1\n}\nf(1)"); got != "2" {
		t.Errorf("the completed function gave %q, want 2", got)
	}
}

// The crash paths of Tengo's own REPL (notes/tengo.md, section 5).
func TestAFailedInputLeavesEarlierStateIntact(t *testing.T) {
	t.Run("a variable of a failed compile is forgotten, not a nil global", func(t *testing.T) {
		in, _ := repl(t)
		eval(t, in, 1, `a := 1`)
		if _, err := in.Eval("in[2]", []byte(`y := 1; z := nope`)); err == nil {
			t.Fatal("the input with an unresolved name compiled")
		}
		if _, err := in.Eval("in[3]", []byte(`y`)); err == nil || !strings.Contains(err.Error(), "unresolved reference 'y'") {
			t.Errorf("y after the failed compile: %v, want unresolved", err)
		}
		if got := eval(t, in, 4, `y := 5; y + a`); got != "6" {
			t.Errorf("y redefined: %q", got)
		}
	})
	t.Run("a function defined on a line that fails at run time still runs", func(t *testing.T) {
		in, kept := repl(t)
		_, err := in.Eval("in[1]", []byte(`f := func() { return 42 }; keep("f", f); z := 1 / 0`))
		if err == nil || !strings.Contains(err.Error(), "integer division by zero") {
			t.Fatalf("got %v, want a division by zero", err)
		}
		got, err := in.Call0(kept["f"])
		if err != nil || got.String() != "42" {
			t.Errorf("calling the kept function: %v, %v", got, err)
		}
		// The names of the failed line are forgotten, their slots kept.
		if _, ok := in.Global("f"); ok {
			t.Error("f is still visible after its line failed")
		}
		if got := eval(t, in, 2, `f := 7; f`); got != "7" {
			t.Errorf("f redefined: %q", got)
		}
		if got, _ := in.Call0(kept["f"]); got == nil || got.String() != "42" {
			t.Errorf("the kept function after f was redefined returns %v", got)
		}
	})
	t.Run("1/0 is an error and the next input runs", func(t *testing.T) {
		in, _ := repl(t)
		eval(t, in, 1, `n := 3`)
		if _, err := in.Eval("in[2]", []byte(`1/0`)); err == nil || !strings.Contains(err.Error(), "in[2]") {
			t.Errorf("1/0: %v, want an error naming in[2]", err)
		}
		if got := eval(t, in, 3, `n * 2`); got != "6" {
			t.Errorf("after 1/0: %q", got)
		}
	})
	t.Run("a compile error inside a function drops its constants", func(t *testing.T) {
		in, kept := repl(t)
		eval(t, in, 1, `keep("a", func() { return "a" })`)
		if _, err := in.Eval("in[2]", []byte(`bad := func() { return "b" + nope }`)); err == nil {
			t.Fatal("compiled")
		}
		eval(t, in, 3, `keep("c", func() { return "c" })`)
		for _, k := range []string{"a", "c"} {
			if got, err := in.Call0(kept[k]); err != nil || got.String() != `"`+k+`"` {
				t.Errorf("%s() = %v, %v", k, got, err)
			}
		}
	})
}

func TestTrampolinesFollowTheGrowingConstantPool(t *testing.T) {
	in, kept := repl(t)
	eval(t, in, 1, `n := 0; keep("inc", func(e) { n += e })`)
	if _, err := in.Call1(kept["inc"], &tengo.Int{Value: 1}); err != nil {
		t.Fatal(err)
	}
	gen := in.Generation()
	// A later input's function uses constants the first trampoline's pool
	// does not have.
	eval(t, in, 2, `keep("big", func(e) { n += e * 1000 + 7 })`)
	if in.Generation() == gen {
		t.Error("the constant pool grew but the generation did not change")
	}
	if _, err := in.Call1(kept["big"], &tengo.Int{Value: 1}); err != nil {
		t.Fatal(err)
	}
	if got := eval(t, in, 3, `n`); got != "1008" {
		t.Errorf("n = %s, want 1008", got)
	}
}

func TestInterruptStopsAnEndlessInput(t *testing.T) {
	in, _ := repl(t)
	eval(t, in, 1, `kept := "still here"`)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(100 * time.Millisecond)
		in.Interrupt()
	}()
	_, err := in.Eval("in[2]", []byte(`for {}`))
	wg.Wait()
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("for {}: %v, want interrupted", err)
	}
	if got := eval(t, in, 3, `kept`); got != `"still here"` {
		t.Errorf("after the interrupt: %q", got)
	}
}

func TestInspectionAndDefinedNames(t *testing.T) {
	in, _ := repl(t)
	res, err := in.Eval("in[1]", []byte(`a := 1; b := [1]`))
	if err != nil || strings.Join(res.Defined, ",") != "a,b" || res.Inspection {
		t.Errorf("defining: %+v, %v", res, err)
	}
	for src, want := range map[string]bool{`a`: true, `b[0] + a`: true, `len(b)`: false, `a = 2`: false, `func() {}`: false} {
		res, err := in.Eval("in[2]", []byte(src))
		if err != nil || res.Inspection != want {
			t.Errorf("%q: inspection %v (%v), want %v", src, res.Inspection, err, want)
		}
	}
	names := strings.Join(in.Names(), " ")
	if !strings.Contains(names, "keep") || !strings.Contains(names, "len") || strings.Contains(names, "__otrace") {
		t.Errorf("Names() = %s", names)
	}
}
