package perfdata

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"otrace/runtime/event"
	"otrace/runtime/process"
)

// What perf script prints is the reference the reader is checked against.
// These helpers parse two of its output forms and render the reader's
// samples the same way.

// scriptTraceArgs make perf script print one line per sample:
// comm, tid, [cpu], seconds.nanoseconds, event and the tracepoint text.
var scriptTraceArgs = []string{"-F", "comm,tid,cpu,time,event,trace", "--ns"}

// scriptChainArgs make perf script print "tid seconds.nanoseconds:" and
// then the callchain, one address a line.
var scriptChainArgs = []string{"-F", "tid,time,ip", "--ns"}

// scriptSample is one sample as perf script printed it.
type scriptSample struct {
	Comm  string
	TID   int32
	CPU   uint32
	Time  uint64
	Event string
	Trace string
	IPs   []uint64
}

// traceLine is a line of scriptTraceArgs output. The comm may hold
// spaces, so the fields are found from the right.
var traceLine = regexp.MustCompile(`^\s*(.*?)\s+(-?\d+)\s+\[(\d+)\]\s+(\d+)\.(\d{9}):\s+(\S+):\s?(.*)$`)

func parseTraceScript(t testing.TB, r io.Reader) []scriptSample {
	t.Helper()
	var out []scriptSample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m := traceLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("perf script printed a line this test cannot parse: %q", line)
		}
		tid, _ := strconv.ParseInt(m[2], 10, 32)
		cpu, _ := strconv.ParseUint(m[3], 10, 32)
		out = append(out, scriptSample{Comm: m[1], TID: int32(tid), CPU: uint32(cpu),
			Time: scriptTime(m[4], m[5]), Event: m[6], Trace: m[7]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var chainHeader = regexp.MustCompile(`^\s*(-?\d+)\s+(\d+)\.(\d{9}):\s*$`)

func parseChainScript(t testing.TB, r io.Reader) []scriptSample {
	t.Helper()
	var out []scriptSample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		if m := chainHeader.FindStringSubmatch(line); m != nil {
			tid, _ := strconv.ParseInt(m[1], 10, 32)
			out = append(out, scriptSample{TID: int32(tid), Time: scriptTime(m[2], m[3])})
			continue
		}
		if len(out) == 0 || !strings.HasPrefix(line, "\t") {
			t.Fatalf("perf script printed a line this test cannot parse: %q", line)
		}
		if strings.HasSuffix(line, "(inlined)") {
			continue // perf adds inlined functions from debug info
		}
		f := strings.Fields(line)
		ip, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			t.Fatalf("bad address in perf script line %q", line)
		}
		s := &out[len(out)-1]
		s.IPs = append(s.IPs, ip)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func scriptTime(sec, ns string) uint64 {
	s, _ := strconv.ParseUint(sec, 10, 64)
	n, _ := strconv.ParseUint(ns, 10, 64)
	return s*1_000_000_000 + n
}

// traceValues splits perf script's tracepoint text ("prev_comm=sh
// prev_pid=12 ... ==> next_comm=...") into its name=value pairs. A value
// runs to the next " name=", so comms with spaces survive.
var traceKey = regexp.MustCompile(`(?:^|\s)(\w+)=`)

func traceValues(text string) map[string]string {
	out := map[string]string{}
	locs := traceKey.FindAllStringSubmatchIndex(text, -1)
	for i, l := range locs {
		end := len(text)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		v := strings.TrimSpace(text[l[1]:end])
		v = strings.TrimSpace(strings.TrimSuffix(v, "==>"))
		out[text[l[2]:l[3]]] = v
	}
	return out
}

// checkTraceFields compares the fields perf printed as plain values with
// the reader's decoding of the raw payload: strings as they are, integers
// when perf printed them in decimal. Fields perf prints through symbolic
// print formats (prev_state=S) are left out.
func checkTraceFields(t testing.TB, i int, f *event.Format, raw []byte, text string) (checked int) {
	t.Helper()
	for name, want := range traceValues(text) {
		fld := f.Field(name)
		if fld == nil {
			continue
		}
		if fld.String {
			got, _ := fld.Str(raw)
			if string(got) != want {
				t.Errorf("sample %d: %s = %q, perf script says %q", i, name, got, want)
			}
			checked++
			continue
		}
		n, err := strconv.ParseInt(want, 10, 64)
		if err != nil {
			continue
		}
		got, ok := fld.Int(raw)
		if !ok || got != n {
			t.Errorf("sample %d: %s = %d, perf script says %d", i, name, got, n)
		}
		checked++
	}
	return checked
}

// compareTrace checks the reader's samples against perf script's, one for
// one and in the same order: time, thread, CPU, event and the fields.
func compareTrace(t testing.TB, r *Reader, got []sample, want []scriptSample) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("the reader delivered %d samples, perf script printed %d", len(got), len(want))
	}
	formats := map[string]*event.Format{}
	for _, name := range r.Catalog().Names() {
		ev, _ := r.Catalog().Lookup(name)
		formats[name] = ev.Format
	}
	checked := 0
	for i, g := range got {
		w := want[i]
		if g.Time != w.Time || g.TID != w.TID || g.CPU != w.CPU || g.Event != w.Event {
			t.Fatalf("sample %d is %s at %d on cpu %d tid %d; perf script has %s at %d on cpu %d tid %d",
				i, g.Event, g.Time, g.CPU, g.TID, w.Event, w.Time, w.CPU, w.TID)
		}
		checked += checkTraceFields(t, i, formats[g.Event], g.Raw, w.Trace)
	}
	if checked < len(got) {
		t.Errorf("only %d fields of %d samples could be compared with perf script", checked, len(got))
	}
}

