package export

import (
	"fmt"
	"io"
	"strings"
)

// Writer is one output format.
type Writer interface {
	// Name is how a user asks for the format: "pprof", "folded", …
	Name() string
	// Extensions are the file name endings that select the format, with
	// the dot: ".pb.gz". Two writers may claim one ending when they take
	// different data (".json").
	Extensions() []string
	// Accepts reports whether the format can write data (a *Profile, a
	// *Timeline).
	Accepts(data any) bool
	// Write writes data to w. Errors of the data or the format are
	// *FormatError; those of w are returned as they are.
	Write(w io.Writer, data any) error
}

// FormatError is a Writer's complaint about the data it was given.
type FormatError struct {
	Format string
	Err    error
}

func (e *FormatError) Error() string { return "export: " + e.Format + ": " + e.Err.Error() }

func (e *FormatError) Unwrap() error { return e.Err }

// Writers returns every format otrace writes, each with its default
// options.
func Writers() []Writer {
	return []Writer{Pprof{}, Folded{}, JSONLines{}, Text{}, TraceEvents{}}
}

// ByName returns the format called name.
func ByName(name string) (Writer, error) {
	for _, w := range Writers() {
		if w.Name() == name {
			return w, nil
		}
	}
	return nil, fmt.Errorf("export: no format %q; formats: %s", name, formatList())
}

// ForPath chooses the format for writing data to path by its ending, the
// longest one that matches: "out.trace.json" is a timeline, "out.json"
// is JSON lines for a profile and trace events for a timeline.
func ForPath(path string, data any) (Writer, error) {
	best, bestLen := Writer(nil), 0
	var other Writer // a format claiming the ending, for other data
	lower := strings.ToLower(path)
	for _, w := range Writers() {
		for _, ext := range w.Extensions() {
			if len(ext) < bestLen || !strings.HasSuffix(lower, ext) {
				continue
			}
			if len(ext) > bestLen {
				best, other, bestLen = nil, nil, len(ext)
			}
			if w.Accepts(data) {
				best = w
			} else {
				other = w
			}
		}
	}
	switch {
	case best != nil:
		return best, nil
	case other != nil:
		return nil, fmt.Errorf("export: %s is a %s file, which cannot hold a %s; formats: %s", path, other.Name(), kindOf(data), formatList())
	}
	return nil, fmt.Errorf("export: no format for %s; name one or end the file in one of: %s", path, formatList())
}

// formatList is "pprof (.pb.gz, .pprof), folded (.folded), …".
func formatList() string {
	var parts []string
	for _, w := range Writers() {
		parts = append(parts, w.Name()+" ("+strings.Join(w.Extensions(), ", ")+")")
	}
	return strings.Join(parts, ", ")
}

// kindOf names what data is, for messages.
func kindOf(data any) string {
	switch data.(type) {
	case *Profile:
		return "profile"
	case *Timeline:
		return "timeline"
	}
	return fmt.Sprintf("%T", data)
}

func asProfile(w Writer, data any) (*Profile, error) {
	p, ok := data.(*Profile)
	if !ok || p == nil {
		return nil, wrongData(w, "profile", data)
	}
	return p, nil
}

func wrongData(w Writer, want string, data any) error {
	return &FormatError{Format: w.Name(), Err: fmt.Errorf("writes a %s, not a %s", want, kindOf(data))}
}
