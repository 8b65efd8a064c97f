package procfs

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"
)

// seedLines adds every line of a testdata file to the corpus.
func seedLines(f *testing.F, name string) {
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f.Add(sc.Text())
	}
}

// FuzzMapsLine checks that parseMapsLine never panics and that what it
// accepts prints back, as the kernel prints it, to a line that parses the
// same.
func FuzzMapsLine(f *testing.F) {
	seedLines(f, "maps-bash.txt")
	for _, line := range []string{
		"00400000-00401000 r-xp 00000000 08:01 12  /opt/my app/bin/run me ",
		"7fe720377000-7fe72044a000 r-xp 0000a000 00:01 1024                       /memfd:sealed (deleted)",
		"7ffc8a1f3000-7ffc8a1f5000 r-xp 00000000 00:00 0                          [vdso]",
		"7f7077c98000-7f7077cba000 rw-p 00000000 00:00 0 ",
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
		"00400000-00401000 r-xp 00000000 103:0a 7 /tmp/a\\012b",
		"0-0 ---s 0 0:0 0",
	} {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, err := parseMapsLine([]byte(line))
		if err != nil {
			return
		}
		if m.Prot&protExec != 0 && !maybeExecutable([]byte(line)) {
			t.Fatalf("%q is executable but would be skipped", line)
		}
		if m.End < m.Start || m.Prot > protRead|protWrite|protExec {
			t.Fatalf("%q gave %+v", line, m)
		}
		if len(m.Path) > 0 && m.Path[0] == ' ' {
			t.Fatalf("%q gave a path starting with a space: %q", line, m.Path)
		}
		perms := []byte("---p")
		for i, bit := range [3]uint32{protRead, protWrite, protExec} {
			if m.Prot&bit != 0 {
				perms[i] = "rwx"[i]
			}
		}
		if m.Shared {
			perms[3] = 's'
		}
		again := fmt.Sprintf("%08x-%08x %s %08x %02x:%02x %d %s", m.Start, m.End, perms, m.Offset, m.Major, m.Minor, m.Inode, m.Path)
		m2, err := parseMapsLine([]byte(again))
		if err != nil || m2 != m {
			t.Fatalf("%q gave %+v, printed as %q gives %+v, %v", line, m, again, m2, err)
		}
	})
}

// FuzzStatLine checks that parseStat never panics and that what it
// accepts prints back to a full stat line that parses the same, whatever
// the comm holds.
func FuzzStatLine(f *testing.F) {
	seedLines(f, "stat.txt")
	for _, line := range []string{
		statLine(7, "(a) b)", 'R', 1, 0, 3),
		statLine(8, "x) S 99 99 (", 'S', 2, 0, 1),
		statLine(9, "a\nb", 'S', 1, 0, 1),
		"1 (systemd) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 23 0\n",
		"12 (short) Z 3",
		"12 )x( S 3",
	} {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		st, err := parseStat([]byte(line))
		if err != nil {
			return
		}
		if st.PID <= 0 || st.PPID < 0 || st.Threads < 0 {
			t.Fatalf("%q gave %+v", line, st)
		}
		again := statLine(st.PID, st.Comm, st.State, st.PPID, st.Flags, st.Threads)
		st2, err := parseStat([]byte(again))
		if err != nil || st2 != st {
			t.Fatalf("%q gave %+v, printed as %q gives %+v, %v", line, st, again, st2, err)
		}
	})
}

// FuzzReadBuildID checks that readBuildID never panics on any file and
// returns at most a plausible build-id.
func FuzzReadBuildID(f *testing.F) {
	property := elfNote(le, "GNU\x00", 5, make([]byte, 16), 8)
	f.Add(makeELF(true, le, noteSeg{8, property}, noteSeg{4, gnuBuildID(le, id)}))
	f.Add(makeELF(false, be, noteSeg{4, gnuBuildID(be, id[:16])}))
	f.Add(withNoteSection(makeELF(true, le), true, le, gnuBuildID(le, id)))
	f.Add(withNoteSection(makeELF(false, le), false, le, gnuBuildID(le, id)))
	f.Add([]byte("\x7fELF"))
	// The head of a real executable holds its header, program headers
	// and notes.
	if exe, err := os.Open("/proc/self/exe"); err == nil {
		head := make([]byte, 4096)
		n, _ := io.ReadFull(exe, head)
		exe.Close()
		f.Add(head[:n])
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		id, err := readBuildID(bytes.NewReader(file))
		if err == nil && id != nil && (len(id) == 0 || len(id) > maxBuildID) {
			t.Fatalf("build-id of %d bytes", len(id))
		}
		if err != nil && id != nil {
			t.Fatalf("build-id %x with error %v", id, err)
		}
	})
}
