package otracemod_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"otrace/bindings/host"
	"otrace/runtime/event"
)

func TestPrintfFormats(t *testing.T) {
	tests := []struct {
		name string
		call string
		want string
	}{
		{"verbs for ints, strings, floats and hex", `otrace.printf("%d %s %.2f %x %5d|%-3s|\n", 42, "str", 3.14159, 255, 7, "a")`, "42 str 3.14 ff     7|a  |\n"},
		{"%v of composite values", `otrace.printf("%v %v %v\n", [1, "a"], {k: 2}, true)`, `[1, "a"] {k: 2} true` + "\n"},
		{"%q quotes a string", `otrace.printf("%q\n", "a\"b")`, `"a\"b"` + "\n"},
		{"a format alone is printed as is", `otrace.printf("100%")`, "100%"},
		{"a verb without its argument is marked", `otrace.printf("%d %d\n", 1)`, "1 %!d(MISSING)\n"},
		{"an argument of the wrong type is marked", `otrace.printf("%d\n", "x")`, `%!d("x"="x")` + "\n"}, // Tengo's marking
		{"an extra argument is marked", `otrace.printf("%d\n", 1, 2)`, "1\n%!(EXTRA int=2)"},
		{"an int above 2^53 prints exactly", `otrace.printf("%d\n", 9007199254740993)`, "9007199254740993\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, rigConfig{})
			r.mustLoad(tt.call)
			if got := r.out.String(); got != tt.want {
				t.Errorf("printed %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPrintfErrors(t *testing.T) {
	tests := []struct {
		name    string
		call    string
		failing bool // Out fails
		want    string
	}{
		{"no format", `otrace.printf()`, false, "otrace.printf(format, args...): want a format"},
		{"a format that is not a string", `otrace.printf(5)`, false, "otrace.printf: the format must be a string, not int"},
		{"an output that fails, with arguments", `otrace.printf("%d\n", 1)`, true, "otrace.printf: disk full"},
		{"an output that fails, without arguments", `otrace.printf("x\n")`, true, "otrace.printf: disk full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rigConfig{}
			if tt.failing {
				cfg.out = failingWriter{}
			}
			r := newRig(t, cfg)
			err := r.load(tt.call)
			var he *event.HandlerError
			if !errors.As(err, &he) {
				t.Fatalf("load: %v, want a *event.HandlerError", err)
			}
			if he.Msg != tt.want {
				t.Errorf("Msg %q, want %q", he.Msg, tt.want)
			}
		})
	}
}

func TestFmtPrintsToTheScriptOutputInOrder(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.mustLoad(`
fmt := import("fmt")
fmt.println("a", 1, [2], "b")
otrace.printf("c\n")
fmt.print("d", "e", 3)
fmt.printf("%d-%s\n", 4, "f")
otrace.printf("g\n")
otrace.printf("%s\n", fmt.sprintf("%03d", 7))
fmt.printf("plain\n")
otrace.on("raw_syscalls:sys_enter", func(e) { fmt.println("handler", e.id) })
otrace.end(func() { fmt.print("end\n") })
`)
	queue(t, r)
	r.run()
	want := "a 1 [2] b\nc\nde3" + "4-f\ng\n007\nplain\nhandler 257\nend\n"
	if got := r.out.String(); got != want {
		t.Errorf("output:\n%q\nwant:\n%q", got, want)
	}
}

func TestImportOfOSNeedsAllowOS(t *testing.T) {
	const src = "os := import(\"os\")\notrace.printf(\"%v\\n\", is_error(os.getenv(\"PATH\")))\n"
	t.Run("without --allow-os the import does not compile", func(t *testing.T) {
		r := newRig(t, rigConfig{})
		err := r.load(src)
		var ce *host.CompileError
		if !errors.As(err, &ce) {
			t.Fatalf("load: %v, want a *host.CompileError", err)
		}
		if !strings.Contains(ce.Msg, "--allow-os") || ce.Line != 1 {
			t.Errorf("compile error %v does not point at the import and mention --allow-os", ce)
		}
	})
	t.Run("with --allow-os the import works", func(t *testing.T) {
		r := newRig(t, rigConfig{allowOS: true})
		r.mustLoad(src)
		if got := r.out.String(); got != "false\n" {
			t.Errorf("output %q", got)
		}
	})
	t.Run("a library file named os does not stand in for it", func(t *testing.T) {
		lib := t.TempDir()
		if err := os.WriteFile(filepath.Join(lib, "os.tengo"), []byte(`export {getenv: func(k) { return "fake" }}`), 0o644); err != nil {
			t.Fatal(err)
		}
		r := newRig(t, rigConfig{lib: []string{lib}})
		err := r.load(src)
		var ce *host.CompileError
		if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "--allow-os") {
			t.Errorf("load: %v (output %q), want the --allow-os compile error", err, r.out.String())
		}
	})
}

func TestSafeStandardModulesImport(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.mustLoad(`
text := import("text")
math := import("math")
times := import("times")
json := import("json")
enum := import("enum")
base64 := import("base64")
hex := import("hex")
rand := import("rand")
o := import("otrace")
otrace.printf("%s %v %v %s %v %s %s %v %v\n", text.to_upper("x"), math.abs(-2), is_int(times.second),
	json.encode([1]), enum.all([1, 2], func(k, v) { return v > 0 }), base64.encode("hi"), hex.encode("A"),
	is_int(rand.intn(10)), o.args)
`)
	if got, want := r.out.String(), `X 2 true [1] true aGk= 41 true []`+"\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

func TestArgsAndOutputAreVisibleToTheScript(t *testing.T) {
	r := newRig(t, rigConfig{args: []string{"-x", "two words"}, output: "out.txt"})
	r.mustLoad(`
otrace.printf("%v %d %q %q\n", otrace.args, len(otrace.args), otrace.args[1], otrace.output)
o := import("otrace")
otrace.printf("%v %s\n", o.args, o.output)
`)
	want := `["-x", "two words"] 2 "two words" "out.txt"` + "\n" + `["-x", "two words"] out.txt` + "\n"
	if got := r.out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	r2 := newRig(t, rigConfig{})
	r2.mustLoad(`otrace.printf("%d %q\n", len(otrace.args), otrace.output)`)
	if got := r2.out.String(); got != "0 \"\"\n" {
		t.Errorf("without args: %q", got)
	}
	r3 := newRig(t, rigConfig{args: []string{"a"}})
	if err := r3.load(`otrace.args[0] = "b"`); err == nil {
		t.Error("otrace.args can be changed")
	}
}
