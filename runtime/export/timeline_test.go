package export

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// sampleTimeline is two threads of process 5 and a counter, starting at
// 1 s on the run's clock.
func sampleTimeline(t *testing.T) *Timeline {
	t.Helper()
	tl := NewTimeline()
	tl.ProcessName(5, "app")
	main := tl.Track(5, 5, "app")
	worker := tl.Track(5, 6, "worker \"1\"")
	queue := tl.Track(5, 5, "queue") // a second row for thread 5
	args := map[string]any{"fd": 3, "path": "/tmp/x"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tl.Slice(worker, "write", 1_000_002_500, 1_000_003_000, args))
	args["fd"] = 4 // too late: the slice keeps what it was given
	must(tl.Slice(main, "run", 1_000_000_000, 1_000_010_001, nil))
	must(tl.Instant(main, "exec", 1_000_000_000, map[string]any{"file": "/bin/app"}))
	must(tl.Counter(queue, "depth", 1_000_001_000, 2))
	must(tl.Counter(queue, "depth", 1_000_004_000, 0.5))
	tl.SetVersion("v0.test")
	tl.SetEvents(5, 0)
	return tl
}

func TestTraceEventsMatchTheGoldenFile(t *testing.T) {
	golden(t, "timeline.trace.json", []byte(writeString(t, TraceEvents{}, sampleTimeline(t))))
}

func TestTraceEventsHaveWhatPerfettoAndChromeRequire(t *testing.T) {
	out := writeString(t, TraceEvents{}, sampleTimeline(t))
	var doc struct {
		DisplayTimeUnit string           `json:"displayTimeUnit"`
		TraceEvents     []map[string]any `json:"traceEvents"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if doc.DisplayTimeUnit != "ns" {
		t.Errorf("displayTimeUnit %q", doc.DisplayTimeUnit)
	}
	type row struct{ pid, tid float64 }
	threads := map[row]string{}
	var slices []map[string]any
	for _, e := range doc.TraceEvents {
		for _, f := range []string{"ph", "ts", "pid", "tid", "name"} {
			if _, ok := e[f]; !ok {
				t.Errorf("event without %s: %v", f, e)
			}
		}
		ph, _ := e["ph"].(string)
		if !strings.Contains("XiCM", ph) || len(ph) != 1 {
			t.Errorf("phase %q", ph)
		}
		if _, ok := e["ts"].(float64); !ok {
			t.Errorf("ts is not a number: %v", e)
		}
		switch ph {
		case "X":
			if _, ok := e["dur"].(float64); !ok {
				t.Errorf("slice without a numeric dur: %v", e)
			}
			slices = append(slices, e)
		case "M":
			if e["name"] == "thread_name" {
				name := e["args"].(map[string]any)["name"].(string)
				k := row{e["pid"].(float64), e["tid"].(float64)}
				if threads[k] != "" {
					t.Errorf("tracks %q and %q share one row %v", threads[k], name, k)
				}
				threads[k] = name
			}
		}
	}
	if len(threads) != 3 {
		t.Errorf("thread names %v, want three rows", threads)
	}
	// Times are µs since the first event, to the nanosecond.
	if len(slices) != 2 || slices[0]["name"] != "run" || slices[0]["ts"] != 0.0 || slices[0]["dur"] != 10.001 ||
		slices[1]["ts"] != 2.5 || slices[1]["dur"] != 0.5 {
		t.Errorf("slices %v", slices)
	}
	if args := slices[1]["args"].(map[string]any); args["fd"] != 3.0 {
		t.Errorf("args %v: a slice keeps its args as they were when added", args)
	}
}

func TestTimelineRefusesEventsItCannotWrite(t *testing.T) {
	tl := NewTimeline()
	tr := tl.Track(1, 1, "t")
	for _, c := range []struct {
		name string
		add  func() error
		err  string
	}{
		{"a slice ending before it starts", func() error { return tl.Slice(tr, "s", 10, 9, nil) }, "ends (9) before it starts (10)"},
		{"an unknown track", func() error { return tl.Instant(7, "i", 1, nil) }, "no track 7"},
		{"no track", func() error { return tl.Counter(0, "c", 1, 1) }, "no track 0"},
		{"a counter that is not a number", func() error { return tl.Counter(tr, "c", 1, math.NaN()) }, "not a number"},
		{"args JSON cannot hold", func() error { return tl.Instant(tr, "i", 1, map[string]any{"ch": make(chan int)}) }, "args of \"i\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.add(); err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("err %v, want %q", err, c.err)
			}
		})
	}
	if tl.Len() != 0 {
		t.Errorf("%d events kept from failed calls", tl.Len())
	}
}

func TestTrackIsOnePerPidTidAndName(t *testing.T) {
	tl := NewTimeline()
	a := tl.Track(1, 2, "x")
	if tl.Track(1, 2, "x") != a || tl.Track(1, 2, "y") == a || tl.Track(2, 2, "x") == a {
		t.Error("tracks must be identified by (pid, tid, name)")
	}
}

func TestAppendJSONStringEscapes(t *testing.T) {
	for _, in := range []string{"plain", `q"uote\`, "tab\tnl\ncr\r\x00\x1f\x7f", "é→😀", "bad\xffutf8"} {
		got := appendJSONString(nil, in)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: %s is not JSON: %v", in, got, err)
			continue
		}
		if want := strings.ToValidUTF8(in, "\ufffd"); back != want {
			t.Errorf("%q came back as %q", in, back)
		}
	}
}
