package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// flags wraps flag.FlagSet so each option can have a short and a long name
// (-d and --duration) and the usage text lists them together, as perf and
// bpftrace users expect.
type flags struct {
	fs    *flag.FlagSet
	specs []flagSpec
}

type flagSpec struct {
	short, long, arg, help string
}

func newFlags(name string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flags{fs: fs}
}

func (f *flags) names(short, long string) []string {
	var n []string
	if short != "" {
		n = append(n, short)
	}
	if long != "" {
		n = append(n, long)
	}
	return n
}

func (f *flags) add(short, long, arg, help string) {
	f.specs = append(f.specs, flagSpec{short, long, arg, help})
}

func (f *flags) String(p *string, short, long, arg, help string) {
	for _, n := range f.names(short, long) {
		f.fs.StringVar(p, n, *p, help)
	}
	f.add(short, long, arg, help)
}

func (f *flags) Bool(p *bool, short, long, help string) {
	for _, n := range f.names(short, long) {
		f.fs.BoolVar(p, n, *p, help)
	}
	f.add(short, long, "", help)
}

func (f *flags) Func(short, long, arg, help string, fn func(string) error) {
	for _, n := range f.names(short, long) {
		f.fs.Func(n, help, fn)
	}
	f.add(short, long, arg, help)
}

// include adds flags of another set, by long name, sharing their values.
func (f *flags) include(from *flags, longs ...string) {
	for _, long := range longs {
		for _, s := range from.specs {
			if s.long != long {
				continue
			}
			for _, n := range f.names(s.short, s.long) {
				f.fs.Var(from.fs.Lookup(n).Value, n, s.help)
			}
			f.specs = append(f.specs, s)
		}
	}
}

func (f *flags) Parse(args []string) error { return f.fs.Parse(args) }

func (f *flags) Args() []string { return f.fs.Args() }

// ParseInterspersed parses flags wherever they stand among the positional
// arguments ("list GLOB -v" as well as "list -v GLOB") and returns the
// positional ones.
func (f *flags) ParseInterspersed(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.fs.Parse(args); err != nil {
			return nil, err
		}
		rest := f.fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// Usage writes the option list.
func (f *flags) Usage(w io.Writer) {
	for _, s := range f.specs {
		var names []string
		if s.short != "" {
			names = append(names, "-"+s.short)
		}
		if s.long != "" {
			names = append(names, "--"+s.long)
		}
		left := strings.Join(names, ", ")
		if s.arg != "" {
			left += " " + s.arg
		}
		if len(left) > 24 {
			fmt.Fprintf(w, "  %s\n  %-24s  %s\n", left, "", s.help)
		} else {
			fmt.Fprintf(w, "  %-24s  %s\n", left, s.help)
		}
	}
}
