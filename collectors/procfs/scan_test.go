package procfs

import (
	"errors"
	"io/fs"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"otrace/runtime/process"
)

const kthread = pfKthread | 0x8040 // as kthreadd and kworkers show

// fakeProc is a /proc with the cases Scan must handle: a comm with
// parentheses and spaces, a child with a smaller pid than its parent,
// threads (one exiting), kernel threads (whose maps are never read), an
// orphan, a process that exits before its stat is read, one that is dead
// but not yet reaped, one that exits before its maps are read, unreadable
// and garbled files, and maps with spaces, an unlinked file, [vdso],
// [heap] and anonymous code.
func fakeProc(t *testing.T, extra map[string]string) string {
	id1, id2, id3 := []byte{1, 1, 1, 1}, []byte{2, 2, 2, 2, 2, 2, 2, 2}, []byte{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}
	files := map[string]string{
		"cpuinfo":           "processor: 0\n",
		"self/":             "",
		"1/stat":            statLine(1, "init", 'S', 0, 0x400100, 1),
		"1/status":          "Name:\tinit\nTgid:\t1\nPid:\t1\n",
		"1/maps":            "00400000-00500000 r-xp 00000000 08:01 2                  /sbin/init\n",
		"1/root/sbin/init":  string(makeELF(true, le, noteSeg{4, gnuBuildID(le, id1)})),
		"2/stat":            statLine(2, "kthreadd", 'S', 0, kthread, 1),
		"3/stat":            statLine(3, "kworker/0:1-events", 'I', 2, kthread, 1),
		"7/stat":            "7 garbage\n",
		"100/stat":          statLine(100, "(a) b)", 'S', 1, 0x400000, 4),
		"100/status":        "Name:\t(a) b)\nTgid:\t100\nPid:\t100\n",
		"100/task/100/comm": "(a) b)\n",
		"100/task/101/comm": "worker one\n",
		"100/task/102/":     "", // exited after the listing
		"100/task/105/comm": "gc\n",
		"100/maps": "00400000-00401000 r--p 00000000 08:01 12                 /opt/my app/run me\n" +
			"00401000-00402000 r-xp 00001000 08:01 12                 /opt/my app/run me\n" +
			"01000000-01021000 rw-p 00000000 00:00 0                  [heap]\n" +
			"7f0000000000-7f0000010000 r-xp 00002000 08:01 34         /usr/lib/libold.so (deleted)\n" +
			"7f0000100000-7f0000101000 rwxp 00000000 00:00 0 \n" +
			"this line is garbled\n" +
			"7ffc00000000-7ffc00002000 r-xp 00000000 00:00 0          [vdso]\n",
		"100/root/opt/my app/run me":              string(makeELF(true, le, noteSeg{4, gnuBuildID(le, id2)})),
		"100/root/usr/lib/libold.so":              string(makeELF(true, le, noteSeg{4, gnuBuildID(le, id1)})), // the new file at the old path
		"100/map_files/7f0000000000-7f0000010000": string(makeELF(true, le, noteSeg{4, gnuBuildID(le, id3)})),
		"50/stat": statLine(50, "child", 'S', 100, 0x400000, 1),
		"50/maps": "00400000-00401000 r-xp 00001000 08:01 12 /opt/my app/run me\n" + // same file: its id comes from the cache
			"00500000-00501000 r-xp 00000000 08:01 56 /usr/bin/notelf\n",
		"50/root/usr/bin/notelf": "#!/bin/sh\n",
		"60/stat":                statLine(60, "grandchild", 'R', 50, 0x400000, 1),
		"60/status":              "Name:\tgrandchild\nTgid:\t60\nPid:\t60\n",
		"200/":                   "", // exited after the listing
		"201/stat":               statLine(201, "dying", 'X', 0, 0x400000, 0),
		"300/stat/":              "", // cannot be read
		"400/stat":               "400 (orphan) S 999 400 400 0 -1 4194304\n",
		"400/task/400/comm":      "orphan\n",
		"400/maps":               "",
	}
	maps.Copy(files, extra)
	return tree(t, files)
}

var fakeForks = []string{
	`fork 1/1 from 0/0`, `comm 1/1 "init"`,
	`fork 100/100 from 1/1`, `comm 100/100 "(a) b)"`,
	`fork 100/101 from 100/100`, `comm 100/101 "worker one"`,
	`fork 100/105 from 100/100`, `comm 100/105 "gc"`,
	`fork 50/50 from 100/100`, `comm 50/50 "child"`,
	`fork 60/60 from 50/50`, `comm 60/60 "grandchild"`,
	`fork 2/2 from 0/0`, `comm 2/2 "kthreadd"`,
	`fork 3/3 from 2/2`, `comm 3/3 "kworker/0:1-events"`,
	`fork 400/400 from 999/999`, `comm 400/400 "orphan"`,
}

