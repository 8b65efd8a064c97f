package host_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"

	"otrace/bindings/host"
	"otrace/runtime/event"
)

// load compiles src as "t.tengo" with a global keep(name, fn) through which
// the script hands functions to the test, runs its top level and returns
// the script and what it kept. The script is closed when the test ends.
func load(t testing.TB, src string, opts host.Options) (*host.Script, map[string]tengo.Object) {
	t.Helper()
	s, kept, err := loadErr(t, src, opts)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return s, kept
}

// loadErr is load that returns the first error, of Compile or RunMain.
func loadErr(t testing.TB, src string, opts host.Options) (*host.Script, map[string]tengo.Object, error) {
	t.Helper()
	kept := map[string]tengo.Object{}
	keep := &tengo.UserFunction{Name: "keep", Value: func(args ...tengo.Object) (tengo.Object, error) {
		if len(args) != 2 {
			return nil, tengo.ErrWrongNumArguments
		}
		name, ok := args[0].(*tengo.String)
		if !ok {
			return nil, errors.New("keep: the name must be a string")
		}
		kept[name.Value] = args[1]
		return tengo.UndefinedValue, nil
	}}
	if opts.File == "" {
		opts.File = "t.tengo"
	}
	opts.Src = []byte(src)
	if opts.Globals == nil {
		opts.Globals = map[string]tengo.Object{}
	}
	opts.Globals["keep"] = keep
	s, err := host.Compile(opts)
	if err != nil {
		return nil, nil, err
	}
	t.Cleanup(s.Close)
	return s, kept, s.RunMain()
}

// handlerError asserts err is an *event.HandlerError and returns it.
func handlerError(t *testing.T, err error) *event.HandlerError {
	t.Helper()
	var he *event.HandlerError
	if !errors.As(err, &he) {
		t.Fatalf("error %v (%T) is not an *event.HandlerError", err, err)
	}
	return he
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCompileErrorsGivePositionAndSourceLine(t *testing.T) {
	lib := t.TempDir()
	writeFiles(t, lib, map[string]string{
		"broken.tengo": "x := 1\nexport x +\n",
		"cyc_a.tengo":  "b := import(\"cyc_b\")\nexport 1\n",
		"cyc_b.tengo":  "a := import(\"cyc_a\")\nexport 2\n",
		"self.tengo":   "s := import(\"self\")\nexport 3\n",
	})
	tests := []struct {
		name       string
		src        string
		file, line string // want File and Source
		ln, col    int
		msg        string // substring of Msg
		caret      string // the last line of Detail
	}{
		{
			name: "a parse error points at the bad token",
			src:  "a := 1\nb := a +* 2\n",
			file: "t.tengo", ln: 2, col: 9, line: "b := a +* 2",
			msg:   "expected operand, found '*'",
			caret: "            ^",
		},
		{
			name: "an unterminated call points at the end of input",
			src:  "f := func(x) { return x }\ny := f(1\n",
			file: "t.tengo", ln: 2, col: 10, line: "y := f(1",
			msg:   "expected ')', found 'EOF'",
			caret: "            ^",
		},
		{
			name: "an unresolved name points at the name",
			src:  "x := 1\ny := x + nope\n",
			file: "t.tengo", ln: 2, col: 10, line: "y := x + nope",
			msg:   "unresolved reference 'nope'",
			caret: "             ^",
		},
		{
			name: "the caret keeps the tabs of the source line",
			src:  "f := func() {\n\treturn nope\n}\n",
			file: "t.tengo", ln: 2, col: 9, line: "\treturn nope",
			msg:   "unresolved reference 'nope'",
			caret: "    \t       ^",
		},
		{
			name: "an unknown module says where it was looked for",
			src:  "x := 1\nm := import(\"nosuch\")\n",
			file: "t.tengo", ln: 2, col: 6, line: "m := import(\"nosuch\")",
			msg:   `module "nosuch" not found as a builtin module or as nosuch.tengo in ` + lib,
			caret: "         ^",
		},
		{
			name: "a denied module gives the reason it is denied",
			src:  "os := import(\"os\")\n",
			file: "t.tengo", ln: 1, col: 7, line: "os := import(\"os\")",
			msg: "needs --allow-os",
		},
		{
			name: "a module name with .. is refused",
			src:  "m := import(\"../etc/passwd\")\n",
			file: "t.tengo", ln: 1, col: 6,
			line: "m := import(\"../etc/passwd\")",
			msg:  `module "../etc/passwd" not found`,
		},
		{
			name: "an error inside a library module names the module and its line",
			src:  "b := import(\"broken\")\n",
			file: "broken", ln: 2, col: 12, line: "export x +",
			msg: "expected operand, found 'EOF'",
		},
		{
			name: "an import cycle between two modules is a compile error",
			src:  "a := import(\"cyc_a\")\n",
			file: "cyc_b", ln: 1, col: 6, line: "a := import(\"cyc_a\")",
			msg: "cyclic module import: cyc_a",
		},
		{
			name: "a module importing itself is a compile error",
			src:  "s := import(\"self\")\n",
			file: "self", ln: 1, col: 6, line: "s := import(\"self\")",
			msg: "cyclic module import: self",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mods := host.NewModules([]string{lib})
			mods.Deny("os", `import("os") needs --allow-os`)
			_, err := host.Compile(host.Options{File: "t.tengo", Src: []byte(tt.src), Modules: mods})
			var ce *host.CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile: got %v (%T), want a *host.CompileError", err, err)
			}
			if ce.File != tt.file || ce.Line != tt.ln || ce.Col != tt.col {
				t.Errorf("position %s:%d:%d, want %s:%d:%d", ce.File, ce.Line, ce.Col, tt.file, tt.ln, tt.col)
			}
			if !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("Msg %q does not contain %q", ce.Msg, tt.msg)
			}
			if ce.Source != tt.line {
				t.Errorf("Source %q, want %q", ce.Source, tt.line)
			}
			if got, want := ce.Error(), ce.File+":"; !strings.HasPrefix(got, want) {
				t.Errorf("Error() %q does not start with %q", got, want)
			}
			detail := ce.Detail()
			lines := strings.Split(detail, "\n")
			if ce.Source == "" {
				if detail != ce.Error() {
					t.Errorf("Detail() without a source line is %q, want Error() %q", detail, ce.Error())
				}
				return
			}
			if len(lines) != 3 || lines[1] != "    "+tt.line {
				t.Fatalf("Detail() is %q, want the error, the source line and a caret", detail)
			}
			caret := lines[2]
			if tt.caret != "" && caret != tt.caret {
				t.Errorf("caret line %q, want %q", caret, tt.caret)
			}
			// Whatever the line, the caret sits under column Col, or just
			// past the end of the line when Col is beyond it (at EOF).
			want := min(tt.col, len(tt.line)+1)
			if got := len(caret) - len("    "); got != want || !strings.HasSuffix(caret, "^") {
				t.Errorf("caret %q is at column %d, want %d", caret, got, want)
			}
		})
	}
}

