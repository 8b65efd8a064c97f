package session

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"otrace/runtime/event"
)

// stateFormat is a tracepoint with one u32 field, state, at offset 8.
const stateFormat = `name: st
ID: 7
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;
	field:u32 state;	offset:8;	size:4;	signed:0;

print fmt: ""
`

// recordedCatalog returns a catalog of the events named, each with its
// own format; "t:st" gets stateFormat.
func recordedCatalog(t *testing.T, file string, names ...string) *RecordedCatalog {
	t.Helper()
	c := NewRecordedCatalog("pkg", "recording", file)
	for _, n := range names {
		f := &event.Format{Name: n}
		if n == "t:st" {
			var err error
			if f, err = event.ParseFormat("t", []byte(stateFormat)); err != nil {
				t.Fatal(err)
			}
		}
		c.Define(&event.Event{ID: -1, Name: n, Format: f})
	}
	return c
}

func stateRaw(state uint32) []byte {
	raw := make([]byte, 12)
	binary.LittleEndian.PutUint32(raw[8:], state)
	return raw
}

// countSink counts samples; Deliver calls nothing else.
type countSink struct {
	Sink
	n int
}

func (s *countSink) Sample(*event.Record) { s.n++ }

func TestRecordedCatalogLookup(t *testing.T) {
	many := make([]string, 10)
	for i := range many {
		many[i] = fmt.Sprintf("s:e%d", i)
	}
	tests := []struct {
		name  string
		file  string
		names []string
		want  string
	}{
		{"an empty recording says it has no events", "", nil,
			`unknown event "x:y": the recording has no such event (it has no events)`},
		{"a recording with a path names it", "a.rec", []string{"b:b", "a:a"},
			`unknown event "x:y": recording a.rec has no such event (it has a:a, b:b)`},
		{"a recording of many events lists eight and counts the rest", "", many,
			`unknown event "x:y": the recording has no such event (it has s:e0, s:e1, s:e2, s:e3, s:e4, s:e5, s:e6, s:e7 and 2 more)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := recordedCatalog(t, tt.file, tt.names...)
			_, err := c.Lookup("x:y")
			if !errors.Is(err, ErrUnknownEvent) || err.Error() != tt.want {
				t.Errorf("Lookup error\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestRecordedCatalogDefinesEachNameOnce(t *testing.T) {
	c := recordedCatalog(t, "", "b:b", "a:a")
	first := c.Find("a:a")
	if again := c.Define(&event.Event{ID: -1, Name: "a:a"}); again != first {
		t.Errorf("Define of a known name gave a new event")
	}
	if got := strings.Join(c.Names(), " "); got != "a:a b:b" {
		t.Errorf("Names = %s, want a:a b:b", got)
	}
	ev, err := c.Lookup("a:a")
	if err != nil || ev != first.Event() {
		t.Errorf("Lookup(a:a) = %v, %v; want the defined event", ev, err)
	}
	if c.Find("x:y") != nil {
		t.Errorf("Find of an unknown name is not nil")
	}
}

func TestRecordedCatalogEnableRefusesOtherEvents(t *testing.T) {
	c := recordedCatalog(t, "", "t:st", "a:a")
	st, _ := c.Lookup("t:st")
	tests := []struct {
		name string
		ev   *event.Event
		want string
	}{
		{"an event of another source", &event.Event{Name: "t:st", Format: &event.Format{}},
			"pkg: Enable: event t:st is not one of this recording's events"},
		{"an event the catalog lacks", &event.Event{Name: "x:y"},
			"pkg: Enable: event x:y is not one of this recording's events"},
		{"a variant whose filter does not compile", &event.Event{Name: "t:st", Format: st.Format, Filter: "nosuch == 1"},
			"pkg: t:st: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Enable([]*event.Event{tt.ev})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Enable error %v, want %s…", err, tt.want)
			}
		})
	}
	if err := c.Remove(&event.Event{Name: "x:y"}); err == nil || err.Error() != "pkg: Remove: event x:y is not one of this recording's events" {
		t.Errorf("Remove of an unknown event: %v", err)
	}
}

func TestRecordedEventDeliversToTheEventAndMatchingVariants(t *testing.T) {
	c := recordedCatalog(t, "", "t:st")
	e := c.Find("t:st")
	st := e.Event()
	blocked := &event.Event{Name: "t:st", Format: st.Format, Filter: "state == 1"}
	stacks := &event.Event{Name: "t:st", Format: st.Format, Stack: event.BothStacks}
	deliver := func(state uint32) string {
		var log []string
		if e.Wanted() {
			e.Deliver(&event.Record{Raw: stateRaw(state)}, logSink{&log})
		}
		return strings.Join(log, "|")
	}
	if e.Wanted() {
		t.Errorf("an event without handlers is wanted")
	}
	if err := c.Enable([]*event.Event{blocked, stacks, blocked}); err != nil {
		t.Fatal(err)
	}
	if got := deliver(1); got != "got sample t:st if state == 1|got sample t:st" {
		t.Errorf("a matching sample went to %q, want the filtered variant and the stack one", got)
	}
	if got := deliver(2); got != "got sample t:st" {
		t.Errorf("another sample went to %q, want the stack variant alone", got)
	}
	if err := c.Add([]*event.Event{st}); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(stacks); err != nil {
		t.Fatal(err)
	}
	if got := deliver(1); got != "got sample t:st|got sample t:st if state == 1" {
		t.Errorf("after Add and Remove a matching sample went to %q, want the event and the filtered variant", got)
	}
	if err := c.Enable(nil); err != nil {
		t.Fatal(err)
	}
	if got := deliver(1); got != "" {
		t.Errorf("after Enable(nil) a sample went to %q", got)
	}
}

func TestRecordedEventDeliverAllocatesNothing(t *testing.T) {
	c := recordedCatalog(t, "", "t:st")
	e := c.Find("t:st")
	st := e.Event()
	err := c.Enable([]*event.Event{st, {Name: "t:st", Format: st.Format, Filter: "state == 1"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &event.Record{Raw: stateRaw(1)}
	sink := &countSink{}
	if n := testing.AllocsPerRun(1000, func() { e.Deliver(rec, sink) }); n != 0 {
		t.Errorf("Deliver allocates %v times a sample", n)
	}
	if sink.n != 2*1001 {
		t.Errorf("delivered %d samples in 1001 calls, want 2 a call", sink.n)
	}
}
