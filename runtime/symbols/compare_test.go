package symbols

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestCompareWithAddr2line resolves the same 100,000 addresses of large
// binaries with this package and with binutils' addr2line -f (and LLVM's,
// when installed), and reports the times and how often the innermost
// function names agree. It runs only with OTRACE_BENCH_COMPARE=1;
// OTRACE_COMPARE_SHOW=1 also prints a few disagreements per tool.
func TestCompareWithAddr2line(t *testing.T) {
	if os.Getenv("OTRACE_BENCH_COMPARE") == "" {
		t.Skip("set OTRACE_BENCH_COMPARE=1 to compare with addr2line")
	}
	tools := map[string]string{}
	for _, name := range []string{"addr2line", "llvm-addr2line"} {
		if p, err := exec.LookPath(name); err == nil {
			tools[name] = p
		}
	}
	if tools["addr2line"] == "" {
		t.Skip("addr2line (binutils) is not installed")
	}
	files := []struct{ name, path string }{
		{"libc", libcPath},
		{"go toolchain", goToolPath(t)},
	}
	if _, err := exec.LookPath("go"); err == nil {
		files = append(files, struct{ name, path string }{"Go binary with DWARF", buildGoFixture(t, false)})
	}
	const n = 100_000
	for _, f := range files {
		obj, vaddrs, addrs := textAddrs(t, f.path, n)
		var in bytes.Buffer
		for _, v := range vaddrs {
			fmt.Fprintf(&in, "%#x\n", v)
		}
		for _, lines := range []bool{true, false} {
			start := time.Now()
			r := New(Options{NoLines: !lines})
			ours := make([]string, n)
			for i, a := range addrs {
				ours[i] = r.User(obj, a)[0].Func
			}
			r.Close()
			t.Logf("%-22s otrace (lines %-5v) %8.1f ms  (%+v)", f.name, lines, ms(time.Since(start)), r.Stats())
		}
		r := New(Options{})
		ours := make([]string, n)
		for i, a := range addrs {
			ours[i] = r.User(obj, a)[0].Func
		}
		aliases := symbolStarts(r.byMapping[mappingKey{pid: obj.PID, start: obj.Start, path: obj.Path}])
		for _, name := range []string{"addr2line", "llvm-addr2line"} {
			tool := tools[name]
			if tool == "" {
				continue
			}
			cmd := exec.Command(tool, "-f", "-e", f.path)
			cmd.Stdin = bytes.NewReader(in.Bytes())
			start := time.Now()
			out, err := cmd.Output()
			took := time.Since(start)
			if err != nil {
				t.Errorf("%s on %s: %v", name, f.path, err)
				continue
			}
			theirs := addr2lineFuncs(out)
			agree := 0
			shown := 0
			for i := range ours {
				if i < len(theirs) && sameFunc(ours[i], theirs[i], aliases) {
					agree++
				} else if shown < 8 && os.Getenv("OTRACE_COMPARE_SHOW") != "" {
					shown++
					t.Logf("  %#x: otrace %q, %s %q", vaddrs[i], ours[i], name, theirs[min(i, len(theirs)-1)])
				}
			}
			t.Logf("%-22s %-24s %8.1f ms  names agree on %.1f%% (%d answers)", f.name, name+" -f", ms(took), 100*float64(agree)/float64(n), len(theirs))
		}
		r.Close()
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// addr2lineFuncs takes the function line of each (function, file:line)
// pair addr2line printed.
func addr2lineFuncs(out []byte) []string {
	var funcs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for i := 0; sc.Scan(); i++ {
		if i%2 == 0 {
			funcs = append(funcs, sc.Text())
		}
	}
	return funcs
}

// sameFunc compares names as the two tools print them: addr2line prints
// raw symbol names and "??" for unknown, may pick another alias of the
// same function (__GI_abort for abort), and names a function's parts that
// GCC split off (name.cold, name.part.0) after the function, as DWARF does.
func sameFunc(ours, theirs string, starts map[string]uint64) bool {
	if theirs == "??" {
		return ours == ""
	}
	theirs = demangleName(theirs)
	if ours == theirs {
		return true
	}
	if a, ok := starts[ours]; ok && a == starts[theirs] {
		return true
	}
	if i := strings.IndexByte(ours, '.'); i > 0 && !strings.Contains(ours, "(") {
		return ours[:i] == theirs
	}
	return false
}

// symbolStarts maps every function name of a binary and its debug file to
// its address, to recognize aliases.
func symbolStarts(b *binaryFile) map[string]uint64 {
	out := map[string]uint64{}
	if b == nil {
		return out
	}
	for _, ef := range []*elf.File{b.elf, b.debug} {
		if ef == nil {
			continue
		}
		syms, _ := ef.Symbols()
		dyn, _ := ef.DynamicSymbols()
		for _, s := range append(syms, dyn...) {
			name, _, _ := strings.Cut(s.Name, "@")
			if s.Value != 0 {
				out[demangleName(name)] = s.Value
			}
		}
	}
	return out
}
