package perfdata

import (
	"bytes"
	"strconv"

	"otrace/runtime/event"
)

// tracingMagic starts the tracing data (perf's trace-event-info).
const tracingMagic = "\x17\x08\x44tracing"

// maxTracingFormats bounds the format counts the tracing data declares.
const maxTracingFormats = 1 << 16

// tracing is what the reader takes from the tracing data: the format of
// every tracepoint it describes, by tracepoint id.
type tracing struct {
	formats map[uint32]*event.Format
	// bad holds, by tracepoint id, why a format did not parse; the reader
	// names it only if the file recorded that tracepoint.
	bad map[uint32]error
}

// parseTracing decodes the tracing data in b (at file offset base): magic,
// version, byte order, long and page size, the header_page and
// header_event texts, the ftrace formats, then the event formats grouped
// by system. Kallsyms, printk formats and saved cmdlines follow; the
// reader needs none of them.
func parseTracing(b []byte, base int64) (*tracing, error) {
	c := &cursor{b: b, base: base}
	if m := c.take(uint64(len(tracingMagic)), "tracing data magic"); c.err == nil && string(m) != tracingMagic {
		c.off -= len(tracingMagic)
		c.fail("tracing data starts with %q, not the tracing magic", m)
	}
	c.cstr("tracing data version")
	if c.u8("tracing data byte order") != 0 && c.err == nil {
		c.off--
		c.fail("the tracing data is big-endian; otrace reads only little-endian perf.data files")
	}
	c.u8("size of long")
	c.u32("page size")
	for _, name := range []string{"header_page", "header_event"} {
		if got := c.cstr(name + " name"); c.err == nil && got != name {
			c.fail("want the %s section, found %q", name, got)
		}
		c.take(c.u64(name+" size"), name)
	}
	t := &tracing{formats: map[uint32]*event.Format{}, bad: map[uint32]error{}}
	n := c.u32("ftrace format count")
	if n > maxTracingFormats {
		c.fail("%d ftrace formats is more than %d", n, maxTracingFormats)
	}
	for i := uint32(0); i < n && c.err == nil; i++ {
		text := c.take(c.u64("ftrace format size"), "ftrace format")
		t.add("ftrace", text)
	}
	systems := c.u32("event system count")
	if systems > maxTracingFormats {
		c.fail("%d event systems is more than %d", systems, maxTracingFormats)
	}
	for i := uint32(0); i < systems && c.err == nil; i++ {
		sys := c.cstr("event system name")
		n := c.u32("event format count")
		if n > maxTracingFormats {
			c.fail("%d formats of system %s is more than %d", n, sys, maxTracingFormats)
		}
		for j := uint32(0); j < n && c.err == nil; j++ {
			text := c.take(c.u64("event format size"), "event format")
			t.add(sys, text)
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	return t, nil
}

// add parses one format text. The text is copied: Format.Text keeps it.
func (t *tracing) add(system string, text []byte) {
	if text == nil {
		return
	}
	f, err := event.ParseFormat(system, bytes.Clone(text))
	if err != nil {
		if id, ok := formatID(text); ok {
			t.bad[id] = err
		}
		return
	}
	if f.ID != 0 {
		t.formats[f.ID] = f
	}
}

// formatID finds the "ID:" line of a format that did not parse.
func formatID(text []byte) (uint32, bool) {
	for line := range bytes.SplitSeq(text, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if v, ok := bytes.CutPrefix(line, []byte("ID:")); ok {
			id, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 32)
			return uint32(id), err == nil
		}
	}
	return 0, false
}
