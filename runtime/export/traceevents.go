package export

import (
	"bufio"
	"cmp"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"
)

// TraceEvents writes a *Timeline as Chrome trace-event JSON in its object
// form, which ui.perfetto.dev and chrome://tracing open.
type TraceEvents struct{}

// Name is "perfetto".
func (TraceEvents) Name() string { return "perfetto" }

// Extensions are ".perfetto.json", ".trace.json" and, for a timeline,
// ".json".
func (TraceEvents) Extensions() []string { return []string{".perfetto.json", ".trace.json", ".json"} }

// Accepts takes a *Timeline.
func (TraceEvents) Accepts(data any) bool { _, ok := data.(*Timeline); return ok }

// Write writes metadata events naming processes and threads, then the
// events in time order, one per line. Times are microseconds since the
// first event, with three decimals: nanoseconds, exactly.
func (w TraceEvents) Write(out io.Writer, data any) error {
	t, ok := data.(*Timeline)
	if !ok || t == nil {
		return wrongData(w, "timeline", data)
	}
	order := make([]int, len(t.events))
	for i := range order {
		order[i] = i
	}
	// By time; at one time the longer slice first, so that slices nest
	// even when a script added the inner one first (it ends first).
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := &t.events[a], &t.events[b]
		switch {
		case x.start != y.start:
			return cmp.Compare(x.start, y.start)
		case x.dur != y.dur:
			return cmp.Compare(y.dur, x.dur)
		}
		return 0
	})
	var t0 uint64
	if len(order) > 0 {
		t0 = t.events[order[0]].start
	}

	bw := bufio.NewWriterSize(out, 64<<10)
	b := make([]byte, 0, 512)
	b = append(b, `{"displayTimeUnit":"ns",`...)
	b = appendOtherData(b, &t.runInfo)
	b = append(b, `"traceEvents":[`...)
	first := true
	next := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '\n')
	}
	pids := make([]int32, 0, len(t.procs))
	for pid := range t.procs {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	for _, pid := range pids {
		next()
		b = appendMeta(b, "process_name", pid, 0, t.procs[pid])
	}
	for _, tr := range t.tracks {
		if tr.name != "" {
			next()
			b = appendMeta(b, "thread_name", tr.pid, tr.tid, tr.name)
		}
	}
	for _, i := range order {
		e := &t.events[i]
		tr := t.tracks[e.track-1]
		next()
		b = append(b, `{"ph":"`...)
		b = append(b, e.ph)
		b = append(b, `","name":`...)
		b = appendJSONString(b, e.name)
		b = appendIDs(b, tr.pid, tr.tid)
		b = append(b, `,"ts":`...)
		b = appendMicros(b, e.start-t0)
		switch e.ph {
		case 'X':
			b = append(b, `,"dur":`...)
			b = appendMicros(b, e.dur)
		case 'i':
			b = append(b, `,"s":"t"`...)
		case 'C':
			b = append(b, `,"args":{"value":`...)
			b = strconv.AppendFloat(b, e.value, 'g', -1, 64)
			b = append(b, '}')
		}
		if e.args != nil {
			b = append(b, `,"args":`...)
			b = append(b, e.args...)
		}
		b = append(b, '}')
		if len(b) > 32<<10 {
			if _, err := bw.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	b = append(b, "\n]}\n"...)
	if _, err := bw.Write(b); err != nil {
		return err
	}
	return bw.Flush()
}

// appendOtherData writes the run's info where Chrome shows metadata.
func appendOtherData(b []byte, r *runInfo) []byte {
	if r.version == "" && !r.hasEvents && len(r.comments) == 0 {
		return b
	}
	b = append(b, `"otherData":{`...)
	sep := ""
	if r.version != "" {
		b = append(b, `"otrace_version":`...)
		b = appendJSONString(b, r.version)
		sep = ","
	}
	if r.hasEvents {
		b = append(b, sep+`"events_seen":`...)
		b = strconv.AppendUint(b, r.seen, 10)
		b = append(b, `,"events_lost":`...)
		b = strconv.AppendUint(b, r.lost, 10)
		sep = ","
	}
	if len(r.comments) > 0 {
		b = append(b, sep+`"comments":[`...)
		for i, c := range r.comments {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, c)
		}
		b = append(b, ']')
	}
	return append(b, "},"...)
}

func appendMeta(b []byte, kind string, pid, tid int32, name string) []byte {
	b = append(b, `{"ph":"M","name":"`...)
	b = append(b, kind...)
	b = append(b, '"')
	b = appendIDs(b, pid, tid)
	b = append(b, `,"ts":0,"args":{"name":`...)
	b = appendJSONString(b, name)
	return append(b, "}}"...)
}

func appendIDs(b []byte, pid, tid int32) []byte {
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, `,"tid":`...)
	return strconv.AppendInt(b, int64(tid), 10)
}

// appendMicros writes nanoseconds as microseconds with three decimals,
// in integers, so no precision is lost to floating point.
func appendMicros(b []byte, ns uint64) []byte {
	b = strconv.AppendUint(b, ns/1000, 10)
	frac := ns % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// appendJSONString writes s as a JSON string; bytes that are not UTF-8
// become U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
