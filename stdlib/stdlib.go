// Package stdlib holds otrace's shared script libraries: Tengo files
// embedded in the binary and imported by name, "otrace/NAME" for the file
// otrace/NAME.tengo here (import("otrace/syscalls")). They are scripts
// like any other; nothing here is Go but the embedding.
package stdlib

import (
	"embed"
	"io/fs"
	"strings"
)

//go:generate go run ./internal/gen

//go:embed otrace/*.tengo
var files embed.FS

// Prefix is the import-name prefix of every embedded library.
const Prefix = "otrace/"

// Source returns the text of an embedded library by import name.
func Source(name string) ([]byte, bool) {
	if !strings.HasPrefix(name, Prefix) || strings.Contains(name[len(Prefix):], "/") {
		return nil, false
	}
	b, err := files.ReadFile(name + ".tengo")
	if err != nil {
		return nil, false
	}
	return b, true
}

// Names lists the embedded libraries' import names.
func Names() []string {
	entries, _ := fs.ReadDir(files, "otrace")
	var out []string
	for _, e := range entries {
		out = append(out, Prefix+strings.TrimSuffix(e.Name(), ".tengo"))
	}
	return out
}
