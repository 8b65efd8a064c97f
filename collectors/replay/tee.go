package replay

import (
	"fmt"

	"otrace/runtime/event"
	"otrace/runtime/session"
)

// Tee is a session.Source that records what another source delivers: the
// events it enables and the process and loss records it reads, in the
// order it reads them. Samples are recorded by Tee.Handler, attached to
// the events like any handler, so that the session's filters (-p, -c)
// apply to what is recorded. `otrace record` is a session whose source is
// a Tee over the live collector.
type Tee struct {
	*session.Tee
	w   *Writer
	ids map[*event.Event]uint32
}

// NewTee records src into w. The caller closes w after the session ends.
func NewTee(src session.Source, w *Writer) *Tee {
	return &Tee{Tee: session.NewTee(src, w), w: w, ids: map[*event.Event]uint32{}}
}

// Enable declares every enabled event in the recording, then enables it.
func (t *Tee) Enable(events []*event.Event) error {
	names := map[string]bool{}
	for _, ev := range events {
		if ev.Filter != "" {
			return fmt.Errorf("%s: recording a probe with a filter is not supported; record it whole and filter when you run the script", ev.Name)
		}
		if names[ev.Name] {
			continue
		}
		names[ev.Name] = true
		id := uint32(len(t.ids) + 1)
		var text []byte
		if ev.Format != nil {
			text = ev.Format.Text
		}
		system := ""
		if ev.Format != nil {
			system = ev.Format.System
		}
		if err := t.w.DefineEvent(id, ev.Name, system, text); err != nil {
			return err
		}
		t.ids[ev] = id
	}
	return t.Tee.Enable(events)
}

// Handler records the samples it is called with.
func (t *Tee) Handler() event.Handler {
	return event.HandlerFunc(func(r *event.Record) error {
		if id, ok := t.ids[r.Event]; ok {
			t.Keep(t.w.Sample(id, r.Time, r.CPU, r.PID, r.TID, r.Lost, r.Callchain, r.Raw))
		}
		return nil
	})
}
