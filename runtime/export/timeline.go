package export

import (
	"encoding/json"
	"fmt"
	"math"
)

// TrackID names a track of a Timeline; 0 is no track.
type TrackID uint32

// Timeline is what a script draws over time: slices (a span on a track),
// instants and counters, on tracks that belong to processes and threads.
// Times are nanoseconds on the run's clock. Not safe for concurrent use.
type Timeline struct {
	tracks []track // by TrackID-1
	byKey  map[trackKey]TrackID
	used   map[[2]int32]bool // (pid, tid) written for some track
	procs  map[int32]string  // process names
	events []timelineEvent
	runInfo
}

type trackKey struct {
	pid, tid int32
	name     string
}

// track is where a track's events are written: tid is the thread's id,
// or a stand-in when another track of the same thread has another name.
type track struct {
	pid, tid int32
	name     string
}

type timelineEvent struct {
	ph         byte // 'X' slice, 'i' instant, 'C' counter
	track      TrackID
	name       string
	start, dur uint64
	value      float64
	args       json.RawMessage
}

// syntheticTID is where stand-in thread ids start: far above real ones.
const syntheticTID = 1 << 30

// NewTimeline returns an empty timeline.
func NewTimeline() *Timeline {
	return &Timeline{byKey: map[trackKey]TrackID{}, used: map[[2]int32]bool{}, procs: map[int32]string{}}
}

// Track returns the track of thread tid of process pid called name (the
// thread's comm, or anything: "cpu0", "requests"), making it the first
// time. Viewers show one row per (pid, tid), so a second name for one
// thread gets a row of its own under a stand-in thread id.
func (t *Timeline) Track(pid, tid int32, name string) TrackID {
	key := trackKey{pid: pid, tid: tid, name: name}
	if id, ok := t.byKey[key]; ok {
		return id
	}
	out := tid
	for n := int32(syntheticTID); t.used[[2]int32{pid, out}]; n++ {
		out = n
	}
	t.used[[2]int32{pid, out}] = true
	t.tracks = append(t.tracks, track{pid: pid, tid: out, name: name})
	id := TrackID(len(t.tracks))
	t.byKey[key] = id
	return id
}

// ProcessName names process pid in viewers.
func (t *Timeline) ProcessName(pid int32, name string) { t.procs[pid] = name }

// Len is the number of events: slices, instants and counter values.
func (t *Timeline) Len() int { return len(t.events) }

// Slice adds a span from start to end (nanoseconds) on track. args, shown
// when the slice is selected, are kept as JSON now, so later changes to
// the map do not show.
func (t *Timeline) Slice(tr TrackID, name string, start, end uint64, args map[string]any) error {
	if end < start {
		return fmt.Errorf("export: slice %q ends (%d) before it starts (%d)", name, end, start)
	}
	return t.add(timelineEvent{ph: 'X', track: tr, name: name, start: start, dur: end - start}, args)
}

// Instant adds a point in time on track.
func (t *Timeline) Instant(tr TrackID, name string, time uint64, args map[string]any) error {
	return t.add(timelineEvent{ph: 'i', track: tr, name: name, start: time}, args)
}

// Counter sets counter name of track's process to value from time on.
func (t *Timeline) Counter(tr TrackID, name string, time uint64, value float64) error {
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return fmt.Errorf("export: counter %q: %v is not a number JSON can hold", name, value)
	}
	return t.add(timelineEvent{ph: 'C', track: tr, name: name, start: time, value: value}, nil)
}

func (t *Timeline) add(e timelineEvent, args map[string]any) error {
	if e.track == 0 || int(e.track) > len(t.tracks) {
		return fmt.Errorf("export: %q: no track %d; make tracks with Track(pid, tid, name)", e.name, e.track)
	}
	if len(args) > 0 {
		raw, err := json.Marshal(args)
		if err != nil {
			return fmt.Errorf("export: args of %q: %w", e.name, err)
		}
		e.args = raw
	}
	t.events = append(t.events, e)
	return nil
}
