package repl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/d5/tengo/v2"

	"otrace/bindings/aggobj"
	"otrace/runtime/aggregate"
	"otrace/runtime/session"
)

// state says whether tracing runs, for :handlers and :stats.
func (r *REPL) state() string {
	s := r.eng.sess
	st := s.Stats()
	switch {
	case s.InRun() && s.Paused():
		return fmt.Sprintf("paused after %s", fmtDur(st.Span))
	case s.InRun():
		return fmt.Sprintf("running for %s", fmtDur(st.Span))
	case r.eng.runs == 0:
		return "not started (:start)"
	default:
		return fmt.Sprintf("stopped (%s) after %s", st.Reason, fmtDur(st.Span))
	}
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// handlers lists the attached handlers with their counters.
func (r *REPL) handlers(args []string) error {
	if len(args) != 0 {
		return usage("handlers")
	}
	var b strings.Builder
	err := r.eng.do(func() {
		s := r.eng.sess
		s.ReadLoss()
		fmt.Fprintf(&b, "tracing %s\n", r.state())
		n := 0
		fmt.Fprintf(&b, "%4s  %-32s %12s %8s %12s %7s %10s  %s\n", "#", "probe", "events", "lost", "calls", "errors", "time", "where")
		for _, a := range s.Attachments() {
			if s.Detached(a) {
				continue
			}
			n++
			events, lost := "-", "-"
			if evs := s.EventsOf(a); len(evs) > 0 {
				var c, l uint64
				for _, ev := range evs {
					c += ev.Count
					l += ev.Lost
				}
				events, lost = session.Commas(c), session.Commas(l)
			}
			st := &a.Stats
			fmt.Fprintf(&b, "%4d  %-32s %12s %8s %12s %7s %10s  %s\n", a.ID, clip(a.Probe, 32), events, lost,
				session.Commas(st.Calls), session.Commas(st.Errors.Total), st.Time().Round(time.Microsecond), a.Where)
			for _, e := range st.Errors.Entries {
				fmt.Fprintf(&b, "      %9s  %v\n", session.Commas(e.Count), e.Err)
			}
		}
		if n == 0 {
			b.WriteString("no handler attached: otrace.on(\"PROBE\", func(e) {...}) attaches one\n")
		}
	})
	if err != nil {
		return err
	}
	io.WriteString(r.out, b.String())
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// stats prints the session's totals and per-event counts.
func (r *REPL) stats(args []string) error {
	if len(args) != 0 {
		return usage("stats")
	}
	var b strings.Builder
	err := r.eng.do(func() {
		s := r.eng.sess
		s.ReadLoss()
		st := s.Stats()
		fmt.Fprintf(&b, "tracing %s\n", r.state())
		rate := ""
		if st.Span > 0 {
			rate = fmt.Sprintf(" (%.0f/s)", float64(st.Events)/st.Span.Seconds())
		}
		fmt.Fprintf(&b, "events          %s%s\n", session.Commas(st.Events), rate)
		fmt.Fprintf(&b, "lost            %s\n", session.Commas(st.Lost))
		fmt.Fprintf(&b, "handler errors  %s\n", session.Commas(st.HandlerErrors))
		fmt.Fprintf(&b, "handler time    %v\n", st.HandlerTime.Round(time.Microsecond))
		if st.Filtered > 0 {
			fmt.Fprintf(&b, "filtered        %s\n", session.Commas(st.Filtered))
		}
		for _, ev := range s.Events() {
			name := ev.Name
			if ev.Filter != "" {
				name += " if " + ev.Filter
			}
			fmt.Fprintf(&b, "  %-40s %12s events, %s lost\n", name, session.Commas(ev.Count), session.Commas(ev.Lost))
		}
	})
	if err != nil {
		return err
	}
	io.WriteString(r.out, b.String())
	return nil
}

// maps prints the named aggregations, then every global variable that
// holds an unnamed aggregation, a counter or a map.
func (r *REPL) maps(args []string) error {
	if len(args) != 0 {
		return usage("maps")
	}
	var b bytes.Buffer
	err := r.eng.do(func() {
		aggs := r.eng.mod.Aggregations()
		aggs.PrintAll(&b)
		globals := r.eng.script.Globals()
		for _, name := range sortedKeys(globals) {
			v := globals[name]
			if a, ok := aggobj.Agg(v); ok {
				if a.Name() == "" && a.Len() > 0 {
					fmt.Fprintf(&b, "%s:\n%s", name, a.String())
				}
				continue
			}
			switch v := v.(type) {
			case *tengo.Map:
				if len(v.Value) > 0 {
					fmt.Fprintf(&b, "%s = %s\n", name, mapText(v.Value))
				}
			case *tengo.ImmutableMap:
			default:
				if v.TypeName() == "counter" {
					fmt.Fprintf(&b, "%s = %s\n", name, v.String())
				}
			}
		}
	})
	if err != nil {
		return err
	}
	if b.Len() == 0 {
		b.WriteString("no aggregation, counter or map holds anything yet\n")
	}
	r.out.Write(b.Bytes())
	return nil
}

// mapShow bounds the entries :maps shows of a Tengo map.
const mapShow = 20

// mapText shows a map's entries, largest numeric values first.
func mapText(m map[string]tengo.Object) string {
	keys := sortedKeys(m)
	num := func(o tengo.Object) (float64, bool) {
		switch v := o.(type) {
		case *tengo.Int:
			return float64(v.Value), true
		case *tengo.Float:
			return v.Value, true
		}
		return 0, false
	}
	sort.SliceStable(keys, func(i, j int) bool {
		a, aok := num(m[keys[i]])
		c, cok := num(m[keys[j]])
		return aok && cok && a > c
	})
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i == mapShow {
			fmt.Fprintf(&b, ", ... %d more", len(keys)-mapShow)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %s", k, m[k].String())
	}
	b.WriteString("}")
	return b.String()
}

// clear empties an aggregation, named by its name or by the variable
// holding it, or a map or array variable.
func (r *REPL) clear(args []string) error {
	if len(args) != 1 {
		return usage("clear")
	}
	name := args[0]
	var err error
	var what string
	derr := r.eng.do(func() {
		if v, ok := r.eng.script.Global(name); ok {
			if a, ok := aggobj.Agg(v); ok {
				a.Clear()
				what = "aggregation " + name
				return
			}
			switch v := v.(type) {
			case *tengo.Map:
				clear(v.Value)
				what = "map " + name
				return
			case *tengo.Array:
				v.Value = v.Value[:0]
				what = "array " + name
				return
			}
		}
		for _, a := range r.eng.mod.Aggregations().Registry().All() {
			if a.Name() == strings.TrimPrefix(name, "@") && a.Name() != "" {
				a.Clear()
				what = "aggregation @" + a.Name()
				return
			}
		}
		err = fmt.Errorf("%s is not an aggregation, a map or an array", name)
	})
	if derr != nil {
		return derr
	}
	if err == nil {
		fmt.Fprintf(r.out, "cleared %s\n", what)
	}
	return err
}

// export writes what a global variable holds to a file: a profile or a
// timeline as otrace.save writes them (the format follows the file's
// ending), an aggregation as it prints.
func (r *REPL) export(args []string) error {
	if len(args) != 2 {
		return usage("export")
	}
	name, file := args[0], args[1]
	var err error
	derr := r.eng.do(func() {
		v, ok := r.eng.script.Global(name)
		if !ok {
			err = fmt.Errorf("no variable %s", name)
			return
		}
		if a, ok := aggobj.Agg(v); ok {
			err = writeAggregation(file, a)
			return
		}
		save, ok := r.otraceFunction("save")
		if !ok {
			err = errors.New("exports are not available in this build")
			return
		}
		_, err = save.Call(v, &tengo.String{Value: file})
	})
	if derr != nil {
		return derr
	}
	if err != nil {
		return fmt.Errorf("%v (:export takes a variable holding a profile, a timeline or an aggregation)", err)
	}
	fmt.Fprintf(r.out, "wrote %s to %s\n", name, file)
	return nil
}

// otraceFunction finds a function of the otrace module.
func (r *REPL) otraceFunction(name string) (tengo.Object, bool) {
	o, ok := r.eng.script.Global("otrace")
	if !ok {
		return nil, false
	}
	f, err := o.IndexGet(&tengo.String{Value: name})
	if err != nil || f == nil || f == tengo.UndefinedValue || !f.CanCall() {
		return nil, false
	}
	return f, true
}

// writeAggregation writes a's printed form to file, whole or not at all.
func writeAggregation(file string, a *aggregate.Agg) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	werr := a.Print(tmp)
	if err := tmp.Close(); werr == nil {
		werr = err
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), file)
	}
	if werr != nil {
		os.Remove(tmp.Name())
	}
	return werr
}

// globalsOfKind lists the global variables whose value passes keep, for
// completion of :clear and :export.
func (r *REPL) globalsOfKind(keep func(tengo.Object) bool) []string {
	var out []string
	r.eng.do(func() {
		for name, v := range r.eng.script.Globals() {
			if keep(v) {
				out = append(out, name)
			}
		}
	})
	slices.Sort(out)
	return out
}
