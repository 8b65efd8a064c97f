package replay

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestFixtureIsDeterministic(t *testing.T) {
	a := fixtureBytes(t, FixtureOptions{Seed: 7})
	b := fixtureBytes(t, FixtureOptions{Seed: 7})
	if !bytes.Equal(a, b) {
		t.Error("two fixtures with the same options differ")
	}
	if c := fixtureBytes(t, FixtureOptions{Seed: 8}); bytes.Equal(a, c) {
		t.Error("fixtures with different seeds are equal")
	}
}

// TestFixtureMatchesGolden pins a small fixture, so a change to it (which
// other packages' tests see) shows up as a readable diff. Run with -update
// to accept one.
func TestFixtureMatchesGolden(t *testing.T) {
	data := fixtureBytes(t, FixtureOptions{Switches: 20, Seed: 1})
	r, sink, err := readAll(t, bytes.NewReader(data), len(data))
	if err != nil {
		t.Fatal(err)
	}
	got := dump(sink.items, catalogFormats(t, r))
	const golden = "testdata/fixture.golden"
	if *update {
		must(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("fixture differs from %s (run go test -update to accept):\n%s", golden, got)
	}
}

func TestFixtureDescribesAPlausibleMachine(t *testing.T) {
	const switches = 2000
	data := fixtureBytes(t, FixtureOptions{Seed: 42})
	r, sink, err := readAll(t, bytes.NewReader(data), len(data))
	if err != nil {
		t.Fatal(err)
	}
	formats := catalogFormats(t, r)
	if m := r.Meta(); m[MetaNumCPU] != "2" || m[MetaHostname] == "" {
		t.Errorf("Meta() = %v", m)
	}
	sw, exec := formats["sched:sched_switch"], formats["sched:sched_process_exec"]
	field := func(f *event.Format, name string) *event.Field {
		fld := f.Field(name)
		if fld == nil {
			t.Fatalf("%s has no field %s", f.Name, name)
		}
		return fld
	}
	prevPID, nextPID, nextComm := field(sw, "prev_pid"), field(sw, "next_pid"), field(sw, "next_comm")
	prevComm, commonType := field(sw, "prev_comm"), field(sw, "common_type")

	count := map[string]int{}
	running := [2]int64{}       // what each CPU runs, from the switches
	comms := map[int64]string{} // tid -> name, from COMM records
	var execs []string
	var lost, sampleLost uint64
	var first, last uint64
	for _, it := range sink.items {
		switch v := it.(type) {
		case sample:
			count[v.Event]++
			if first == 0 {
				first = v.Time
			}
			last = v.Time
			sampleLost += v.Lost
			switch v.Event {
			case "sched:sched_switch":
				prev, _ := prevPID.Int(v.Raw)
				next, _ := nextPID.Int(v.Raw)
				name, _ := nextComm.Str(v.Raw)
				pname, _ := prevComm.Str(v.Raw)
				typ, _ := commonType.Uint(v.Raw)
				if typ != uint64(sw.ID) {
					t.Fatalf("common_type %d, want %d", typ, sw.ID)
				}
				if prev != running[v.CPU] || int64(v.TID) != prev {
					t.Fatalf("at %d cpu%d switches away from %d (%s), but runs %d", v.Time, v.CPU, prev, pname, running[v.CPU])
				}
				if next != 0 && comms[next] != string(name) {
					t.Fatalf("at %d next_comm %q for tid %d, COMM says %q", v.Time, name, next, comms[next])
				}
				if next == running[1-v.CPU] && next != 0 {
					t.Fatalf("at %d tid %d runs on both CPUs", v.Time, next)
				}
				running[v.CPU] = next
			case "sched:sched_process_exec":
				name, ok := field(exec, "filename").Str(v.Raw)
				if !ok {
					t.Fatalf("exec sample without a filename: %x", v.Raw)
				}
				execs = append(execs, string(name))
			case "profile:hz:99":
				if n := len(v.Callchain); n < 2 || n > 5 {
					t.Errorf("profile sample with %d frames", n)
				}
			}
		case process.Comm:
			count["COMM"]++
			comms[int64(v.TID)] = v.Comm
		case process.Fork:
			count["FORK"]++
			comms[int64(v.TID)] = comms[int64(v.PTID)]
		case process.Exit:
			count["EXIT"]++
		case process.Mmap:
			count["MMAP"]++
		case session.Lost:
			count["LOST"]++
			lost += v.Count
		}
	}
	if count["sched:sched_switch"] != switches {
		t.Errorf("%d switches, want %d", count["sched:sched_switch"], switches)
	}
	if n := count["profile:hz:99"]; n < 350 || n > 450 {
		t.Errorf("%d profile samples, want about 2 s x 99 Hz x 2 CPUs", n)
	}
	if count["sched:sched_wakeup"] == 0 || count["COMM"] < 8 || count["FORK"] != 2 || count["EXIT"] != 1 || count["LOST"] != 1 {
		t.Errorf("record counts %v", count)
	}
	if strings.Join(execs, " ") != "/usr/bin/ls /usr/bin/sleep" {
		t.Errorf("exec filenames %q", execs)
	}
	if lost != fixLost || sampleLost != fixLost {
		t.Errorf("LOST says %d and samples say %d lost, want %d", lost, sampleLost, fixLost)
	}
	if first < fixStart || last < fixStart+fixSpan*9/10 || last > fixStart+fixSpan*11/10 {
		t.Errorf("samples span %d..%d ns", first, last)
	}
	if st := r.Stats(); st.OutOfOrder != 0 {
		t.Errorf("%d records out of order", st.OutOfOrder)
	}
}

func TestATruncatedFixtureDeliversEverythingThenSaysSo(t *testing.T) {
	full := fixtureBytes(t, FixtureOptions{Seed: 5})
	cut := fixtureBytes(t, FixtureOptions{Seed: 5, Truncate: true})
	if !bytes.Equal(full[:len(cut)], cut) || len(full)-len(cut) != recHeaderSize+endFixed {
		t.Fatal("the truncated fixture is not the full one without its END")
	}
	_, whole, err := readAll(t, bytes.NewReader(full), len(full))
	must(t, err)
	_, part, err := readAll(t, bytes.NewReader(cut), len(cut))
	if !isTruncated(err) {
		t.Fatalf("err = %v, want a truncation", err)
	}
	if len(part.items) != len(whole.items) {
		t.Errorf("truncated fixture delivered %d records, want %d", len(part.items), len(whole.items))
	}
}

func TestTinyFixturesAreStillValid(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 10} {
		data := fixtureBytes(t, FixtureOptions{Switches: n, Seed: int64(n)})
		r, _, err := readAll(t, bytes.NewReader(data), len(data))
		if err != nil {
			t.Fatalf("%d switches: %v", n, err)
		}
		if r.Stats().OutOfOrder != 0 {
			t.Errorf("%d switches: records out of order", n)
		}
	}
}
