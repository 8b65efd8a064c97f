package procfs

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"otrace/runtime/process"
)

// recorder keeps the records of a Scan as readable one-line strings.
type recorder struct {
	lines []string
	recs  []any
}

func (r *recorder) Comm(c process.Comm) {
	r.recs = append(r.recs, c)
	r.lines = append(r.lines, fmt.Sprintf("comm %d/%d %q", c.PID, c.TID, c.Comm))
}

func (r *recorder) Fork(f process.Fork) {
	r.recs = append(r.recs, f)
	r.lines = append(r.lines, fmt.Sprintf("fork %d/%d from %d/%d", f.PID, f.TID, f.PPID, f.PTID))
}

func (r *recorder) Mmap(m process.Mmap) {
	r.recs = append(r.recs, m)
	r.lines = append(r.lines, fmt.Sprintf("mmap %d %#x+%#x @%#x prot %d %q %x", m.PID, m.Start, m.Len, m.Pgoff, m.Prot, m.Path, m.BuildID))
}

// diffLines reports where got and want first differ, with both in full.
func diffLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("record %d:\n got: %s\nwant: %s", i, g, w)
			break
		}
	}
	t.Logf("got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
}

// statLine formats a /proc/PID/stat line with all 52 fields, as Linux 6
// prints it.
func statLine(pid int32, comm string, state byte, ppid int32, flags uint64, threads int32) string {
	return fmt.Sprintf("%d (%s) %s %d %d %d 0 -1 %d 120 0 0 0 1 2 0 0 20 0 %d 0 4242 8192000 500 "+
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		pid, comm, []byte{state}, ppid, pid, pid, flags, threads)
}

// tree writes files under a temporary directory standing for /proc: each
// key is a path relative to it, each value the contents; a key ending in
// "/" makes a directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, data := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			must(t, os.MkdirAll(path, 0o755))
			continue
		}
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(t, os.WriteFile(path, []byte(data), 0o644))
	}
	return root
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// noteSeg is one PT_NOTE segment of a made-up ELF file.
type noteSeg struct {
	align uint64
	data  []byte
}

// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// elfNote encodes one note, padding name and desc to pad bytes.
func elfNote(order byteOrder, name string, typ uint32, desc []byte, pad int) []byte {
	b := order.AppendUint32(nil, uint32(len(name)))
	b = order.AppendUint32(b, uint32(len(desc)))
	b = order.AppendUint32(b, typ)
	b = append(b, name...)
	for len(b)%pad != 0 {
		b = append(b, 0)
	}
	b = append(b, desc...)
	for len(b)%pad != 0 {
		b = append(b, 0)
	}
	return b
}

// gnuBuildID is a GNU build-id note padded to 4.
func gnuBuildID(order byteOrder, id []byte) []byte {
	return elfNote(order, "GNU\x00", ntGNUBuildID, id, 4)
}

// makeELF builds an ELF file that has an ELF header, a PT_LOAD and one
// PT_NOTE per segment, and the segments' data after them.
func makeELF(is64 bool, order byteOrder, segs ...noteSeg) []byte {
	ehsize, phentsize := 52, 32
	if is64 {
		ehsize, phentsize = 64, 56
	}
	phnum := 1 + len(segs)
	b := make([]byte, ehsize+phnum*phentsize)
	copy(b, "\x7fELF")
	b[4], b[5], b[6] = 1, 1, 1 // ELFCLASS32, ELFDATA2LSB, EV_CURRENT
	if is64 {
		b[4] = 2
	}
	if order == binary.BigEndian {
		b[5] = 2
	}
	order.PutUint16(b[16:], 3) // ET_DYN
	if is64 {
		order.PutUint64(b[0x20:], uint64(ehsize))
		order.PutUint16(b[0x36:], uint16(phentsize))
		order.PutUint16(b[0x38:], uint16(phnum))
	} else {
		order.PutUint32(b[0x1c:], uint32(ehsize))
		order.PutUint16(b[0x2a:], uint16(phentsize))
		order.PutUint16(b[0x2c:], uint16(phnum))
	}
	ph := func(i int, typ uint32, off, size, align uint64) {
		p := b[ehsize+i*phentsize:]
		order.PutUint32(p, typ)
		if is64 {
			order.PutUint64(p[0x08:], off)
			order.PutUint64(p[0x20:], size)
			order.PutUint64(p[0x30:], align)
		} else {
			order.PutUint32(p[0x04:], uint32(off))
			order.PutUint32(p[0x10:], uint32(size))
			order.PutUint32(p[0x1c:], uint32(align))
		}
	}
	ph(0, 1, 0, 0, 0x1000) // PT_LOAD
	for i, s := range segs {
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
		ph(1+i, 4, uint64(len(b)), uint64(len(s.data)), s.align)
		b = append(b, s.data...)
	}
	return b
}

// withNoteSection appends notes to an ELF file from makeELF, and a section
// header table (the null section and one SHT_NOTE) that alone points at
// them, the way Go's linker places .note.gnu.build-id.
func withNoteSection(b []byte, is64 bool, order byteOrder, notes []byte) []byte {
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	noteOff := len(b)
	b = append(b, notes...)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	shoff, shentsize := len(b), 40
	if is64 {
		shentsize = 64
	}
	b = append(b, make([]byte, 2*shentsize)...)
	sh := b[shoff+shentsize:]
	order.PutUint32(sh[4:], 7) // SHT_NOTE
	if is64 {
		order.PutUint64(sh[0x18:], uint64(noteOff))
		order.PutUint64(sh[0x20:], uint64(len(notes)))
		order.PutUint64(sh[0x30:], 4)
		order.PutUint64(b[0x28:], uint64(shoff))
		order.PutUint16(b[0x3a:], uint16(shentsize))
		order.PutUint16(b[0x3c:], 2)
	} else {
		order.PutUint32(sh[0x10:], uint32(noteOff))
		order.PutUint32(sh[0x14:], uint32(len(notes)))
		order.PutUint32(sh[0x20:], 4)
		order.PutUint32(b[0x20:], uint32(shoff))
		order.PutUint16(b[0x2e:], uint16(shentsize))
		order.PutUint16(b[0x30:], 2)
	}
	return b
}
