// Package scripts embeds otrace's toolbox: each NAME.tengo here is a
// ready-to-run tool, runnable by name (`otrace run syscount`) as well as by
// path. The header comment of each says its usage, events and output.
package scripts

import (
	"embed"
	"io/fs"
	"strings"
)

//go:embed *.tengo
var files embed.FS

// Source returns the text of the toolbox script called name.
func Source(name string) ([]byte, bool) {
	if strings.ContainsAny(name, "/\\") {
		return nil, false
	}
	b, err := files.ReadFile(strings.TrimSuffix(name, ".tengo") + ".tengo")
	return b, err == nil
}

// Names lists the toolbox scripts.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".tengo"))
	}
	return out
}
