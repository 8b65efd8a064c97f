package host_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/d5/tengo/v2"

	"otrace/bindings/host"
)

func TestModulesResolveImports(t *testing.T) {
	user, system := t.TempDir(), t.TempDir()
	writeFiles(t, user, map[string]string{
		"both.tengo":       `export "user"`,
		"user_only.tengo":  `export "user_only"`,
		"net/tcp.tengo":    `export "net/tcp"`,
		"shadowed.tengo":   `export "file"`,
		"uses_other.tengo": `o := import("sys_only"); export "uses " + o`,
	})
	writeFiles(t, system, map[string]string{
		"both.tengo":     `export "system"`,
		"sys_only.tengo": `export "sys_only"`,
	})
	tests := []struct {
		name   string
		module string
		want   string // the module's value
		found  string // Found[module]
	}{
		{"the first library directory wins", "both", `"user"`, filepath.Join(user, "both.tengo")},
		{"a module only in the first directory is found there", "user_only", `"user_only"`, filepath.Join(user, "user_only.tengo")},
		{"a module only in a later directory is found there", "sys_only", `"sys_only"`, filepath.Join(system, "sys_only.tengo")},
		{"a/b maps to dir/a/b.tengo", "net/tcp", `"net/tcp"`, filepath.Join(user, "net", "tcp.tengo")},
		{"a builtin module wins over a file of the same name", "shadowed", `"builtin"`, "(builtin)"},
		{"a Tengo source builtin is an embedded library", "srcmod", `"from source"`, "(embedded library)"},
		{"a module imports another from the path", "uses_other", `"uses sys_only"`, filepath.Join(user, "uses_other.tengo")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mods := host.NewModules([]string{user, system})
			mods.AddBuiltin("shadowed", map[string]tengo.Object{"v": &tengo.String{Value: "builtin"}})
			mods.AddSource("srcmod", []byte(`export "from source"`))
			src := `m := import("` + tt.module + `")` + "\n"
			if tt.module == "shadowed" {
				src = `m := import("shadowed").v` + "\n"
			}
			_, fns := load(t, src+`keep("m", m)`, host.Options{Modules: mods})
			if got := fns["m"].String(); got != tt.want {
				t.Errorf("import(%q) = %s, want %s", tt.module, got, tt.want)
			}
			if got := mods.Found[tt.module]; got != tt.found {
				t.Errorf("Found[%q] = %q, want %q", tt.module, got, tt.found)
			}
		})
	}
}

func TestModulesRefuseNamesOutsideTheLibraryPath(t *testing.T) {
	root := t.TempDir()
	lib := filepath.Join(root, "lib")
	writeFiles(t, root, map[string]string{
		"secret.tengo":  `export "secret"`,
		"lib/a/b.tengo": `export "b"`,
		"lib/ok.tengo":  `export "ok"`,
	})
	tests := []struct {
		name string
		ok   bool
	}{
		{"ok", true},
		{"a/b", true},
		{"../secret", false},
		{"a/../ok", false},
		{"a/./b", false},
		{"./ok", false},
		{"a//b", false},
		{"a/b/", false},
		{filepath.ToSlash(filepath.Join(root, "secret")), false},
		{"o k", false},
		{`a\b`, false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mods := host.NewModules([]string{lib})
			got := mods.Get(tt.name)
			if (got != nil) != tt.ok {
				t.Errorf("Get(%q) = %v, want found %v", tt.name, got, tt.ok)
			}
			if _, found := mods.Found[tt.name]; found != tt.ok {
				t.Errorf("Found[%q] present = %v, want %v", tt.name, found, tt.ok)
			}
		})
	}
	// An absolute path fails to compile too, with the lookup explained.
	abs := filepath.Join(root, "secret")
	_, err := host.Compile(host.Options{File: "t.tengo", Src: []byte(`m := import("` + filepath.ToSlash(abs) + `")`),
		Modules: host.NewModules([]string{lib})})
	var ce *host.CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("import of an absolute path: got %v, want a compile error", err)
	}
}

func TestModulesDescribeAMissingModule(t *testing.T) {
	tests := []struct {
		name string
		dirs []string
		deny bool
		want string
	}{
		{"with no library path", nil, false, `module "x" is not a builtin module and no library path is set (-I DIR)`},
		{"with a library path", []string{"/a", "/b"}, false, `module "x" not found as a builtin module or as x.tengo in /a, /b`},
		{"when denied", []string{"/a"}, true, "x is off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := host.NewModules(tt.dirs)
			if tt.deny {
				m.Deny("x", "x is off")
			}
			if got := m.Describe("x"); got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEachImportOfASourceModuleIsAFreshInstance(t *testing.T) {
	lib := t.TempDir()
	writeFiles(t, lib, map[string]string{"state.tengo": "n := [0]\nexport {bump: func() { n[0] += 1; return n[0] }}\n"})
	s, fns := load(t, `
a := import("state")
b := import("state")
keep("a", a.bump)
keep("b", b.bump)
`, host.Options{Modules: host.NewModules([]string{lib})})
	for _, want := range []struct {
		fn string
		n  string
	}{{"a", "1"}, {"a", "2"}, {"b", "1"}} {
		got, err := s.Call0(fns[want.fn])
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want.n {
			t.Errorf("%s.bump() = %s, want %s", want.fn, got, want.n)
		}
	}
}

func TestADeniedModuleIsNotLoadedFromTheLibraryPath(t *testing.T) {
	lib := t.TempDir()
	writeFiles(t, lib, map[string]string{"os.tengo": `export "mine"`, "other.tengo": `export "other"`})
	mods := host.NewModules([]string{lib})
	mods.Deny("os", "os needs a flag")
	if got := mods.Get("os"); got != nil {
		t.Errorf("Get(os) = %v, want nil: os is denied", got)
	}
	_, err := host.Compile(host.Options{File: "t.tengo", Src: []byte(`x := import("os")`), Modules: mods})
	var ce *host.CompileError
	if !errors.As(err, &ce) || ce.Msg != "os needs a flag" {
		t.Errorf("Compile: %v, want the denial", err)
	}
	if mods.Get("other") == nil {
		t.Error("a module that is not denied was not found")
	}
}
