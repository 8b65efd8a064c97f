package event

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// tracefsEvents returns the events directory of a readable tracefs. When
// there is none the test is skipped, unless OTRACE_LIVE=1 asks for live
// tests, in which case it fails: a CI job that sets OTRACE_LIVE must not pass
// by skipping everything.
func tracefsEvents(t *testing.T) string {
	t.Helper()
	for _, root := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		dir := filepath.Join(root, "events")
		if _, err := os.ReadDir(dir); err == nil {
			return dir
		}
	}
	msg := "no readable tracefs: mount it with `mount -t tracefs nodev /sys/kernel/tracing` and run as root"
	if os.Getenv("OTRACE_LIVE") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func TestEveryLiveFormatParses(t *testing.T) {
	events := tracefsEvents(t)
	paths, err := filepath.Glob(filepath.Join(events, "*", "*", "format"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no format files under %s", events)
	}
	parsed := 0
	var failed []string
	kinds := map[Kind]int{}
	for _, p := range paths {
		text, err := os.ReadFile(p)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				t.Fatalf("%s: %v (run as root)", p, err)
			}
			// Events can vanish while we walk (a module unloads).
			t.Logf("%s: %v", p, err)
			continue
		}
		dir := filepath.Dir(p)
		system, name := filepath.Base(filepath.Dir(dir)), filepath.Base(dir)
		f, err := ParseFormat(system, text)
		if err != nil {
			failed = append(failed, system+":"+name)
			t.Errorf("%s:%s: %v", system, name, err)
			continue
		}
		parsed++
		for i := range f.Fields {
			kinds[f.Fields[i].Kind]++
		}
		checkLiveFormat(t, dir, system, name, f)
	}
	t.Logf("parsed %d of %d live formats; kinds %v", parsed, len(paths), kinds)
	if len(failed) > 0 {
		t.Errorf("%d formats failed to parse: %s", len(failed), strings.Join(failed, ", "))
	}
}

// checkLiveFormat asserts what must hold for every kernel format, beyond
// "it parsed".
func checkLiveFormat(t *testing.T, dir, system, name string, f *Format) {
	t.Helper()
	where := system + ":" + name
	if f.System != system || f.Name != name {
		t.Errorf("%s: parsed as %s:%s", where, f.System, f.Name)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "id")); err == nil {
		id, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
		if uint64(f.ID) != id {
			t.Errorf("%s: ID %d, id file says %d", where, f.ID, id)
		}
	}
	if c := f.Field("common_type"); c == nil || c.Offset != 0 || c.Size != 2 {
		t.Errorf("%s: common_type is %+v, want 2 bytes at 0", where, c)
	}
	for i := range f.Fields {
		fld := &f.Fields[i]
		if f.Field(fld.Name) != fld {
			t.Errorf("%s: Field(%q) does not find it", where, fld.Name)
		}
		switch fld.Kind {
		case Scalar, Pointer:
			if fld.ElemSize != fld.Size {
				t.Errorf("%s: %s: ElemSize %d, Size %d", where, fld.Name, fld.ElemSize, fld.Size)
			}
		case Array:
			if fld.ElemSize <= 0 && fld.Size > 0 || fld.ElemSize > 0 && fld.Size%fld.ElemSize != 0 {
				t.Errorf("%s: %s: ElemSize %d does not divide Size %d", where, fld.Name, fld.ElemSize, fld.Size)
			}
		case DataLoc, RelLoc:
			if fld.Size != 4 || fld.ElemSize <= 0 {
				t.Errorf("%s: %s: %s with Size %d, ElemSize %d", where, fld.Name, fld.Kind, fld.Size, fld.ElemSize)
			}
		default:
			t.Errorf("%s: %s: kind %v", where, fld.Name, fld.Kind)
		}
	}
}
