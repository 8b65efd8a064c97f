package replay

import (
	"errors"
	"fmt"
	"io"

	"otrace/runtime/event"
	"otrace/runtime/session"
)

// What a Reader does for an interactive session (the REPL): events gain
// and lose handlers while it plays, and a session that runs again plays
// the recording again from its start.

var (
	_ session.LiveSource = (*Reader)(nil)
	_ session.Rewinder   = (*Reader)(nil)
)

// Add delivers the samples of more events from the next record on.
func (r *Reader) Add(events []*event.Event) error { return r.cat.Add(events) }

// Remove stops delivering an event; its samples are skipped like those
// of events without handlers.
func (r *Reader) Remove(ev *event.Event) error { return r.cat.Remove(ev) }

// Rewind starts the recording over: the next Read delivers its first
// record again. The catalog and META entries, read by Open, stay as they
// are. Only a recording in a file (or another io.Seeker) can rewind.
func (r *Reader) Rewind() error {
	if r.closed {
		return errClosed
	}
	sk, ok := r.src.(io.Seeker)
	if !ok {
		return errors.New("replay: this recording cannot be played again: it is not read from a file")
	}
	if _, err := sk.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("replay: rewinding %s: %w", r.name, err)
	}
	r.start, r.end, r.off, r.rerr = 0, 0, 0, nil
	r.err, r.stats, r.lastTime = nil, Stats{}, 0
	if err := r.readHeader(); err != nil {
		return err
	}
	// Skip the preamble Open read: its events are in the catalog.
	for r.fill(recHeaderSize) {
		if t := le.Uint16(r.buf[r.start+4:]); t != recMeta && t != recEvent {
			break
		}
		if _, _, _, err := r.next(); err != nil {
			r.err = err // as on the first play: Read reports it
			return nil
		}
		r.stats.Records++ // END counts them
	}
	return nil
}