func TestScan(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		extra map[string]string // files added to fakeProc
		want  []string
		stats Stats // FirstError is checked to be set when Errors > 0
	}{
		{
			name:  "every process and thread comes after its parent, skipping what vanished or is broken",
			opts:  Options{},
			want:  fakeForks,
			stats: Stats{Processes: 7, Threads: 9, Vanished: 3, Errors: 2},
		},
		{
			name: "maps add one record per executable file and special mapping, after all forks",
			opts: Options{Maps: true},
			want: append(fakeForks[:len(fakeForks):len(fakeForks)],
				`mmap 1 0x400000+0x100000 @0x0 prot 5 "/sbin/init" `,
				`mmap 100 0x401000+0x1000 @0x1000 prot 5 "/opt/my app/run me" `,
				`mmap 100 0x7f0000000000+0x10000 @0x2000 prot 5 "/usr/lib/libold.so (deleted)" `,
				`mmap 100 0x7ffc00000000+0x2000 @0x0 prot 5 "[vdso]" `,
				`mmap 50 0x400000+0x1000 @0x1000 prot 5 "/opt/my app/run me" `,
				`mmap 50 0x500000+0x1000 @0x0 prot 5 "/usr/bin/notelf" `,
			),
			stats: Stats{Processes: 7, Threads: 9, Mappings: 6, Vanished: 4, Errors: 3},
		},
		{
			name: "build-ids come from each file once, an unlinked one through map_files",
			opts: Options{Maps: true, BuildIDs: true},
			want: append(fakeForks[:len(fakeForks):len(fakeForks)],
				`mmap 1 0x400000+0x100000 @0x0 prot 5 "/sbin/init" 01010101`,
				`mmap 100 0x401000+0x1000 @0x1000 prot 5 "/opt/my app/run me" 0202020202020202`,
				`mmap 100 0x7f0000000000+0x10000 @0x2000 prot 5 "/usr/lib/libold.so (deleted)" 03030303030303030303030303030303`,
				`mmap 100 0x7ffc00000000+0x2000 @0x0 prot 5 "[vdso]" `,
				`mmap 50 0x400000+0x1000 @0x1000 prot 5 "/opt/my app/run me" 0202020202020202`,
				`mmap 50 0x500000+0x1000 @0x0 prot 5 "/usr/bin/notelf" `,
			),
			stats: Stats{Processes: 7, Threads: 9, Mappings: 6, BuildIDs: 3, Vanished: 4, Errors: 3},
		},
		{
			name: "PIDs limit the scan to those processes and their threads, a thread id standing for its process",
			opts: Options{PIDs: []int32{101, 60, 1, 999, 100}},
			// A thread's directory is hidden from the listing of /proc,
			// but there.
			extra: map[string]string{"101/status": "Name:\tworker one\nTgid:\t100\nPid:\t101\n"},
			want: []string{
				`fork 1/1 from 0/0`, `comm 1/1 "init"`,
				`fork 100/100 from 1/1`, `comm 100/100 "(a) b)"`,
				`fork 100/101 from 100/100`, `comm 100/101 "worker one"`,
				`fork 100/105 from 100/100`, `comm 100/105 "gc"`,
				`fork 60/60 from 50/50`, `comm 60/60 "grandchild"`,
			},
			stats: Stats{Processes: 3, Threads: 5, Vanished: 2},
		},
		{
			name:  "an empty PIDs list scans nothing",
			opts:  Options{PIDs: []int32{}},
			stats: Stats{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Root = fakeProc(t, tt.extra)
			tt.opts.Time = 77
			var r recorder
			stats, err := Scan(tt.opts, &r)
			if err != nil {
				t.Fatal(err)
			}
			diffLines(t, r.lines, tt.want)
			if (stats.FirstError != nil) != (stats.Errors > 0) {
				t.Errorf("FirstError %v with %d errors", stats.FirstError, stats.Errors)
			}
			stats.FirstError = nil
			if stats != tt.stats {
				t.Errorf("stats %+v\nwant  %+v", stats, tt.stats)
			}
			for _, rec := range r.recs {
				if time := recTime(rec); time != 77 {
					t.Errorf("%+v has time %d, want 77", rec, time)
				}
			}
		})
	}
}

