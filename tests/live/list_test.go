//go:build linux

package live

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestListWithAGlobShowsOnlyMatchingTracepoints(t *testing.T) {
	needLive(t)
	r := otrace(t, "list", "sched:*")
	mustSucceed(t, r)
	names := strings.Fields(r.stdout)
	if !slices.Contains(names, "sched:sched_switch") {
		t.Errorf("list 'sched:*' lacks sched:sched_switch:\n%v", r)
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "sched:") {
			t.Errorf("list 'sched:*' shows %q", n)
		}
	}
	// Every sched tracepoint the kernel has, no more, no fewer.
	want := kernelEvents(t, "sched")
	if len(names) != len(want) {
		t.Errorf("list 'sched:*' shows %d probes, tracefs has %d sched events", len(names), len(want))
	}
}

func TestListVerboseShowsTheFieldsWithTheirTypes(t *testing.T) {
	needLive(t)
	r := otrace(t, "list", "-v", "sched:sched_switch")
	mustSucceed(t, r)
	for _, f := range kernelFields(t, "sched", "sched_switch") {
		if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(f.Type) + `\s+` + regexp.QuoteMeta(f.Name) + `$`).MatchString(r.stdout) {
			t.Errorf("list -v lacks the line %q %q:\n%v", f.Type, f.Name, r)
		}
	}
	if !strings.Contains(r.stdout, "prev_comm") {
		t.Errorf("list -v sched:sched_switch lacks prev_comm:\n%v", r)
	}
}

func TestListJSONDescribesTheFieldsAsTheKernelLaysThemOut(t *testing.T) {
	needLive(t)
	r := otrace(t, "list", "--json", "sched:sched_switch")
	mustSucceed(t, r)
	var probes []struct {
		Name   string
		Kind   string
		Fields []kernelField
	}
	if err := json.Unmarshal([]byte(r.stdout), &probes); err != nil {
		t.Fatalf("list --json is not JSON: %v\n%v", err, r)
	}
	if len(probes) != 1 || probes[0].Name != "sched:sched_switch" || probes[0].Kind != "tracepoint" {
		t.Fatalf("want the one tracepoint sched:sched_switch, got %+v", probes)
	}
	want := kernelFields(t, "sched", "sched_switch")
	if !slices.Equal(probes[0].Fields, want) {
		t.Errorf("fields:\n got %+v\nwant %+v (from tracefs)", probes[0].Fields, want)
	}
}

// kernelField is a payload field as tracefs describes it; the JSON tags
// are those of otrace list --json.
type kernelField struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Size   int    `json:"size"`
}

// kernelEvents lists the events of a tracefs system.
func kernelEvents(t *testing.T, system string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(env.tracefs, "events", system))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, system+":"+e.Name())
		}
	}
	return out
}

var formatFieldRE = regexp.MustCompile(`^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);`)

// kernelFields reads the payload fields (not common_*) of an event's
// format file, with the array length moved into the type as otrace shows
// it ("char prev_comm[16]" is char[16] prev_comm).
func kernelFields(t *testing.T, system, name string) []kernelField {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(env.tracefs, "events", system, name, "format"))
	if err != nil {
		t.Fatal(err)
	}
	var out []kernelField
	for _, l := range strings.Split(string(text), "\n") {
		m := formatFieldRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		decl := m[1]
		typ, field := decl, ""
		if i := strings.LastIndexAny(decl, " *"); i >= 0 {
			typ, field = strings.TrimSpace(decl[:i+1]), decl[i+1:]
		}
		if j := strings.Index(field, "["); j >= 0 {
			typ, field = typ+field[j:], field[:j]
		}
		if strings.HasPrefix(field, "common_") {
			continue
		}
		off, _ := strconv.Atoi(m[2])
		size, _ := strconv.Atoi(m[3])
		out = append(out, kernelField{Name: field, Type: typ, Offset: off, Size: size})
	}
	if len(out) == 0 {
		t.Fatalf("no fields in %s:%s's format", system, name)
	}
	return out
}
