package unwind

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The rules otrace compiles must be the ones binutils' readelf
// --debug-dump=frames-interp prints, row by row: for the x86-64 fixtures
// and the system's libraries, wherever readelf is installed.
func TestRulesAgreeWithReadelf(t *testing.T) {
	readelf, err := exec.LookPath("readelf")
	if err != nil {
		if os.Getenv("OTRACE_LIVE") != "" {
			t.Fatal("readelf is not installed (binutils); OTRACE_LIVE is set, so this fails instead of skipping")
		}
		t.Skip("readelf is not installed (binutils)")
	}
	files := []string{filepath.Join("testdata", "snap"), filepath.Join("testdata", "snap-debugframe")}
	files = append(files, systemLibs...)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			ef := openSystemLib(t, path)
			// readelf exits 1 over warnings (a debug link it cannot
			// follow) after printing the tables.
			out, err := exec.Command(readelf, "--debug-dump=frames-interp", path).Output()
			if len(out) == 0 {
				t.Skipf("readelf: %v", err)
			}
			tab := TableFromELF(AMD64, ef, nil)
			rows, checked := 0, 0
			for _, f := range parseReadelf(t, out) {
				for _, rw := range f.rows {
					rows++
					r, row := tab.lookup(rw.loc)
					if r == nil || r.Start != f.start || r.End != f.end {
						t.Errorf("%s: %#x: no rules for the FDE %#x..%#x", path, rw.loc, f.start, f.end)
						continue
					}
					checked++
					if got := cfaColumn(r, row); got != rw.cfa {
						t.Errorf("%#x: CFA %s, readelf %s", rw.loc, got, rw.cfa)
					}
					for i, col := range f.cols {
						if got := regColumn(r, row, col); !sameColumn(got, rw.vals[i]) {
							t.Errorf("%#x: %s %s, readelf %s", rw.loc, col, got, rw.vals[i])
						}
					}
				}
			}
			if checked == 0 {
				t.Fatal("readelf printed no rows")
			}
			t.Logf("%d rows agree", checked)
		})
	}
}

type readelfFDE struct {
	start, end uint64
	cols       []string
	rows       []readelfRow
}

type readelfRow struct {
	loc  uint64
	cfa  string
	vals []string
}

func parseReadelf(t *testing.T, out []byte) []readelfFDE {
	var fdes []readelfFDE
	var cur *readelfFDE
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 6 && f[3] == "FDE":
			lo, hi, _ := strings.Cut(strings.TrimPrefix(f[5], "pc="), "..")
			a, _ := strconv.ParseUint(lo, 16, 64)
			b, _ := strconv.ParseUint(hi, 16, 64)
			fdes = append(fdes, readelfFDE{start: a, end: b})
			cur = &fdes[len(fdes)-1]
		case len(f) >= 4 && f[3] == "CIE":
			cur = nil
		case cur != nil && len(f) >= 2 && f[0] == "LOC":
			cur.cols = f[2:]
		case cur != nil && len(f) == len(cur.cols)+2 && len(f[0]) == 16:
			loc, err := strconv.ParseUint(f[0], 16, 64)
			if err != nil {
				continue
			}
			cur.rows = append(cur.rows, readelfRow{loc: loc, cfa: f[1], vals: f[2:]})
		}
	}
	return fdes
}

func cfaColumn(r *Rules, row *row) string {
	s := r.ruleString(row.cfa, -1)
	if strings.HasPrefix(s, "exp(") {
		return "exp"
	}
	return s
}

// regColumn prints a register's rule as readelf does: "u" for none.
func regColumn(r *Rules, row *row, col string) string {
	reg := -1
	for i, n := range r.arch.names {
		if n == col {
			reg = i
		}
	}
	if col == "ra" {
		reg = int(r.ra)
	}
	for _, rr := range r.regs[row.first : row.first+uint32(row.n)] {
		if int(rr.reg) == reg {
			s := r.ruleString(rr.rule, reg)
			if i := strings.IndexByte(s, '('); i > 0 {
				s = s[:i]
			}
			return s
		}
	}
	return "u"
}

func sameColumn(got, want string) bool {
	switch {
	case got == want:
		return true
	case want == "s" || got == "s": // same value, and no rule
		return (got == "u" || got == "s") && (want == "u" || want == "s")
	case strings.HasPrefix(want, "v") && strings.HasPrefix(got, "v"):
		return true
	}
	return false
}
