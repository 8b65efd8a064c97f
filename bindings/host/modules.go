package host

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/d5/tengo/v2"
)

// Modules resolves import("name"): Go modules first (Tengo's standard
// modules and otrace's own), then NAME.tengo in each library directory in
// order. It remembers where each import came from.
type Modules struct {
	builtin map[string]tengo.Importable
	dirs    []string
	denied  map[string]string
	// Found maps a module name to the file it was loaded from, or
	// "(builtin)".
	Found map[string]string
	// Sources holds the text of every file module loaded, for error lines.
	Sources map[string][]byte
}

// NewModules returns a resolver with no modules and the given library
// directories.
func NewModules(dirs []string) *Modules {
	return &Modules{builtin: map[string]tengo.Importable{}, dirs: dirs, denied: map[string]string{},
		Found: map[string]string{}, Sources: map[string][]byte{}}
}

// Deny makes import(name) fail with why, e.g. a module that needs a flag.
func (m *Modules) Deny(name, why string) { m.denied[name] = why }

// AddBuiltin adds a Go module.
func (m *Modules) AddBuiltin(name string, attrs map[string]tengo.Object) {
	m.builtin[name] = &tengo.BuiltinModule{Attrs: attrs}
}

// AddSource adds a module written in Tengo, e.g. an embedded library.
func (m *Modules) AddSource(name string, src []byte) {
	m.builtin[name] = &tengo.SourceModule{Src: src}
}

// Get implements tengo.ModuleGetter.
func (m *Modules) Get(name string) tengo.Importable {
	if mod, ok := m.builtin[name]; ok {
		m.Found[name] = "(builtin)"
		if _, src := mod.(*tengo.SourceModule); src {
			m.Found[name] = "(embedded library)"
		}
		return mod
	}
	if _, denied := m.denied[name]; denied || !validModuleName(name) {
		// A denied name stays denied even when a library directory has
		// a file of that name.
		return nil
	}
	for _, dir := range m.dirs {
		path := filepath.Join(dir, filepath.FromSlash(name)+".tengo")
		src, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		m.Found[name] = path
		m.Sources[name] = src
		return &namedSource{name: name, src: src}
	}
	return nil
}

// namedSource is a source module; the compiler names its file after the
// module, so positions read "sched:3:5".
type namedSource struct {
	name string
	src  []byte
}

func (n *namedSource) Import(string) (any, error) { return n.src, nil }

// validModuleName accepts "name" and "dir/name" made of letters, digits,
// '_', '-' and '.', and refuses absolute paths and "..".
func validModuleName(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
		for _, c := range part {
			ok := c == '_' || c == '-' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
			if !ok {
				return false
			}
		}
	}
	return true
}

// Describe says where a missing module was looked for, for the error
// message of a failed import.
func (m *Modules) Describe(name string) string {
	if why, ok := m.denied[name]; ok {
		return why
	}
	if len(m.dirs) == 0 {
		return fmt.Sprintf("module %q is not a builtin module and no library path is set (-I DIR)", name)
	}
	return fmt.Sprintf("module %q not found as a builtin module or as %s.tengo in %s", name, name, strings.Join(m.dirs, ", "))
}
