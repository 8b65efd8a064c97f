package export

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"otrace/runtime/symbols"
)

func writeString(t *testing.T, w Writer, data any) string {
	t.Helper()
	var buf bytes.Buffer
	if err := w.Write(&buf, data); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func compareLines(t *testing.T, got string, want []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != len(want) {
		t.Errorf("got %d lines, want %d:\n%s", len(lines), len(want), got)
	}
	for i := range min(len(lines), len(want)) {
		if lines[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, lines[i], want[i])
		}
	}
}

func TestFoldedWritesRootFirstWithKernelFramesLast(t *testing.T) {
	p, _ := standard(t)
	compareLines(t, writeString(t, Folded{}, p), []string{
		// Both threads' samples of one stack make one line.
		"app;__libc_start_main;main;work;helper;leaf 4",
		"app;__libc_start_main;main;write;entry_SYSCALL_64_[k];do_syscall_64_[k];ksys_write_[k] 2",
	})
	compareLines(t, writeString(t, Folded{Value: "cpu"}, p), []string{
		"app;__libc_start_main;main;work;helper;leaf 4000",
		"app;__libc_start_main;main;write;entry_SYSCALL_64_[k];do_syscall_64_[k];ksys_write_[k] 2000",
	})
}

func TestFoldedNamesUnknownFramesByModuleAndMarksJIT(t *testing.T) {
	f := newFixture()
	p, _ := NewProfile([]SampleType{{"samples", "count"}})
	adds := []struct {
		stacks []StackRef
		labels Labels
	}{
		// libc+0x5000 has no symbol: it is named after libc.
		{[]StackRef{f.user(5, libcBase+0x5000, 0x9100, 0x7000, aMain)}, Labels{StringLabel("comm", "a;b")}},
		// Without comm the line starts at the root frame.
		{[]StackRef{f.user(5, aMain)}, nil},
		// A sample with no stack and no comm still counts.
		{nil, nil},
		// Two addresses in main are one frame, "main".
		{[]StackRef{f.user(5, aMain+0x10)}, nil},
	}
	for _, a := range adds {
		if err := p.Add(a.stacks, []int64{1}, a.labels); err != nil {
			t.Fatal(err)
		}
	}
	compareLines(t, writeString(t, Folded{}, p), []string{
		"[unknown] 1",
		"a:b;main;[unknown];jitted_[j];[libc.so.6] 1",
		"main 2",
	})
}

func TestFoldedEscapesSeparatorsInNames(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"a plain name stays", "main", "main"},
		{"spaces stay, readers split on the last one", "operator new(unsigned long)", "operator new(unsigned long)"},
		{"a semicolon becomes a colon", "f<a;b>", "f<a:b>"},
		{"line breaks and tabs become spaces", "a\nb\tc\rd", "a b c d"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := foldedEscape(c.in); got != c.want {
				t.Errorf("foldedEscape(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestFrameNames(t *testing.T) {
	for _, c := range []struct {
		name string
		f    symbols.Frame
		want string
	}{
		{"a function without its offset", symbols.Frame{Func: "main", Offset: 0x10, Module: "/bin/app"}, "main"},
		{"an unknown function by its file", symbols.Frame{Addr: 0x10, Module: "/usr/lib/libc.so.6"}, "[libc.so.6]"},
		{"a Windows module by its file", symbols.Frame{Addr: 0x10, Module: `C:\Windows\ntdll.dll`}, "[ntdll.dll]"},
		{"a pseudo-file as it is", symbols.Frame{Addr: 0x10, Module: "[vdso]"}, "[vdso]"},
		{"nothing known", symbols.Frame{Addr: 0x10, Module: "[unknown]"}, "[unknown]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := frameName(c.f); got != c.want {
				t.Errorf("frameName = %q, want %q", got, c.want)
			}
		})
	}
}

func TestJSONLinesWriteOneObjectPerSample(t *testing.T) {
	p, _ := standard(t)
	out := writeString(t, JSONLines{}, p)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), out)
	}
	type sample struct {
		Stack  []string         `json:"stack"`
		KStack []string         `json:"kstack"`
		Values map[string]int64 `json:"values"`
		Labels map[string]any   `json:"labels"`
	}
	var got []sample
	for _, l := range lines {
		var s sample
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("%v in %s", err, l)
		}
		got = append(got, s)
	}
	if s := got[0]; strings.Join(s.Stack, ";") != "__libc_start_main;main;work;helper;leaf" ||
		len(s.KStack) != 0 || s.Values["samples"] != 3 || s.Values["cpu"] != 3000 ||
		s.Labels["comm"] != "app" || s.Labels["tid"] != 5.0 {
		t.Errorf("first sample %+v", s)
	}
	if s := got[2]; strings.Join(s.KStack, ";") != "entry_SYSCALL_64;do_syscall_64;ksys_write" || strings.Join(s.Stack, ";") != "__libc_start_main;main;write" {
		t.Errorf("third sample %+v", s)
	}
	if !strings.Contains(lines[0], `"kstack":[]`) {
		t.Errorf("an empty stack must be [], not null: %s", lines[0])
	}
}

func TestTextShowsTopFunctionsFlatAndCumulative(t *testing.T) {
	p, _ := standard(t)
	golden(t, "top.txt", []byte(writeString(t, Text{Value: "cpu", N: 5}, p)))
}
