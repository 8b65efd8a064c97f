package export

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"

	"otrace/runtime/intern"
)

// Folded writes a *Profile as folded stacks, one line per distinct
// stack: "comm;outermost;…;leaf VALUE", the input of flamegraph.pl,
// inferno and speedscope; comm is the sample's "comm" string label, left
// out when it has none. Kernel frames follow the user frames with a
// "_[k]" suffix and frames of JIT code get "_[j]", as perf's
// stackcollapse marks them; lines are sorted.
type Folded struct {
	// Value is the sample type to write; "" means the profile's default,
	// or its first type.
	Value string
}

// Name is "folded".
func (Folded) Name() string { return "folded" }

// Extensions is ".folded".
func (Folded) Extensions() []string { return []string{".folded"} }

// Accepts takes a *Profile.
func (Folded) Accepts(data any) bool { _, ok := data.(*Profile); return ok }

// Write writes the folded stacks. Samples whose stacks name the same
// frames (different addresses in one function) make one line.
func (f Folded) Write(out io.Writer, data any) error {
	p, err := asProfile(f, data)
	if err != nil {
		return err
	}
	col, err := p.valueIndex(f.Value)
	if err != nil {
		return &FormatError{Format: f.Name(), Err: err}
	}
	// Sum by ids first, so each distinct line is built once.
	type idKey struct {
		comm         string
		kernel, user intern.StackID
	}
	byID := map[idKey]int64{}
	var order []idKey
	for i := range p.keys {
		key, vals := p.row(i)
		comm, _ := p.labels.str(key.labels, "comm")
		k := idKey{comm: comm, kernel: key.kernel, user: key.user}
		if _, ok := byID[k]; !ok {
			order = append(order, k)
		}
		byID[k] += vals[col]
	}
	names := newFoldedNames(p)
	byLine := map[string]int64{}
	var b strings.Builder
	for _, k := range order {
		b.Reset()
		if k.comm != "" {
			b.WriteString(foldedEscape(k.comm))
		}
		for _, part := range [...]string{names.part(k.user, false), names.part(k.kernel, true)} {
			if part == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(';')
			}
			b.WriteString(part)
		}
		if b.Len() == 0 {
			b.WriteString("[unknown]")
		}
		byLine[b.String()] += byID[k]
	}
	lines := make([]string, 0, len(byLine))
	for l := range byLine {
		lines = append(lines, l)
	}
	slices.Sort(lines)
	bw := bufio.NewWriterSize(out, 64<<10)
	num := make([]byte, 0, 24)
	for _, l := range lines {
		bw.WriteString(l)
		bw.WriteByte(' ')
		num = strconv.AppendInt(num[:0], byLine[l], 10)
		bw.Write(num)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// foldedNames is each stack's part of a folded line, built once.
type foldedNames struct {
	p     *Profile
	parts map[intern.StackID]string
}

func newFoldedNames(p *Profile) *foldedNames {
	return &foldedNames{p: p, parts: map[intern.StackID]string{}}
}

// part is a stack's frames root first, joined by ";", escaped and marked.
func (f *foldedNames) part(id intern.StackID, kernel bool) string {
	if id == 0 {
		return ""
	}
	if s, ok := f.parts[id]; ok {
		return s
	}
	var b strings.Builder
	fs := f.p.table.Frames(id)
	for i := len(fs) - 1; i >= 0; i-- {
		b.WriteString(foldedEscape(frameName(fs[i])))
		switch {
		case kernel:
			b.WriteString("_[k]")
		case fs[i].Module == "[jit]":
			b.WriteString("_[j]")
		}
		if i > 0 {
			b.WriteByte(';')
		}
	}
	s := b.String()
	f.parts[id] = s
	return s
}

// foldedEscape keeps a name inside its field: ";" separates frames, so it
// becomes ":", as stackcollapse does; a line break or tab would end the
// line, so it becomes a space. Spaces stay (C++ and Rust names have
// them): every reader takes the count after the line's last space.
func foldedEscape(s string) string {
	if !strings.ContainsAny(s, ";\n\r\t") {
		return s
	}
	return strings.NewReplacer(";", ":", "\n", " ", "\r", " ", "\t", " ").Replace(s)
}
