package export

import (
	"strings"

	"otrace/runtime/intern"
	"otrace/runtime/symbols"
)

// stackNames names a profile's stacks for the text formats (folded, JSON
// lines, text), each stack once.
type stackNames struct {
	p     *Profile
	cache map[intern.StackID][]string
}

func newStackNames(p *Profile) *stackNames {
	return &stackNames{p: p, cache: map[intern.StackID][]string{}}
}

// rootFirst returns the names of a stack's frames, outermost first; the
// slice must not be modified.
func (n *stackNames) rootFirst(id intern.StackID) []string {
	if id == 0 || n.p.table == nil {
		return nil
	}
	if s, ok := n.cache[id]; ok {
		return s
	}
	fs := n.p.table.Frames(id)
	out := make([]string, len(fs))
	for i, f := range fs {
		out[len(fs)-1-i] = frameName(f)
	}
	n.cache[id] = out
	return out
}

// frameName is a frame's function without the offset, so that samples at
// different addresses of one function add up; an unknown function is
// called after its module in brackets ("[libc.so.6]"), as perf's
// stackcollapse does.
func frameName(f symbols.Frame) string {
	m := f.Module
	switch {
	case f.Func != "":
		return f.Func
	case m == "" || m == "[unknown]":
		return "[unknown]"
	case strings.HasPrefix(m, "["):
		return m
	default:
		return "[" + baseName(m) + "]"
	}
}

// baseName is the last element of a Linux or Windows path.
func baseName(path string) string {
	return path[strings.LastIndexAny(path, `/\`)+1:]
}
