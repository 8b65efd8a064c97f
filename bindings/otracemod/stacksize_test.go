package otracemod_test

import (
	"errors"
	"strings"
	"testing"

	"otrace/runtime/event"
)

func TestDwarfStacksTakeAStackSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts string
		size uint32
		err  string
	}{
		{"the default size", `{stack: "dwarf"}`, 0, ""},
		{"a size in bytes", `{stack: "dwarf", stack_size: 8192}`, 8192, ""},
		{"a size rounded up to 8 bytes", `{stack: "dwarf", stack_size: 1001}`, 1008, ""},
		{"64 KiB, as much as a record holds", `{stack: "dwarf", stack_size: 65536}`, event.MaxStackSize, ""},
		{"too large", `{stack: "dwarf", stack_size: 65537}`, 0, "stack_size must be a number of bytes from 8 to 65536"},
		{"not a number", `{stack: "dwarf", stack_size: "big"}`, 0, "stack_size must be a number of bytes"},
		{"without a dwarf stack", `{stack: "user", stack_size: 4096}`, 0, `add stack: "dwarf"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigConfig{})
			err := r.load(`otrace.on("sched:sched_switch", ` + tc.opts + `, func(e) {})` + "\n")
			if tc.err != "" {
				var he *event.HandlerError
				if !errors.As(err, &he) || !strings.Contains(he.Msg, tc.err) {
					t.Fatalf("got %v, want an error saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			evs := r.sess.EventsOf(r.sess.Attachments()[0])
			if len(evs) != 1 || evs[0].Stack != event.DwarfStack || evs[0].StackSize != tc.size {
				t.Fatalf("events %+v, want one dwarf-stack event copying %d bytes", evs, tc.size)
			}
		})
	}
}

// Handlers that ask for different stack sizes get different events (each
// opened with its own copy size); the same size shares one.
func TestDwarfStackSizesMakeVariants(t *testing.T) {
	r := newRig(t, rigConfig{})
	r.mustLoad(`
otrace.on("sched:sched_switch", {stack: "dwarf", stack_size: 4096}, func(e) {})
otrace.on("sched:sched_switch", {stack: "dwarf", stack_size: 4096}, func(e) {})
otrace.on("sched:sched_switch", {stack: "dwarf"}, func(e) {})
`)
	a := r.sess.Attachments()
	e0, e1, e2 := r.sess.EventsOf(a[0])[0], r.sess.EventsOf(a[1])[0], r.sess.EventsOf(a[2])[0]
	if e0 != e1 || e0 == e2 || e2.StackSize != 0 {
		t.Errorf("4096 and 4096 share an event: %v; the default is another: %v (size %d)", e0 == e1, e0 != e2, e2.StackSize)
	}
}
