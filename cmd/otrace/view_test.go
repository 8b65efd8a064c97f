package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// writeTestProfile writes a small pprof profile whose hottest function has
// a name no real program uses.
func writeTestProfile(t *testing.T, path string) {
	t.Helper()
	fn := &profile.Function{ID: 1, Name: "otraceViewHotFunction", SystemName: "otraceViewHotFunction"}
	caller := &profile.Function{ID: 2, Name: "otraceViewCaller", SystemName: "otraceViewCaller"}
	m := &profile.Mapping{ID: 1, Start: 0x1000, Limit: 0x9000, File: "/bin/demo", HasFunctions: true}
	l1 := &profile.Location{ID: 1, Mapping: m, Address: 0x1100, Line: []profile.Line{{Function: fn}}}
	l2 := &profile.Location{ID: 2, Mapping: m, Address: 0x1200, Line: []profile.Line{{Function: caller}}}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}},
		Sample:     []*profile.Sample{{Location: []*profile.Location{l1, l2}, Value: []int64{90}}, {Location: []*profile.Location{l2}, Value: []int64{10}}},
		Mapping:    []*profile.Mapping{m}, Location: []*profile.Location{l1, l2}, Function: []*profile.Function{fn, caller},
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := p.Write(f); err != nil {
		t.Fatal(err)
	}
}

func TestViewTopPrintsTheHottestFunction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.pb.gz")
	writeTestProfile(t, path)
	bin := buildOtrace(t)
	out, err := exec.Command(bin, "view", "--top", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "otraceViewHotFunction") {
		t.Fatalf("view --top: %v\n%s", err, out)
	}
}

// The web UI is checked in a real browser: headless Chromium loads the
// flame graph from otrace view's server and the page shows the profile's
// function names.
func TestViewServesAFlameGraphABrowserRenders(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("OTRACE_LIVE") == "1" {
			t.Fatal("chromium is not installed (.ci/run installs Debian's chromium)")
		}
		t.Skip("chromium is not installed")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "p.pb.gz")
	writeTestProfile(t, path)
	bin := buildOtrace(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	view := exec.Command(bin, "view", "--http", addr, "--no-browser", path)
	var logs bytes.Buffer
	view.Stdout, view.Stderr = &logs, &logs
	if err := view.Start(); err != nil {
		t.Fatal(err)
	}
	defer view.Process.Kill()
	url := fmt.Sprintf("http://%s/ui/flamegraph", addr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("otrace view did not serve %s: %v\n%s", url, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dom, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "chrome"), "--virtual-time-budget=5000", "--dump-dom", url).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	for _, want := range []string{"otraceViewHotFunction", "otraceViewCaller"} {
		if !bytes.Contains(dom, []byte(want)) {
			t.Errorf("the flame graph page does not show %s (%d bytes of DOM)", want, len(dom))
		}
	}
}