func TestCompileErrorWithoutALibraryPathSuggestsOne(t *testing.T) {
	_, err := host.Compile(host.Options{File: "t.tengo", Src: []byte(`m := import("lib")`)})
	var ce *host.CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("Compile: got %v, want a *host.CompileError", err)
	}
	if !strings.Contains(ce.Msg, "no library path is set (-I DIR)") {
		t.Errorf("Msg %q does not suggest -I DIR", ce.Msg)
	}
}

func TestRunMainRuntimeErrorHasAPosition(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		pos   string
		msg   string
		trace []string
	}{
		{
			name: "an invalid operation at the top level",
			src:  "x := 1\ny := x + \"s\"\n",
			pos:  "t.tengo:2:6",
			msg:  "invalid operation: int + string",
		},
		{
			name:  "an error in a function called from the top level lists the caller",
			src:   "f := func(x) {\n  return x + \"s\"\n}\nf(1)\n",
			pos:   "t.tengo:2:10",
			msg:   "invalid operation: int + string",
			trace: []string{"t.tengo:4:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := loadErr(t, tt.src, host.Options{})
			he := handlerError(t, err)
			if he.Pos != tt.pos {
				t.Errorf("Pos %q, want %q", he.Pos, tt.pos)
			}
			if he.Msg != tt.msg {
				t.Errorf("Msg %q, want %q", he.Msg, tt.msg)
			}
			if strings.Join(he.Trace, ",") != strings.Join(tt.trace, ",") {
				t.Errorf("Trace %q, want %q", he.Trace, tt.trace)
			}
		})
	}
}

