package export

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/google/pprof/profile"
)

func TestForPathChoosesTheFormatByEndingAndData(t *testing.T) {
	p, _ := NewProfile([]SampleType{{"samples", "count"}})
	tl := NewTimeline()
	for _, c := range []struct {
		name string
		path string
		data any
		want string // format name, or part of the error
	}{
		{"pprof", "out.pb.gz", p, "pprof"},
		{"pprof in capitals", "OUT.PB.GZ", p, "pprof"},
		{"folded", "/tmp/cpu.folded", p, "folded"},
		{"JSON lines", "s.jsonl", p, "jsonlines"},
		{"a profile as .json is JSON lines", "s.json", p, "jsonlines"},
		{"a timeline as .json is trace events", "t.json", tl, "perfetto"},
		{"a perfetto file", "t.perfetto.json", tl, "perfetto"},
		{"a trace file", "t.trace.json", tl, "perfetto"},
		{"text", "top.txt", p, "text"},
		{"a profile in a timeline's file", "t.trace.json", p, "is a perfetto file, which cannot hold a profile"},
		{"a timeline in a profile's file", "t.pb.gz", tl, "is a pprof file, which cannot hold a timeline"},
		{"an unknown ending", "out.xyz", p, "no format for out.xyz; name one or end the file in one of: pprof (.pb.gz, .pprof), folded (.folded)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, err := ForPath(c.path, c.data)
			switch {
			case err != nil && !strings.Contains(err.Error(), c.want):
				t.Errorf("err %v, want %q", err, c.want)
			case err == nil && w.Name() != c.want:
				t.Errorf("format %s, want %s", w.Name(), c.want)
			}
		})
	}
}

func TestByNameKnowsEveryFormat(t *testing.T) {
	for _, w := range Writers() {
		if got, err := ByName(w.Name()); err != nil || got.Name() != w.Name() {
			t.Errorf("ByName(%q) = %v, %v", w.Name(), got, err)
		}
	}
	if _, err := ByName("svg"); err == nil || !strings.Contains(err.Error(), "formats: pprof") {
		t.Errorf("err %v; it must list the formats", err)
	}
}

// tempFiles lists what WriteFile may have left under dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if strings.HasSuffix(path, ".tmp") {
			out = append(out, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteFileReplacesTheFileWhole(t *testing.T) {
	p, _ := standard(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "cpu.pb.gz")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, nil, p); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pp, err := profile.Parse(f)
	if err != nil || len(pp.Sample) != 3 {
		t.Fatalf("read back: %v, %v", pp, err)
	}
	if fi, _ := f.Stat(); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want -rw-r--r--", fi.Mode())
	}
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// failing is a format that fails (or panics) after writing some bytes.
type failing struct {
	err   error
	panic bool
}

func (failing) Name() string          { return "failing" }
func (failing) Extensions() []string  { return nil }
func (failing) Accepts(data any) bool { return true }
func (f failing) Write(w io.Writer, data any) error {
	if _, err := w.Write([]byte("partial")); err != nil {
		return err
	}
	if f.panic {
		panic("format bug")
	}
	return f.err
}

func TestWriteFileFailuresLeaveNoTemporaryFile(t *testing.T) {
	p, _ := standard(t)
	for _, c := range []struct {
		name   string
		path   func(dir string) string // relative to dir, the working directory
		w      Writer
		want   string
		wantIs error
	}{
		{
			name: "the disk is full",
			path: func(string) string { return "out.pb.gz" },
			w:    failing{err: &fs.PathError{Op: "write", Path: ".out.pb.gz.123.tmp", Err: syscall.ENOSPC}},
			want: "export: writing out.pb.gz: " + syscall.ENOSPC.Error() + "; the profile is still in memory", wantIs: syscall.ENOSPC,
		},
		{
			name: "the directory is a file",
			path: func(dir string) string {
				if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
				return filepath.Join("file", "out.pb.gz")
			},
			want: "export: writing " + filepath.Join("file", "out.pb.gz") + ": ",
		},
		{
			name: "the file is a directory, so the rename fails",
			path: func(dir string) string {
				if err := os.MkdirAll(filepath.Join(dir, "out.folded", "x"), 0o755); err != nil {
					t.Fatal(err)
				}
				return "out.folded"
			},
			want: "export: writing out.folded: " + syscall.EISDIR.Error() + ";",
		},
		{
			name: "the format refuses the data",
			path: func(string) string { return "out.folded" },
			w:    Folded{Value: "wall"},
			want: `export: writing out.folded: folded: the profile has no sample type "wall"; it has samples/count, cpu/nanoseconds; the profile is still in memory`,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			path := c.path(dir)
			err := WriteFile(path, c.w, p)
			t.Log(err)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) || !strings.HasSuffix(err.Error(), "; the profile is still in memory") {
				t.Errorf("err %v, want %q…", err, c.want)
			}
			if c.wantIs != nil && !errors.Is(err, c.wantIs) {
				t.Errorf("err %v is not %v", err, c.wantIs)
			}
			if strings.Contains(err.Error(), ".tmp") {
				t.Errorf("the message names the temporary file: %v", err)
			}
			if left := tempFiles(t, dir); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

func TestWriteFileRemovesTheTemporaryFileWhenTheFormatPanics(t *testing.T) {
	p, _ := standard(t)
	dir := t.TempDir()
	func() {
		defer func() { recover() }()
		WriteFile(filepath.Join(dir, "out.pb.gz"), failing{panic: true}, p)
	}()
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestWriteFileChecksAGivenFormatTakesTheData(t *testing.T) {
	err := WriteFile(filepath.Join(t.TempDir(), "x.folded"), Folded{}, NewTimeline())
	if err == nil || err.Error() != "export: folded: cannot write a timeline" {
		t.Errorf("err %v", err)
	}
}

func TestWritingToADeviceWritesInPlaceAndKeepsTheDevice(t *testing.T) {
	if _, err := os.Stat("/dev/null"); err != nil {
		t.Skip("no /dev/null")
	}
	p, _ := NewProfile([]SampleType{{"samples", "count"}})
	if err := WriteFile("/dev/null", Text{}, p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat("/dev/null")
	if err != nil || fi.Mode().IsRegular() {
		t.Fatalf("/dev/null is now %v (%v): a device must never be renamed over", fi.Mode(), err)
	}
}
