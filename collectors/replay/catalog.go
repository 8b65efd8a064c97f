package replay

import (
	"fmt"

	"otrace/runtime/event"
	"otrace/runtime/session"
)

// denseIDs bounds the event ids looked up by slice index; larger ids (a
// writer may number events as it likes) fall back to a map.
const denseIDs = 1 << 12

// catalog holds the events a recording declares, by name (the session's
// RecordedCatalog, which also keeps which have handlers) and by the
// recording's event id.
type catalog struct {
	*session.RecordedCatalog
	dense  []*session.RecordedEvent // by id, for ids < denseIDs
	sparse map[uint32]*session.RecordedEvent
}

func newCatalog(recording string) *catalog {
	return &catalog{
		RecordedCatalog: session.NewRecordedCatalog("replay", "recording", recording),
		sparse:          map[uint32]*session.RecordedEvent{},
	}
}

// slot returns the event with the recording's id, or nil.
func (c *catalog) slot(id uint32) *session.RecordedEvent {
	if id < uint32(len(c.dense)) {
		return c.dense[id]
	}
	if id < denseIDs {
		return nil
	}
	return c.sparse[id]
}

// define adds an event declared by an EVENT record.
func (c *catalog) define(id uint32, name, system string, formatText []byte) error {
	if s := c.slot(id); s != nil {
		return fmt.Errorf("event id %d is defined twice, as %s and %s", id, s.Event().Name, name)
	}
	if c.Find(name) != nil {
		return fmt.Errorf("event %s is defined twice", name)
	}
	f := &event.Format{System: system, Name: name}
	if len(formatText) > 0 {
		var err error
		if f, err = event.ParseFormat(system, formatText); err != nil {
			return fmt.Errorf("EVENT %s has a bad format: %v", name, err)
		}
	}
	s := c.Define(&event.Event{ID: -1, Name: name, Format: f})
	if id < denseIDs {
		if int(id) >= len(c.dense) {
			c.dense = append(c.dense, make([]*session.RecordedEvent, int(id)+1-len(c.dense))...)
		}
		c.dense[id] = s
	} else {
		c.sparse[id] = s
	}
	return nil
}