func recTime(rec any) uint64 {
	switch r := rec.(type) {
	case process.Comm:
		return r.Time
	case process.Fork:
		return r.Time
	case process.Mmap:
		return r.Time
	}
	return 0
}

func TestScanErrorsNameTheFile(t *testing.T) {
	root := tree(t, map[string]string{"7/stat": "7 garbage\n"})
	stats, err := Scan(Options{Root: root}, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, "7", "stat") + `: no '(' before the comm`
	if stats.FirstError == nil || !strings.Contains(stats.FirstError.Error(), want) {
		t.Errorf("first error %v, want one saying %q", stats.FirstError, want)
	}
}

func TestScanFailsWithoutProcesses(t *testing.T) {
	_, err := Scan(Options{Root: filepath.Join(t.TempDir(), "proc")}, &recorder{})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "is procfs mounted") {
		t.Errorf("error %v, want a missing directory and a hint", err)
	}
}

func TestScanReadsFilesLongerThanItsBuffer(t *testing.T) {
	comm := strings.Repeat("long name ", 600) // stat beyond 4 KiB
	var maps strings.Builder
	for i := range 300 {
		maps.WriteString(strings.Replace("00400000-00401000 r-xp 00000000 08:01 12 /usr/lib/libN.so\n", "N", strings.Repeat("x", i%50), 1))
	}
	root := tree(t, map[string]string{
		"9/stat": statLine(9, comm, 'S', 1, 0, 1),
		"9/maps": maps.String(),
	})
	var r recorder
	stats, err := Scan(Options{Root: root, Maps: true}, &r)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Mappings != 300 || stats.Errors != 0 {
		t.Errorf("stats %+v, want 300 mappings and no errors", stats)
	}
	if c := r.recs[1].(process.Comm); c.Comm != comm {
		t.Errorf("comm of %d bytes, want %d", len(c.Comm), len(comm))
	}
}

func TestParentsFirst(t *testing.T) {
	tests := []struct {
		name string
		ppid map[int32]int32 // pid -> ppid
		want []int32
	}{
		{"unrelated processes come in pid order", map[int32]int32{30: 0, 10: 0, 20: 0}, []int32{10, 20, 30}},
		{"a child with a smaller pid follows its parent", map[int32]int32{1: 0, 900: 1, 5: 900, 6: 5}, []int32{1, 900, 5, 6}},
		{"siblings come in pid order after their parent", map[int32]int32{1: 0, 40: 1, 30: 40, 20: 40, 10: 1}, []int32{1, 10, 40, 20, 30}},
		{"a process whose parent is absent starts a tree", map[int32]int32{7: 3, 8: 7, 2: 0}, []int32{2, 7, 8}},
		{"a cycle of parents still lists each once", map[int32]int32{5: 6, 6: 5, 1: 0}, []int32{1, 5, 6}},
		{"a process that is its own parent is a root", map[int32]int32{4: 4, 9: 4}, []int32{4, 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var procs []stat
			for pid, ppid := range tt.ppid {
				procs = append(procs, stat{PID: pid, PPID: ppid})
			}
			var got []int32
			for _, p := range parentsFirst(procs) {
				got = append(got, p.PID)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// tableVisitor feeds a process model, as the session does.
type tableVisitor struct{ *process.Table }

func (v tableVisitor) Comm(c process.Comm) { v.AddComm(c) }
func (v tableVisitor) Fork(f process.Fork) { v.AddFork(f) }
func (v tableVisitor) Mmap(m process.Mmap) { v.AddMmap(m) }

func TestScanFeedsTheProcessModel(t *testing.T) {
	tab := process.NewTable()
	if _, err := Scan(Options{Root: fakeProc(t, nil), Maps: true}, tableVisitor{tab}); err != nil {
		t.Fatal(err)
	}
	child := tab.Process(50)
	if child == nil || child.PPID != 100 || child.Comm != "child" {
		t.Fatalf("process 50 is %+v, want child of 100", child)
	}
	// Forks come before all Mmaps, so the model does not copy the
	// parent's mappings into the child.
	var paths []string
	for _, m := range child.Maps {
		paths = append(paths, m.Path)
	}
	if want := []string{"/opt/my app/run me", "/usr/bin/notelf"}; strings.Join(paths, "|") != strings.Join(want, "|") {
		t.Errorf("process 50 maps %q, want %q", paths, want)
	}
	if got := tab.Comm(100, 101); got != "worker one" {
		t.Errorf("thread 101 is %q, want \"worker one\"", got)
	}
	if got := tab.Comm(100, 100); got != "(a) b)" {
		t.Errorf("process 100 is %q, want \"(a) b)\"", got)
	}
}
