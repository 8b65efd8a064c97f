// Package scripttest runs script tests: a NAME.tengo script, the recording
// it runs over, and NAME.out holding what otrace printed (stdout, then
// stderr, then the exit status). `otrace test` and otrace's own
// tests/scripts both use it.
//
// A script's leading comment lines may hold directives:
//
//	// flags: --max-errors 3 -d 1s     flags given before the script
//	// args: a b                       the script's own arguments
//	// input: other.rec | none         recording in testdata/ (default sched.rec)
package scripttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Case is one script test.
type Case struct {
	Script string // path of NAME.tengo
	Flags  []string
	Args   []string
	// Input is the recording's path, or "" for none.
	Input string
}

// Name is the script's file name without its extension.
func (c *Case) Name() string { return strings.TrimSuffix(filepath.Base(c.Script), ".tengo") }

// Golden is the path of the expected output.
func (c *Case) Golden() string { return strings.TrimSuffix(c.Script, ".tengo") + ".out" }

// Load reads a script's directives. The default input is
// testdata/sched.rec beside the script when that file exists.
func Load(script string) (*Case, error) {
	src, err := os.ReadFile(script)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(script)
	c := &Case{Script: script}
	input := "sched.rec"
	for _, line := range strings.Split(string(src), "\n") {
		rest, ok := strings.CutPrefix(line, "//")
		if !ok {
			break
		}
		key, val, ok := strings.Cut(strings.TrimSpace(rest), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "flags":
			c.Flags = strings.Fields(val)
		case "args":
			c.Args = strings.Fields(val)
		case "input":
			input = val
		}
	}
	if input != "none" {
		c.Input = filepath.Join(dir, "testdata", input)
		if _, err := os.Stat(c.Input); err != nil {
			if input != "sched.rec" {
				return nil, fmt.Errorf("%s: input %s: %w", script, input, err)
			}
			c.Input = ""
		}
	}
	return c, nil
}

// Find lists the script tests in dir (every *.tengo with a .out beside
// it, or all of them when update is set, to write the .out files).
func Find(dir string, update bool) ([]string, error) {
	all, err := filepath.Glob(filepath.Join(dir, "*.tengo"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range all {
		if _, err := os.Stat(strings.TrimSuffix(s, ".tengo") + ".out"); err == nil || update {
			out = append(out, s)
		}
	}
	return out, nil
}

// Run runs the case with the otrace binary and renders what it printed.
// Paths in the output are as the script's directory sees them: otrace runs
// there.
func (c *Case) Run(otrace string, timeout time.Duration) (string, error) {
	args := []string{"run"}
	if c.Input != "" {
		args = append(args, "--input", filepath.Join("testdata", filepath.Base(c.Input)))
	}
	args = append(args, c.Flags...)
	args = append(args, filepath.Base(c.Script))
	args = append(args, c.Args...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, otrace, args...)
	cmd.Dir = filepath.Dir(c.Script)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		return "", fmt.Errorf("running otrace: %w", err)
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("otrace %s did not finish within %v", strings.Join(args, " "), timeout)
	}
	return stdout.String() + "--- stderr\n" + stderr.String() + fmt.Sprintf("--- exit %d\n", code), nil
}

// Diff shows the first lines where want and got part.
func Diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %q\n  got:  %q\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}
