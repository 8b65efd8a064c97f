package export

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"otrace/runtime/intern"
)

// Text writes a *Profile as a table for terminals: the top functions by
// flat value (the samples they were the leaf of), with their cumulative
// value (the samples they were anywhere in), as go tool pprof -top does.
type Text struct {
	// Value is the sample type to rank by; "" means the profile's default,
	// or its first type.
	Value string
	// N is how many functions to show; 0 means 20, negative means all.
	N int
}

// Name is "text".
func (Text) Name() string { return "text" }

// Extensions is ".txt".
func (Text) Extensions() []string { return []string{".txt"} }

// Accepts takes a *Profile.
func (Text) Accepts(data any) bool { _, ok := data.(*Profile); return ok }

type textRow struct {
	name      string
	flat, cum int64
}

// Write writes the run's comments, a header and the table.
func (t Text) Write(out io.Writer, data any) error {
	p, err := asProfile(t, data)
	if err != nil {
		return err
	}
	col, err := p.valueIndex(t.Value)
	if err != nil {
		return &FormatError{Format: t.Name(), Err: err}
	}
	rows, total := textRows(p, col)
	n := t.N
	if n == 0 {
		n = 20
	}
	if n < 0 || n > len(rows) {
		n = len(rows)
	}
	bw := bufio.NewWriter(out)
	for _, c := range p.commentLines() {
		fmt.Fprintln(bw, c)
	}
	typ := p.types[col]
	fmt.Fprintf(bw, "Type: %s (%s), total %d; showing %d of %d functions\n", typ.Type, typ.Unit, total, n, len(rows))
	fmt.Fprintf(bw, "%12s %7s %7s %12s %7s  %s\n", "flat", "flat%", "sum%", "cum", "cum%", "function")
	var sum int64
	for _, r := range rows[:n] {
		sum += r.flat
		fmt.Fprintf(bw, "%12d %7s %7s %12d %7s  %s\n", r.flat, percent(r.flat, total), percent(sum, total), r.cum, percent(r.cum, total), r.name)
	}
	return bw.Flush()
}

// textRows sums column col by function, highest flat first.
func textRows(p *Profile, col int) ([]textRow, int64) {
	names := newStackNames(p)
	type pair struct{ kernel, user intern.StackID }
	type stackFuncs struct {
		leaf  string
		funcs []string // each function of the stack once
	}
	cache := map[pair]stackFuncs{}
	byName := map[string]*textRow{}
	row := func(name string) *textRow {
		r, ok := byName[name]
		if !ok {
			r = &textRow{name: name}
			byName[name] = r
		}
		return r
	}
	var total int64
	for i := range p.keys {
		key, vals := p.row(i)
		v := vals[col]
		total += v
		k := pair{key.kernel, key.user}
		sf, ok := cache[k]
		if !ok {
			all := append(slices.Clone(names.rootFirst(key.user)), names.rootFirst(key.kernel)...)
			if len(all) == 0 {
				all = []string{"[unknown]"}
			}
			sf.leaf = all[len(all)-1]
			slices.Sort(all)
			sf.funcs = slices.Compact(all)
			cache[k] = sf
		}
		row(sf.leaf).flat += v
		for _, f := range sf.funcs {
			row(f).cum += v
		}
	}
	rows := make([]textRow, 0, len(byName))
	for _, r := range byName {
		rows = append(rows, *r)
	}
	slices.SortFunc(rows, func(a, b textRow) int {
		switch {
		case a.flat != b.flat:
			return cmpDesc(a.flat, b.flat)
		case a.cum != b.cum:
			return cmpDesc(a.cum, b.cum)
		}
		return strings.Compare(a.name, b.name)
	})
	return rows, total
}

func cmpDesc(a, b int64) int {
	if a > b {
		return -1
	}
	return 1
}

func percent(v, total int64) string {
	if total == 0 {
		return "0.00%"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(v)/float64(total))
}
