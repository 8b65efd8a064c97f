package unwind

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"otrace/runtime/process"
	"otrace/runtime/symbols"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixtureFiles opens mapped files by base name from testdata: the
// fixtures stand in for the files a snapshot's process mapped.
type fixtureFiles struct {
	t     testing.TB
	files map[string]*elf.File
	opens int
}

func newFixtureFiles(t testing.TB) *fixtureFiles {
	return &fixtureFiles{t: t, files: map[string]*elf.File{}}
}

func (f *fixtureFiles) ELF(obj symbols.Object) (*elf.File, *elf.File) {
	name := filepath.Base(obj.Path)
	if ef, ok := f.files[name]; ok {
		return ef, nil
	}
	ef, err := elf.Open(filepath.Join("testdata", name))
	if err != nil {
		ef = nil
	}
	f.opens++
	f.files[name] = ef
	return ef, nil
}

func openFixture(t testing.TB, name string) *elf.File {
	t.Helper()
	ef, err := elf.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ef.Close() })
	return ef
}

// snapshot is testdata/snap.state: what snap's leaf saw of itself.
type snapshot struct {
	rip, rsp, rbp, rbx, r12, r13, r14, r15 uint64
	stack                                  []byte
	maps                                   []process.Mmap
}

func readSnapshot(t testing.TB) *snapshot {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "snap.state"))
	if err != nil {
		t.Fatal(err)
	}
	s := &snapshot{}
	rd := bufio.NewReader(bytes.NewReader(data))
	line, _ := rd.ReadString('\n')
	f := strings.Fields(line)
	if len(f) != 9 || f[0] != "regs" {
		t.Fatalf("snap.state: bad regs line %q", line)
	}
	vals := make([]uint64, 8)
	for i := range vals {
		if vals[i], err = strconv.ParseUint(f[i+1], 16, 64); err != nil {
			t.Fatal(err)
		}
	}
	s.rip, s.rsp, s.rbp, s.rbx, s.r12, s.r13, s.r14, s.r15 = vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6], vals[7]
	line, _ = rd.ReadString('\n')
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "stack ")))
	if err != nil {
		t.Fatal(err)
	}
	s.stack = make([]byte, n)
	if _, err := io.ReadFull(rd, s.stack); err != nil {
		t.Fatal(err)
	}
	rd.ReadString('\n')
	for {
		line, err := rd.ReadString('\n')
		if line == "" || err != nil {
			break
		}
		// map START-END PERMS OFF DEV INODE PATH
		f := strings.Fields(line)
		if len(f) < 6 || f[0] != "map" {
			continue
		}
		lo, hi, _ := strings.Cut(f[1], "-")
		start, _ := strconv.ParseUint(lo, 16, 64)
		end, _ := strconv.ParseUint(hi, 16, 64)
		off, _ := strconv.ParseUint(f[3], 16, 64)
		prot := uint32(0)
		if strings.Contains(f[2], "x") {
			prot |= protExec
		}
		path := ""
		if len(f) > 6 {
			path = f[6]
		}
		s.maps = append(s.maps, process.Mmap{PID: 100, Start: start, Len: end - start, Pgoff: off, Prot: prot, Path: path})
	}
	return s
}

// sample makes the perf sample of the snapshot: the x86-64 registers in
// perf's order, as the collector asks for them.
func (s *snapshot) sample() *Sample {
	regs := make([]uint64, 0, 17)
	mask := PerfRegsMask(AMD64)
	for bit := 0; bit < 24; bit++ {
		if mask&(1<<bit) == 0 {
			continue
		}
		v := uint64(0)
		switch bit {
		case 1:
			v = s.rbx
		case 6:
			v = s.rbp
		case 7:
			v = s.rsp
		case 8:
			v = s.rip
		case 20:
			v = s.r12
		case 21:
			v = s.r13
		case 22:
			v = s.r14
		case 23:
			v = s.r15
		}
		regs = append(regs, v)
	}
	return &Sample{PID: 100, Time: 10, Regs: regs, RegsMask: mask, Stack: s.stack}
}

func (s *snapshot) procs() *process.Table {
	t := process.NewTable()
	t.AddComm(process.Comm{PID: 100, TID: 100, Comm: "snap"})
	for _, m := range s.maps {
		t.AddMmap(m)
	}
	return t
}

// symtab names fixture addresses.
type symtab struct {
	syms []elf.Symbol
}

func newSymtab(t testing.TB, ef *elf.File) *symtab {
	syms, err := ef.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var fns []elf.Symbol
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC || (elf.ST_TYPE(s.Info) == elf.STT_NOTYPE && s.Section != elf.SHN_UNDEF && s.Value != 0) {
			fns = append(fns, s)
		}
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].Value < fns[j].Value })
	return &symtab{syms: fns}
}

func (st *symtab) name(vaddr uint64) string {
	i := sort.Search(len(st.syms), func(i int) bool { return st.syms[i].Value > vaddr }) - 1
	if i < 0 {
		return "?"
	}
	return st.syms[i].Name
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s--- want\n%s", name, got, want)
	}
}

var le = binary.LittleEndian
