package symbols

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// buildGoFixture builds testdata/gofixture with extra go build flags.
func buildGoFixture(t *testing.T, cgo bool, flags ...string) string {
	t.Helper()
	goTool := needTool(t, "go")
	dir := t.TempDir()
	src, err := os.ReadFile(testdata(t, "gofixture/main.go"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"main.go": src, "go.mod": []byte("module fixture\n\ngo 1.26\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "fixture")
	cmd := exec.Command(goTool, append(append([]string{"build", "-o", bin}, flags...), ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if cgo {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=1")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", flags, err, out)
	}
	return bin
}

func TestUserResolvesGoBinaries(t *testing.T) {
	needLinux(t)
	for _, tc := range []struct {
		name       string
		flags      []string
		cgo        bool // link externally, with gcc
		stripped   bool // no .symtab: names come from .gopclntab
		wantInline bool // DWARF present: inlined frames and lines
	}{
		{name: "a Go binary with DWARF shows the inlined call and its lines", wantInline: true},
		{name: "a Go binary without DWARF (-w) names the outer function", flags: []string{"-ldflags=-w"}},
		{name: "a Go binary stripped with -s names functions from .gopclntab", flags: []string{"-ldflags=-s"}, stripped: true},
		{name: "a stripped Go PIE binary names functions from .gopclntab", flags: []string{"-ldflags=-s", "-buildmode=pie"}, stripped: true},
		{name: "a stripped, externally linked Go binary finds where Go text starts", flags: []string{"-ldflags=-s -linkmode=external"}, cgo: true, stripped: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cgo {
				needTool(t, "gcc")
			}
			bin := buildGoFixture(t, tc.cgo, tc.flags...)
			if ef, err := elf.Open(bin); err != nil {
				t.Fatal(err)
			} else {
				if got := ef.Section(".symtab") == nil; got != tc.stripped {
					t.Fatalf("%s: stripped is %v, want %v", bin, got, tc.stripped)
				}
				ef.Close()
			}
			tg := runTarget(t, bin)
			r := New(Options{DebugDirs: []string{}})
			defer r.Close()
			if len(tg.syms) != 2 {
				t.Fatalf("the fixture printed symbols %v", tg.syms)
			}
			for name, addr := range tg.syms {
				fr := r.User(tg.object(t, addr), addr)
				if last := fr[len(fr)-1]; last.Func != name || last.Offset != 0 {
					t.Errorf("%s at %#x resolved to %+v", name, addr, fr)
				}
			}

			// What the Go runtime says the return address is: small
			// inlined into outer (innermost first).
			var want []Frame
			for _, l := range tg.frames {
				f := strings.Fields(l)
				line, _ := strconv.Atoi(f[2])
				want = append(want, Frame{Func: f[0], File: f[1], Line: line})
			}
			if len(want) < 2 || want[0].Func != "main.small" || want[1].Func != "main.outer" {
				t.Fatalf("the compiler did not inline main.small into main.outer: %v", tg.frames)
			}
			want = want[:2]
			ra := tg.ras["callers"]
			fr := r.User(tg.object(t, ra), ra-1)
			if !tc.wantInline {
				if !slices.Equal(funcs(fr), []string{"main.outer"}) {
					t.Errorf("the inlined call resolved to %+v, want main.outer", fr)
				}
				return
			}
			if !slices.Equal(funcs(fr), []string{"main.small", "main.outer"}) {
				t.Fatalf("the inlined call resolved to %+v, want main.small inside main.outer", fr)
			}
			for i := range want {
				if fr[i].File != want[i].File || fr[i].Line != want[i].Line {
					t.Errorf("frame %d at %s:%d, the runtime says %s:%d", i, fr[i].File, fr[i].Line, want[i].File, want[i].Line)
				}
			}
			if !fr[0].Inlined || fr[1].Inlined {
				t.Errorf("Inlined flags: %+v", fr)
			}
		})
	}
}
