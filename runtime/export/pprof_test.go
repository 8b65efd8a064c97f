package export

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// readBack writes p as pprof and parses it again, as every reader would.
func readBack(t *testing.T, p *Profile) *profile.Profile {
	t.Helper()
	var buf bytes.Buffer
	if err := (Pprof{}).Write(&buf, p); err != nil {
		t.Fatal(err)
	}
	pp, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := pp.CheckValid(); err != nil {
		t.Fatal(err)
	}
	return pp
}

// sampleText is a sample as "tid=N: leaf;…;root", for comparing.
func sampleText(s *profile.Sample) string {
	var names []string
	for _, l := range s.Location {
		for _, ln := range l.Line {
			names = append(names, ln.Function.Name)
		}
		if len(l.Line) == 0 {
			names = append(names, fmt.Sprintf("%#x", l.Address))
		}
	}
	return fmt.Sprintf("tid=%d: %s", s.NumLabel["tid"][0], strings.Join(names, ";"))
}

func TestPprofRoundTripKeepsValuesLabelsAndFunctionNames(t *testing.T) {
	p, _ := standard(t)
	pp := readBack(t, p)
	got := map[string][]int64{}
	for _, s := range pp.Sample {
		got[sampleText(s)] = s.Value
		if s.Label["comm"][0] != "app" || s.NumLabel["pid"][0] != 5 {
			t.Errorf("labels of %s: %v %v", sampleText(s), s.Label, s.NumLabel)
		}
	}
	want := map[string][]int64{
		"tid=5: leaf;helper;work;main;__libc_start_main":                                {3, 3000},
		"tid=6: leaf;helper;work;main;__libc_start_main":                                {1, 1000},
		"tid=5: ksys_write;do_syscall_64;entry_SYSCALL_64;write;main;__libc_start_main": {2, 2000},
	}
	if len(got) != len(want) {
		t.Errorf("got %d samples, want %d: %v", len(got), len(want), got)
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("sample %q = %v, want %v", k, got[k], v)
		}
	}
	if len(pp.SampleType) != 2 || pp.SampleType[1].Type != "cpu" || pp.SampleType[1].Unit != "nanoseconds" {
		t.Errorf("sample types %v", pp.SampleType)
	}
	if pp.PeriodType == nil || pp.PeriodType.Type != "cpu" || pp.Period != 1000 || pp.DurationNanos != 2e9 {
		t.Errorf("period %v %d, duration %d", pp.PeriodType, pp.Period, pp.DurationNanos)
	}
	if !slices.Equal(pp.Comments, []string{"otrace v0.test", "events: 6 seen, 1 lost"}) {
		t.Errorf("comments %q", pp.Comments)
	}
}

func TestPprofPutsTheMainBinaryFirstAndTheKernelLast(t *testing.T) {
	p, _ := standard(t)
	pp := readBack(t, p)
	var files []string
	for _, m := range pp.Mapping {
		files = append(files, m.File)
	}
	if want := []string{"/bin/app", "/lib/libc.so.6", "[kernel.kallsyms]"}; !slices.Equal(files, want) {
		t.Fatalf("mappings %q, want %q", files, want)
	}
	flags := func(m *profile.Mapping) string {
		return fmt.Sprintf("functions=%v filenames=%v lines=%v inline=%v", m.HasFunctions, m.HasFilenames, m.HasLineNumbers, m.HasInlineFrames)
	}
	for i, want := range []string{
		"functions=true filenames=true lines=true inline=true",
		"functions=true filenames=false lines=false inline=false",
		"functions=true filenames=false lines=false inline=false",
	} {
		if got := flags(pp.Mapping[i]); got != want {
			t.Errorf("%s: %s, want %s", files[i], got, want)
		}
	}
	app := pp.Mapping[0]
	if app.Start != aMain || app.Limit != aLeaf+1 {
		t.Errorf("/bin/app spans %#x-%#x, want the addresses seen %#x-%#x", app.Start, app.Limit, aMain, aLeaf+1)
	}
}

func TestPprofMainBinaryIsTheExecutableMostSamplesPassThrough(t *testing.T) {
	f := newFixture()
	p, _ := NewProfile([]SampleType{{"samples", "count"}})
	app := f.user(5, aMain, aStart)
	other := f.user(7, appBase+0x1010, aStart)
	if err := p.Add([]StackRef{app}, []int64{1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Add([]StackRef{other}, []int64{5}, nil); err != nil {
		t.Fatal(err)
	}
	pp := readBack(t, p)
	var files []string
	for _, m := range pp.Mapping {
		files = append(files, m.File)
	}
	// libc holds every sample but is a library: it never comes first.
	if want := []string{"/bin/other", "/bin/app", "/lib/libc.so.6"}; !slices.Equal(files, want) {
		t.Errorf("mappings %q, want %q", files, want)
	}
}

func TestPprofInlinedCallsAreLinesOfOneLocationInnermostFirst(t *testing.T) {
	p, _ := standard(t)
	pp := readBack(t, p)
	for _, l := range pp.Location {
		if l.Address != aWork {
			continue
		}
		var got []string
		for _, ln := range l.Line {
			got = append(got, fmt.Sprintf("%s %s:%d", ln.Function.Name, ln.Function.Filename, ln.Line))
		}
		if want := []string{"helper util.h:30", "work app.c:21"}; !slices.Equal(got, want) {
			t.Errorf("lines %q, want %q", got, want)
		}
		return
	}
	t.Fatal("no location for work's address")
}

func TestPprofKeepsUnknownAndJITFramesValid(t *testing.T) {
	f := newFixture()
	p, _ := NewProfile([]SampleType{{"samples", "count"}})
	if err := p.Add([]StackRef{f.user(5, 0x9100, 0x7000, aMain)}, []int64{1}, nil); err != nil {
		t.Fatal(err)
	}
	pp := readBack(t, p)
	s := pp.Sample[0]
	if got := sampleText(&profile.Sample{Location: s.Location, NumLabel: map[string][]int64{"tid": {0}}}); got != "tid=0: jitted;0x7000;main" {
		t.Errorf("stack %s", got)
	}
	if s.Location[1].Mapping != nil {
		t.Errorf("an unknown address belongs to no mapping, got %s", s.Location[1].Mapping.File)
	}
	if m := s.Location[0].Mapping; m == nil || m.File != "[jit]" || pp.Mapping[0].File != "/bin/app" {
		t.Errorf("jit frame mapping %v, first mapping %s", m, pp.Mapping[0].File)
	}
}

func TestGoToolPprofTopShowsTheHottestFunction(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	p, _ := standard(t)
	path := filepath.Join(t.TempDir(), "cpu.pb.gz")
	if err := WriteFile(path, nil, p); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool, "tool", "pprof", "-top", path)
	cmd.Env = append(cmd.Environ(), "PPROF_BINARY_PATH="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	for i, l := range lines {
		if strings.Contains(l, "flat%") && i+1 < len(lines) {
			top := strings.Fields(lines[i+1])
			if len(top) < 6 || top[5] != "leaf" || top[0] != "4us" {
				t.Errorf("top row %q, want leaf with 4us (of cpu)\n%s", lines[i+1], out)
			}
			return
		}
	}
	t.Fatalf("no table in\n%s", out)
}
