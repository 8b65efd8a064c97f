package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"otrace/tests/scripttest"
)

const testUsage = `Usage:
  otrace test [-update] [DIR | SCRIPT.tengo]...

Runs script tests: each NAME.tengo runs over a recording (testdata/sched.rec
beside it, or the one its "// input: FILE" comment names, from testdata/)
and what it prints — stdout, stderr, exit status — must equal NAME.out.
Tests need no root: library authors get CI for their scripts anywhere.
Leading comment lines may also hold "// flags: ..." (otrace run flags) and
"// args: ..." (the script's arguments). -update writes the .out files.

Flags:
%s`

func testCommand(args []string, stdout, stderr io.Writer) int {
	var update, help bool
	f := newFlags("test")
	f.Bool(&update, "", "update", "write each NAME.out from what the script prints now")
	f.Bool(&help, "h", "help", "show this help")
	paths, err := f.ParseInterspersed(args)
	if err != nil || help {
		var b strings.Builder
		f.Usage(&b)
		if help {
			fmt.Fprintf(stdout, testUsage, b.String())
			return exitOK
		}
		fmt.Fprintf(stderr, "otrace test: %v\n"+testUsage, err, b.String())
		return exitUsage
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "otrace test: %v\n", err)
		return exitFailure
	}
	var scripts []string
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			found, err := scripttest.Find(p, update)
			if err != nil {
				fmt.Fprintf(stderr, "otrace test: %v\n", err)
				return exitUsage
			}
			scripts = append(scripts, found...)
			continue
		}
		scripts = append(scripts, p)
	}
	if len(scripts) == 0 {
		fmt.Fprintf(stderr, "otrace test: no script tests (NAME.tengo with NAME.out) in %s\n", strings.Join(paths, ", "))
		return exitUsage
	}
	passed, failed := 0, 0
	for _, s := range scripts {
		t0 := time.Now()
		c, err := scripttest.Load(s)
		var got string
		if err == nil {
			got, err = c.Run(self, 2*time.Minute)
		}
		took := time.Since(t0).Round(time.Millisecond)
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL %s: %v\n", s, err)
			continue
		}
		if update {
			if err := os.WriteFile(c.Golden(), []byte(got), 0o644); err != nil {
				failed++
				fmt.Fprintf(stdout, "FAIL %s: %v\n", s, err)
				continue
			}
			passed++
			fmt.Fprintf(stdout, "wrote %s (%v)\n", c.Golden(), took)
			continue
		}
		want, err := os.ReadFile(c.Golden())
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(stdout, "FAIL %s: %v (otrace test -update writes it)\n", s, err)
		case string(want) != got:
			failed++
			fmt.Fprintf(stdout, "FAIL %s (%v): output differs from %s\n%s", s, took, c.Golden(), scripttest.Diff(string(want), got))
		default:
			passed++
			fmt.Fprintf(stdout, "ok   %s (%v)\n", s, took)
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return exitFailure
	}
	return exitOK
}
