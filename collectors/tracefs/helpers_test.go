package tracefs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildDir holds the programs the tests build, shared by all tests of one
// run; TestMain creates and removes it.
var buildDir string

func TestMain(m *testing.M) {
	if code, ok := liveChild(); ok {
		os.Exit(code)
	}
	dir, err := os.MkdirTemp("", "otrace-tracefs-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// targetSource is the Go program uprobes are placed on: it calls
// main.target as many times as its first argument says.
const targetSource = `package main

import (
	"os"
	"strconv"
)

//go:noinline
func target(i int) int { return i * 3 }

func main() {
	n := 1
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	sum := 0
	for i := 0; i < n; i++ {
		sum += target(i)
	}
	if sum < 0 {
		println(sum)
	}
}
`

// cTargetSource is the C counterpart, for gcc.
const cTargetSource = `#include <stdlib.h>
__attribute__((noipa)) int target(int i) { return i * 3; }
int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 1, sum = 0;
	for (int i = 0; i < n; i++) sum += target(i);
	return sum < 0;
}
`

// goTarget builds targetSource (once per run and mode) and returns the
// executable's path. pie selects -buildmode=pie.
func goTarget(t *testing.T, pie bool) string {
	t.Helper()
	out := filepath.Join(buildDir, "gotarget")
	args := []string{"build", "-o", out}
	if pie {
		out += "-pie"
		args = []string{"build", "-buildmode=pie", "-o", out}
	}
	src := map[string]string{"main.go": targetSource, "go.mod": "module target\n\ngo 1.21\n"}
	return build(t, out, src, "go", append(args, ".")...)
}

// cTarget builds cTargetSource with gcc, as a PIE or not.
func cTarget(t *testing.T, pie bool) string {
	t.Helper()
	out, flags := filepath.Join(buildDir, "ctarget"), []string{"-fno-pie", "-no-pie"}
	if pie {
		out, flags = out+"-pie", []string{"-fPIE", "-pie"}
	}
	args := append([]string{"-O1", "-o", out}, flags...)
	return build(t, out, map[string]string{"target.c": cTargetSource}, "gcc", append(args, "target.c")...)
}

// build writes the files of src to a fresh directory and runs tool there,
// unless out exists from an earlier test. A missing tool skips the test
// unless live tests were asked for.
func build(t *testing.T, out string, src map[string]string, tool string, args ...string) string {
	t.Helper()
	if _, err := os.Stat(out); err == nil {
		return out
	}
	if _, err := exec.LookPath(tool); err != nil {
		skipUnlessLive(t, tool+" is not installed: "+err.Error())
	}
	dir, err := os.MkdirTemp(buildDir, "src-")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range src {
		writeFile(t, filepath.Join(dir, name), text)
	}
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOTOOLCHAIN=local")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, msg)
	}
	return out
}

// skipUnlessLive skips the test, or fails it when OTRACE_LIVE=1 asks for
// every live test to run: CI must not pass by skipping.
func skipUnlessLive(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("OTRACE_LIVE") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// fakeFormat is a format file the way tracefs writes one.
func fakeFormat(name string, id int) string {
	return fmt.Sprintf("name: %s\nID: %d\nformat:\n"+
		"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"+
		"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"+
		"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"+
		"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"+
		"\tfield:int value;\toffset:8;\tsize:4;\tsigned:1;\n\n"+
		"print fmt: \"value=%%d\", REC->value\n", name, id)
}

// fakeTracefs builds a tracefs-like tree with a format for each
// "system:event", the files tracefs keeps beside them, an empty
// uprobe_events and error_log, and returns an FS on it that finds no
// uprobe target by a bare name: tests give paths.
func fakeTracefs(t *testing.T, events ...string) *FS {
	t.Helper()
	root := t.TempDir()
	for _, f := range []string{"events/enable", "events/header_page", "events/header_event", "uprobe_events", "error_log"} {
		writeFile(t, filepath.Join(root, f), "")
	}
	for i, name := range events {
		addFakeEvent(t, root, name, 100+i)
	}
	fs, err := Open(Options{Root: root, Targets: &TargetFinder{}})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// addFakeEvent adds events/SYS/EV/{format,enable} under root.
func addFakeEvent(t *testing.T, root, name string, id int) {
	t.Helper()
	sys, ev, _ := strings.Cut(name, ":")
	dir := filepath.Join(root, "events", sys, ev)
	writeFile(t, filepath.Join(dir, "format"), fakeFormat(ev, id))
	writeFile(t, filepath.Join(dir, "enable"), "0\n")
	writeFile(t, filepath.Join(root, "events", sys, "enable"), "0\n")
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
