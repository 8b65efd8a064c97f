package otracemod

import (
	"fmt"
	"io"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/stdlib"

	"otrace/bindings/host"
	libs "otrace/stdlib"
)

// safeModules are Tengo's standard modules scripts may import. "os" is
// left out unless allowed: it runs commands and writes files.
var safeModules = []string{"text", "math", "times", "json", "enum", "base64", "hex", "rand"}

// Modules returns the import resolver for a script: otrace itself, Tengo's
// safe standard modules (fmt printing into the script's output), "os" when
// allowOS, then the library directories.
func (m *Module) Modules(libPath []string, allowOS bool) *host.Modules {
	mods := host.NewModules(libPath)
	mods.AddBuiltin("otrace", m.Attrs())
	mods.AddBuiltin("fmt", m.fmtModule())
	for _, name := range libs.Names() {
		src, _ := libs.Source(name)
		mods.AddSource(name, src)
	}
	names := safeModules
	if allowOS {
		names = append(append([]string{}, names...), "os")
	} else {
		mods.Deny("os", `import("os") needs --allow-os: the os module runs commands and writes files`)
	}
	for _, name := range names {
		if attrs, ok := stdlib.BuiltinModules[name]; ok {
			mods.AddBuiltin(name, attrs)
		}
		if src, ok := stdlib.SourceModules[name]; ok {
			mods.AddSource(name, []byte(src))
		}
	}
	return mods
}

// fmtModule is Tengo's fmt with print, printf and println writing to the
// script's output, so they interleave with otrace.printf.
func (m *Module) fmtModule() map[string]tengo.Object {
	attrs := make(map[string]tengo.Object, len(stdlib.BuiltinModules["fmt"]))
	for k, v := range stdlib.BuiltinModules["fmt"] {
		attrs[k] = v
	}
	w := m.cfg.Out
	attrs["print"] = &tengo.UserFunction{Name: "print", Value: func(args ...tengo.Object) (tengo.Object, error) {
		return write(w, fmt.Sprint(plain(args)...))
	}}
	attrs["println"] = &tengo.UserFunction{Name: "println", Value: func(args ...tengo.Object) (tengo.Object, error) {
		return write(w, fmt.Sprintln(plain(args)...))
	}}
	attrs["printf"] = &tengo.UserFunction{Name: "printf", Value: m.printf}
	return attrs
}

// plain renders strings without quotes, as Tengo's own fmt.print does.
func plain(args []tengo.Object) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if s, ok := a.(*tengo.String); ok {
			out[i] = s.Value
		} else {
			out[i] = a.String()
		}
	}
	return out
}

func write(w io.Writer, s string) (tengo.Object, error) {
	if _, err := io.WriteString(w, s); err != nil {
		return nil, err
	}
	return tengo.UndefinedValue, nil
}
