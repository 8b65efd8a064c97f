package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/google/pprof/driver"
)

const viewUsage = `Usage:
  otrace view [--http ADDR] [--no-browser] FILE.pb.gz
  otrace view --top FILE.pb.gz

Opens a pprof profile (otrace.save(p, "x.pb.gz"), scripts/profile.tengo)
in pprof's web UI — flame graph, top, graph, source — served on ADDR
(default localhost:0, a free port; the URL is printed) and opened in a
browser unless --no-browser. --top prints the top functions instead.
Symbols were resolved when the profile was written: nothing is looked up
again.

Flags:
%s`

func viewCommand(args []string, stdout, stderr io.Writer) int {
	var httpAddr string
	var noBrowser, top, help bool
	f := newFlags("view")
	f.String(&httpAddr, "", "http", "ADDR", "serve the web UI on ADDR (host:port)")
	f.Bool(&noBrowser, "", "no-browser", "print the URL, do not open a browser")
	f.Bool(&top, "", "top", "print the top functions to the terminal")
	f.Bool(&help, "h", "help", "show this help")
	files, err := f.ParseInterspersed(args)
	if err != nil || help || len(files) != 1 {
		var b strings.Builder
		f.Usage(&b)
		if help {
			fmt.Fprintf(stdout, viewUsage, b.String())
			return exitOK
		}
		if err == nil {
			err = fmt.Errorf("give one profile file")
		}
		fmt.Fprintf(stderr, "otrace view: %v\n"+viewUsage, err, b.String())
		return exitUsage
	}
	pargs := []string{"-symbolize=none"}
	switch {
	case top:
		pargs = append(pargs, "-top")
	default:
		if httpAddr == "" {
			httpAddr = "localhost:0"
		}
		pargs = append(pargs, "-http="+httpAddr)
		if noBrowser {
			pargs = append(pargs, "-no_browser")
		}
	}
	pargs = append(pargs, files[0])
	fs := &pprofFlags{FlagSet: flag.NewFlagSet("pprof", flag.ContinueOnError), args: pargs}
	fs.SetOutput(stderr)
	if err := driver.PProf(&driver.Options{Flagset: fs, UI: &pprofUI{out: stdout, err: stderr}}); err != nil {
		fmt.Fprintf(stderr, "otrace view: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// pprofFlags hands pprof's driver the arguments otrace chose, instead of
// the process's command line.
type pprofFlags struct {
	*flag.FlagSet
	args  []string
	extra []string
}

func (p *pprofFlags) StringList(name, def, usage string) *[]*string {
	var list []*string
	v := p.FlagSet.String(name, def, usage)
	list = append(list, v)
	return &list
}

func (p *pprofFlags) ExtraUsage() string      { return strings.Join(p.extra, "\n") }
func (p *pprofFlags) AddExtraUsage(eu string) { p.extra = append(p.extra, eu) }

func (p *pprofFlags) Parse(usage func()) []string {
	p.FlagSet.Usage = usage
	if err := p.FlagSet.Parse(p.args); err != nil {
		return nil
	}
	return p.FlagSet.Args()
}

// pprofUI routes pprof's messages to otrace's streams; it never prompts.
type pprofUI struct{ out, err io.Writer }

func (u *pprofUI) ReadLine(string) (string, error)     { return "", io.EOF }
func (u *pprofUI) Print(args ...any)                   { fmt.Fprint(u.err, args...) }
func (u *pprofUI) PrintErr(args ...any)                { fmt.Fprint(u.err, args...) }
func (u *pprofUI) IsTerminal() bool                    { return false }
func (u *pprofUI) WantBrowser() bool                   { return true }
func (u *pprofUI) SetAutoComplete(func(string) string) {}
