package replay

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"otrace/runtime/event"
)

// playAll reads r to its end and returns the samples delivered, by event.
func playAll(t *testing.T, r *Reader, each func(n int)) map[string]int {
	t.Helper()
	sink := &recSink{}
	for i := 0; ; i++ {
		if each != nil {
			each(i)
		}
		err := r.Read(sink)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int{}
	for _, it := range sink.items {
		if s, ok := it.(sample); ok {
			got[s.Event]++
		}
	}
	return got
}

func TestAReaderPlaysAgainAfterRewindAndChangesItsEventsMidway(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sched.rec")
	if err := os.WriteFile(path, fixtureBytes(t, FixtureOptions{Switches: 2000}), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sw, _ := r.Catalog().Lookup("sched:sched_switch")
	wake, _ := r.Catalog().Lookup("sched:sched_wakeup")
	sw.ID, wake.ID = 0, 1
	if err := r.Enable([]*event.Event{sw}); err != nil {
		t.Fatal(err)
	}
	first := playAll(t, r, nil)
	if first["sched:sched_switch"] != 2000 || first["sched:sched_wakeup"] != 0 {
		t.Fatalf("first play delivered %v", first)
	}

	// Again from the start, with wakeups added after a few batches and
	// switches removed, and a filtered variant of switch added.
	if err := r.Rewind(); err != nil {
		t.Fatal(err)
	}
	variant := &event.Event{ID: 2, Name: sw.Name, Format: sw.Format, Filter: "prev_state == 1"}
	second := playAll(t, r, func(batch int) {
		if batch == 2 {
			if err := r.Add([]*event.Event{wake, variant}); err != nil {
				t.Fatal(err)
			}
			if err := r.Remove(sw); err != nil {
				t.Fatal(err)
			}
		}
	})
	if n := second["sched:sched_switch"]; n == 0 || n >= 2000 {
		t.Errorf("second play delivered %d switches: want the first batches' and the filtered ones after", n)
	}
	if n := second["sched:sched_wakeup"]; n == 0 {
		t.Errorf("no wakeup delivered after it was added: %v", second)
	}
	if r.Meta()[MetaArch] == "" {
		t.Error("the META entries were lost by Rewind")
	}
}

func TestARecordingReadFromAStreamCannotRewind(t *testing.T) {
	r, err := NewReader(bytes.NewReader(fixtureBytes(t, FixtureOptions{Switches: 10})))
	if err != nil {
		t.Fatal(err)
	}
	// bytes.Reader is a Seeker: hide it behind a plain reader.
	r.src = io.MultiReader(r.src)
	if err := r.Rewind(); err == nil {
		t.Error("a stream rewound")
	}
}
