package symbols

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// live reports whether OTRACE_LIVE asks that tests needing tools or a
// kernel fail instead of skipping (CI sets it).
func live() bool { return os.Getenv("OTRACE_LIVE") != "" }

func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if live() {
		t.Fatalf(format+" (OTRACE_LIVE is set, so this fails instead of skipping)", args...)
	}
	t.Skipf(format, args...)
}

func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(t, "%s not found", name)
	}
	return p
}

func needLinux(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux and /proc")
	}
}

// run runs a command and returns its standard output; it fails the test
// with the command's output when the command fails.
func run(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, msg)
	}
	return string(out)
}

func testdata(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// target is what a fixture program printed about itself.
type target struct {
	pid    int
	syms   map[string]uint64 // "sym NAME ADDR": function entries
	ras    map[string]uint64 // "ra NAME ADDR": return addresses
	frames []string          // "frame FUNC FILE LINE": the runtime's view
	maps   []mapLine         // its executable mappings
}

type mapLine struct {
	start, end, pgoff uint64
	path              string
}

func parseTarget(t testing.TB, out string) target {
	t.Helper()
	tg := target{syms: map[string]uint64{}, ras: map[string]uint64{}}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "sym", "ra":
			if len(f) != 3 {
				t.Fatalf("bad line %q", sc.Text())
			}
			v := parseAddr(t, f[2])
			if f[0] == "sym" {
				tg.syms[f[1]] = v
			} else {
				tg.ras[f[1]] = v
			}
		case "frame":
			tg.frames = append(tg.frames, strings.Join(f[1:], " "))
		case "map":
			if len(f) < 7 {
				continue // anonymous executable memory
			}
			lo, hi, _ := strings.Cut(f[1], "-")
			tg.maps = append(tg.maps, mapLine{start: parseAddr(t, lo), end: parseAddr(t, hi), pgoff: parseAddr(t, f[3]), path: strings.Join(f[6:], " ")})
		}
	}
	return tg
}

func parseAddr(t testing.TB, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Fatalf("bad address %q: %v", s, err)
	}
	return v
}

// object returns the mapping that holds addr, as the collector would
// have recorded it.
func (tg target) object(t testing.TB, addr uint64) Object {
	t.Helper()
	for _, m := range tg.maps {
		if m.start <= addr && addr < m.end {
			return Object{PID: int32(tg.pid), Path: m.path, Start: m.start, Pgoff: m.pgoff}
		}
	}
	t.Fatalf("no executable mapping holds %#x in %+v", addr, tg.maps)
	return Object{}
}

// runTarget runs a fixture program to its end and reads what it printed.
func runTarget(t testing.TB, bin string) target {
	t.Helper()
	cmd := exec.Command(bin)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	tg := parseTarget(t, string(out))
	tg.pid = cmd.Process.Pid
	return tg
}

// lineOf returns the line of file that holds marker.
func lineOf(t testing.TB, file, marker string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, marker) {
			return i + 1
		}
	}
	t.Fatalf("%s has no %q", file, marker)
	return 0
}

// fileObject maps the executable PT_LOAD holding vaddr at an arbitrary
// base, as a loader could have, and returns the mapping and the process
// address of vaddr in it.
func fileObject(t testing.TB, path string, vaddr, base uint64) (Object, uint64) {
	t.Helper()
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD || p.Vaddr > vaddr || vaddr >= p.Vaddr+p.Filesz {
			continue
		}
		pgoff := p.Off &^ 0xfff
		start := base + pgoff
		return Object{Path: path, Start: start, Pgoff: pgoff}, start + (vaddr - p.Vaddr) + (p.Off - pgoff)
	}
	t.Fatalf("%s: no PT_LOAD holds %#x", path, vaddr)
	return Object{}, 0
}

// symbolValue returns the address of a symbol, read with debug/elf.
func symbolValue(t testing.TB, path, name string) uint64 {
	t.Helper()
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	syms, _ := ef.Symbols()
	dyn, _ := ef.DynamicSymbols()
	for _, s := range append(syms, dyn...) {
		if s.Name == name && s.Value != 0 {
			return s.Value
		}
	}
	t.Fatalf("%s has no symbol %s", path, name)
	return 0
}

// funcs lists the frames' function names, innermost first.
func funcs(fr []Frame) []string {
	var out []string
	for _, f := range fr {
		out = append(out, f.Func)
	}
	return out
}
