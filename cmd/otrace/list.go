package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"

	"otrace/collectors/tracefs"
	"otrace/runtime/event"
	"otrace/runtime/probe"
)

const listUsage = `Usage:
  otrace list [GLOB] [-v] [--json]

Lists the probes otrace can attach to: the kernel's tracepoints (read from
tracefs), software events, and the profile and uprobe forms. GLOB filters
by name ("sched:*", "*switch*"). -v adds each tracepoint's fields with their
C types; --json prints a machine-readable schema of every probe listed and
its fields.

Flags:
%s`

type listOptions struct {
	verbose, json, help bool
}

// probeInfo is one entry of the --json schema.
type probeInfo struct {
	Name   string      `json:"name"`
	Kind   string      `json:"kind"`
	Fields []fieldInfo `json:"fields,omitempty"`
	Help   string      `json:"help,omitempty"`
}

type fieldInfo struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Size   int    `json:"size"`
	Signed bool   `json:"signed"`
	Kind   string `json:"kind"`
}

func listCommand(args []string, stdout, stderr io.Writer) int {
	var o listOptions
	f := newFlags("list")
	f.Bool(&o.verbose, "v", "verbose", "show each tracepoint's fields")
	f.Bool(&o.json, "", "json", "print a JSON schema of the probes and their fields")
	f.Bool(&o.help, "h", "help", "show this help")
	positional, err := f.ParseInterspersed(args)
	if err != nil || o.help || len(positional) > 1 {
		var b strings.Builder
		f.Usage(&b)
		if o.help {
			fmt.Fprintf(stdout, listUsage, b.String())
			return exitOK
		}
		if err == nil {
			err = fmt.Errorf("give at most one GLOB")
		}
		fmt.Fprintf(stderr, "otrace list: %v\n"+listUsage, err, b.String())
		return exitUsage
	}
	glob := "*"
	if len(positional) == 1 {
		glob = positional[0]
		if _, err := path.Match(glob, ""); err != nil {
			fmt.Fprintf(stderr, "otrace list: bad glob %q: %v\n", glob, err)
			return exitUsage
		}
	}
	probes, err := collectProbes(glob, o.verbose || o.json, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "otrace: %v\n", err)
		return exitFailure
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(probes); err != nil {
			return exitFailure
		}
		return exitOK
	}
	for _, p := range probes {
		if p.Help != "" && !o.verbose {
			fmt.Fprintf(stdout, "%-40s %s\n", p.Name, p.Help)
			continue
		}
		fmt.Fprintln(stdout, p.Name)
		if o.verbose {
			if p.Help != "" {
				fmt.Fprintf(stdout, "    %s\n", p.Help)
			}
			for _, fl := range p.Fields {
				fmt.Fprintf(stdout, "    %-28s %s\n", fl.Type, fl.Name)
			}
		}
	}
	if len(probes) == 0 {
		fmt.Fprintf(stderr, "otrace: no probe matches %q\n", glob)
		return exitFailure
	}
	return exitOK
}

// collectProbes gathers the probes matching glob; with fields, each
// tracepoint's format is read.
func collectProbes(glob string, fields bool, stderr io.Writer) ([]probeInfo, error) {
	out, err := platformProbes(glob, fields, stderr)
	if err != nil {
		return nil, err
	}
	if listTracefs {
		tps, err := tracepointProbes(glob, fields, stderr)
		if err != nil {
			return nil, err
		}
		out = append(out, tps...)
		for _, n := range probe.SoftwareEvents {
			if ok, _ := path.Match(glob, "software:"+n); ok {
				out = append(out, probeInfo{Name: "software:" + n, Kind: "software", Help: "software event; software:" + n + ":PERIOD samples every PERIOD"})
			}
		}
	}
	for _, p := range []probeInfo{
		{Name: "profile:hz:N", Kind: "profile", Help: "CPU sampling at N Hz on every CPU"},
		{Name: "uprobe:PATH:SYMBOL", Kind: "uprobe", Help: "entry of a user-space function"},
		{Name: "uretprobe:PATH:SYMBOL", Kind: "uretprobe", Help: "return of a user-space function"},
	} {
		if p.Kind != "profile" && !listTracefs {
			continue
		}
		if ok, _ := path.Match(glob, p.Name); ok || glob == "*" {
			out = append(out, p)
		}
	}
	return out, nil
}

// tracepointProbes lists the kernel's tracepoints from tracefs.
func tracepointProbes(glob string, fields bool, stderr io.Writer) ([]probeInfo, error) {
	var out []probeInfo
	fs, err := tracefs.Open(tracefs.Options{Notice: func(s string) { fmt.Fprintln(stderr, s) }})
	if err != nil {
		fmt.Fprintf(stderr, "otrace: tracepoints not listed: %v\n", err)
		return nil, nil
	}
	names, err := fs.Events()
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if ok, _ := path.Match(glob, name); !ok {
			continue
		}
		p := probeInfo{Name: name, Kind: "tracepoint"}
		if fields {
			sys, ev, _ := strings.Cut(name, ":")
			f, err := fs.Format(sys, ev)
			if err != nil {
				return nil, err
			}
			p.Fields = describeFields(f)
		}
		out = append(out, p)
	}
	return out, nil
}

func describeFields(f *event.Format) []fieldInfo {
	var out []fieldInfo
	for _, fl := range f.Fields {
		if event.IsCommon(fl.Name) {
			continue
		}
		out = append(out, fieldInfo{Name: fl.Name, Type: fl.Type, Offset: fl.Offset, Size: fl.Size, Signed: fl.Signed, Kind: fl.Kind.String()})
	}
	return out
}