// perfIPs renders a callchain as perf script prints it: markers dropped,
// kernel addresses as they are, user addresses relative to the file
// mapped there (address - start + page offset), found in the process
// model the reader's records built.
func perfIPs(procs *process.Table, s sample) []uint64 {
	var out []uint64
	for _, pc := range s.Callchain {
		if pc >= 1<<64-4095 {
			continue
		}
		if pc < 1<<63 {
			if m := mappingOf(procs, s, pc); m != nil {
				pc = pc - m.Start + m.Pgoff
			}
		}
		out = append(out, pc)
	}
	return out
}

// compareChains checks the reader's samples against perf script's
// callchains: same samples in the same order with the same addresses.
// With user set to false, only the kernel part is compared (perf unwinds
// --call-graph dwarf stacks itself).
func compareChains(t testing.TB, items []any, want []scriptSample, user bool) {
	t.Helper()
	procs := process.NewTable()
	i := 0
	for _, it := range items {
		switch v := it.(type) {
		case process.Comm:
			procs.AddComm(v)
		case process.Fork:
			procs.AddFork(v)
		case process.Exit:
			procs.AddExit(v)
		case process.Mmap:
			procs.AddMmap(v)
		case sample:
			if i >= len(want) {
				t.Fatalf("the reader delivered more samples than the %d perf script printed", len(want))
			}
			w := want[i]
			if v.Time != w.Time || v.TID != w.TID {
				t.Fatalf("sample %d is tid %d at %d; perf script has tid %d at %d", i, v.TID, v.Time, w.TID, w.Time)
			}
			got := perfIPs(procs, v)
			wantIPs := w.IPs
			if !user {
				got, wantIPs = kernelOnly(got), kernelOnly(wantIPs)
			}
			if fmt.Sprintf("%x", got) != fmt.Sprintf("%x", wantIPs) {
				t.Errorf("sample %d (tid %d at %d): callchain %x, perf script %x", i, v.TID, v.Time, got, wantIPs)
			}
			i++
		}
	}
	if i != len(want) {
		t.Fatalf("the reader delivered %d samples, perf script printed %d", i, len(want))
	}
}

// mappingOf finds the mapping of a user address. A sample taken inside
// execve, after the COMM of the new program, has the old program's user
// stack: perf resolves those addresses in the maps from before the exec,
// and so does this.
func mappingOf(procs *process.Table, s sample, pc uint64) *process.Mapping {
	if m := procs.MappingAt(s.PID, pc, s.Time); m != nil {
		return m
	}
	if p := procs.Process(s.PID); p != nil {
		for i := len(p.Maps) - 1; i >= 0; i-- {
			if m := &p.Maps[i]; m.Start <= pc && pc < m.Start+m.Len {
				return m
			}
		}
	}
	return nil
}

func kernelOnly(ips []uint64) []uint64 {
	var out []uint64
	for _, ip := range ips {
		if ip >= 1<<63 {
			out = append(out, ip)
		}
	}
	return out
}
