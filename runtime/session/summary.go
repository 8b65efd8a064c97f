package session

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Stats are the totals of a run.
type Stats struct {
	Events        uint64 // records dispatched to handlers
	Filtered      uint64 // records dropped by the pid filter
	Lost          uint64 // records the source dropped
	LostByCPU     map[uint32]uint64
	HandlerErrors uint64
	HandlerTime   time.Duration // estimated from sampled calls
	Span          time.Duration // source clock from the first record to the last
	Reason        string        // why the run ended
}

// Stats returns the run's totals so far.
func (s *Session) Stats() Stats {
	st := Stats{
		Events: s.samples, Filtered: s.filtered, Lost: s.lost, LostByCPU: maps.Clone(s.lostByCPU),
		HandlerErrors: s.errors, Reason: s.reason,
	}
	if s.started {
		st.Span = time.Duration(s.now - s.base)
	}
	for _, a := range s.attachments {
		st.HandlerTime += a.Stats.Time()
	}
	return st
}

// WriteSummary writes the end-of-run report: one line of totals, every
// handler's errors, and with verbose, per-event counts and handler times.
func (s *Session) WriteSummary(w io.Writer, verbose bool) {
	st := s.Stats()
	fmt.Fprintf(w, "otrace: %s, %s lost, %s, %s traced (%s)\n",
		plural(st.Events, "event"), Commas(st.Lost), plural(st.HandlerErrors, "handler error"), fmtSpan(st.Span), st.Reason)
	if st.Filtered > 0 {
		fmt.Fprintf(w, "otrace: %s events of other processes skipped (-p, -c)\n", Commas(st.Filtered))
	}
	for _, a := range s.attachments {
		l := &a.Stats.Errors
		if l.Total == 0 {
			continue
		}
		fmt.Fprintf(w, "otrace: %s in %s:\n", plural(l.Total, "error"), Label(a))
		for _, e := range l.Entries {
			fmt.Fprintf(w, "  %9s  %v\n", Commas(e.Count), e.Err)
		}
		if l.Other > 0 {
			fmt.Fprintf(w, "  %9s  other errors\n", Commas(l.Other))
		}
	}
	if !verbose {
		return
	}
	cpus := slices.Sorted(maps.Keys(st.LostByCPU))
	for _, c := range cpus {
		fmt.Fprintf(w, "otrace:   cpu %-36d %12s lost\n", c, Commas(st.LostByCPU[c]))
	}
	for _, ev := range s.events {
		name := ev.Name
		if ev.Filter != "" {
			name += " if " + ev.Filter
		}
		fmt.Fprintf(w, "otrace:   %-40s %12s events, %s lost\n", name, Commas(ev.Count), Commas(ev.Lost))
	}
	for _, a := range s.attachments {
		calls := a.Stats.Calls
		t := a.Stats.Time()
		per := time.Duration(0)
		if calls > 0 {
			per = t / time.Duration(calls)
		}
		fmt.Fprintf(w, "otrace:   %-40s %12s calls, %v (%v per call)\n", Label(a), Commas(calls), t.Round(time.Microsecond), per)
	}
}

func plural(n uint64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return Commas(n) + " " + what + "s"
}

func fmtSpan(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
}

// Commas formats n with thousands separators: 1234567 -> "1,234,567".
func Commas(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	pre := len(s) % 3
	if pre > 0 {
		out = append(out, s[:pre]...)
	}
	for i := pre; i < len(s); i += 3 {
		if len(out) > 0 {
			out = append(out, ',')
		}
		out = append(out, s[i:i+3]...)
	}
	return string(out)
}
