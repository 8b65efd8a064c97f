package filter

import (
	"errors"
	"strings"
	"testing"

	"otrace/runtime/event"
)

// FuzzCompile checks that Compile never panics and refuses only with an
// *Error; that a filter it accepts matches any payload without panicking;
// and that its String compiles again to a filter with the same String that
// gives the same verdicts.
func FuzzCompile(f *testing.F) {
	seeds := []string{
		`prev_state == 1 && next_comm ~ "post*"`,
		`filename ~ "/usr/*" || filename ~ "*/ls" || filename ~ "*bin*"`,
		`id == 59 && common_pid != 1`,
		`rel ~ "h?l[l-m]*" && ptr & 0xff && tiny < -1 && mac == 'ab'`,
		`!(prev_pid == 1 || next_pid == 2) && prev_prio <= 120`,
		`next_comm ~ "!k*[!0-9]\\x"`,
	}
	for _, c := range kernelCases {
		seeds = append(seeds, c.expr)
	}
	for _, s := range seeds {
		f.Add(s, []byte("\x01\x00\x02\x03\x04\x00\x00\x00postgres\x00\x00\x00\x00\x00\x00\x00\x00\x10\x00\x0c\x00"))
	}
	formats := []*event.Format{
		testFormat(f, "sched_switch"),
		testFormat(f, "sched_process_exec"),
		testFormat(f, "sys_enter"),
		oddFormat(f),
	}
	f.Fuzz(func(t *testing.T, expr string, raw []byte) {
		for _, fm := range formats {
			flt, err := Compile(expr, fm)
			if err != nil {
				var fe *Error
				if !errors.As(err, &fe) {
					t.Fatalf("Compile(%q) = %T %v, want *Error", expr, err, err)
				}
				if fe.Column < 0 || fe.Column > len(expr)+1 {
					t.Fatalf("Compile(%q): column %d outside the filter: %v", expr, fe.Column, err)
				}
				continue
			}
			s := flt.String()
			again, err := Compile(s, fm)
			if err != nil {
				t.Fatalf("Compile(%q) = %q, which does not compile: %v", expr, s, err)
			}
			if again.String() != s {
				t.Fatalf("Compile(%q) = %q, which compiles to %q", expr, s, again)
			}
			// The raw bytes as given, then long enough for every fixed field.
			long := append(raw[:len(raw):len(raw)], make([]byte, max(0, flt.need-len(raw)))...)
			for _, r := range [][]byte{raw, long} {
				if flt.Match(r) != again.Match(r) {
					t.Fatalf("%q and its String %q disagree on % x", expr, s, r)
				}
			}
			if strings.ContainsRune(s, 0) {
				t.Fatalf("String of %q holds a NUL: %q", expr, s)
			}
		}
	})
}