func TestCallsReturnTheFunctionsResult(t *testing.T) {
	s, fns := load(t, `
keep("double", func(x) { return x * 2 })
keep("greet", func(x) { return "hello " + x })
keep("seven", func() { return 7 })
keep("nothing", func(x) {})
keep("pair", func(x) { return [x, x] })
`, host.Options{})
	tests := []struct {
		name string
		fn   string
		arg  tengo.Object // nil: Call0
		want string
	}{
		{"an int doubles", "double", &tengo.Int{Value: 21}, "42"},
		{"a string concatenates", "greet", &tengo.String{Value: "otrace"}, `"hello otrace"`},
		{"a function without parameters runs with Call0", "seven", nil, "7"},
		{"a function without a return gives undefined", "nothing", &tengo.Int{Value: 1}, "<undefined>"},
		{"an array comes back whole", "pair", &tengo.Int{Value: 3}, "[3, 3]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got tengo.Object
			var err error
			if tt.arg == nil {
				got, err = s.Call0(fns[tt.fn])
			} else {
				got, err = s.Call1(fns[tt.fn], tt.arg)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCallingANonFunctionIsAnError(t *testing.T) {
	s, _ := load(t, ``, host.Options{})
	_, err := s.Call1(&tengo.Int{Value: 1}, tengo.UndefinedValue)
	he := handlerError(t, err)
	if !strings.Contains(he.Msg, "not callable") {
		t.Errorf("Msg %q does not say the value is not callable", he.Msg)
	}
	if _, err := s.Call1(tengo.UndefinedValue, tengo.UndefinedValue); err == nil {
		t.Error("calling undefined succeeded")
	}
}

func TestClosuresKeepTheirStateAcrossCalls(t *testing.T) {
	lib := t.TempDir()
	writeFiles(t, lib, map[string]string{
		"counter.tengo": "export func() { n := 0; return func() { n += 1; return n } }\n",
	})
	s, fns := load(t, `
counter := import("counter")
make := func(step) {
	n := 0
	return func() { n += step; return n }
}
keep("a", make(1))
keep("b", make(10))
keep("m", counter())
`, host.Options{Modules: host.NewModules([]string{lib})})
	calls := []struct {
		fn   string
		want int64
	}{
		{"a", 1}, {"a", 2}, {"b", 10}, {"a", 3}, {"b", 20}, {"m", 1}, {"m", 2},
	}
	for _, c := range calls {
		got, err := s.Call0(fns[c.fn])
		if err != nil {
			t.Fatal(err)
		}
		if got.(*tengo.Int).Value != c.want {
			t.Errorf("%s() = %s, want %d", c.fn, got, c.want)
		}
	}
}

func TestGlobalsAreSharedBetweenTheTopLevelAndCalls(t *testing.T) {
	s, fns := load(t, `
counts := {}
keep("count", func(k) { counts[k] = (counts[k] || 0) + 1 })
keep("get", func(k) { return counts[k] })
`, host.Options{})
	for _, k := range []string{"a", "b", "a", "a"} {
		if _, err := s.Call1(fns["count"], &tengo.String{Value: k}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Call1(fns["get"], &tengo.String{Value: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != "3" {
		t.Errorf("counts[\"a\"] = %s, want 3", got)
	}
}

// Position is where the function's first instruction comes from: its first
// statement, or the function itself when its body is empty.
func TestPositionNamesWhereAFunctionStarts(t *testing.T) {
	s, fns := load(t, "x := 1\nkeep(\"f\", func(e) {\n  return e\n})\nkeep(\"empty\", func(e) {})\n", host.Options{})
	for name, want := range map[string]string{"f": "t.tengo:3:10", "empty": "t.tengo:5:15"} {
		cf, ok := fns[name].(*tengo.CompiledFunction)
		if !ok {
			t.Fatalf("kept %T, want a compiled function", fns[name])
		}
		if got := s.Position(cf); got != want {
			t.Errorf("Position(%s) = %q, want %q", name, got, want)
		}
	}
	if got := s.Position(nil); got != "" {
		t.Errorf("Position(nil) = %q, want empty", got)
	}
}

func TestTooManyGlobalsIsAnError(t *testing.T) {
	var b strings.Builder
	for i := 0; i < host.GlobalsSize; i++ {
		b.WriteString("v")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(string(rune('a' + i/26%26)))
		b.WriteString(string(rune('a' + i/676%26)))
		b.WriteString(" := 1\n")
	}
	_, err := host.Compile(host.Options{File: "big.tengo", Src: []byte(b.String())})
	if err == nil || !strings.Contains(err.Error(), "too many global variables") {
		t.Errorf("Compile of %d globals: got %v, want a too-many-globals error", host.GlobalsSize, err)
	}
}
