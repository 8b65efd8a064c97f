package procfs

import (
	"bytes"
	"fmt"
	"strings"
)

// Protection bits of a mapping, as in mmap(2) and PERF_RECORD_MMAP2.
const (
	protRead  = 1
	protWrite = 2
	protExec  = 4
)

// mapsLine is one line of /proc/PID/maps.
type mapsLine struct {
	Start, End   uint64
	Prot         uint32
	Shared       bool // 's' rather than 'p'
	Offset       uint64
	Major, Minor uint32
	Inode        uint64
	// Path is as the kernel prints it: a file path (which may hold spaces,
	// end in " (deleted)", or hold "\012" for a newline), a special name
	// such as "[vdso]" or "[heap]", or "" for anonymous memory.
	Path string
}

// parseMapsLine parses one line of /proc/PID/maps (without its newline):
//
//	7f1c2c021000-7f1c2c16f000 r-xp 00026000 fe:00 326269     /usr/lib/libc.so.6
//
// The path is everything after the inode and the padding that follows it,
// so paths with spaces survive.
func parseMapsLine(line []byte) (mapsLine, error) {
	var m mapsLine
	addr, rest := nextField(line)
	lo, hi, ok := bytes.Cut(addr, []byte{'-'})
	if !ok {
		return m, fmt.Errorf("address range %q has no '-'", addr)
	}
	if m.Start, ok = parseHex(lo); !ok {
		return m, fmt.Errorf("bad start address %q", lo)
	}
	if m.End, ok = parseHex(hi); !ok || m.End < m.Start {
		return m, fmt.Errorf("bad end address %q", hi)
	}

	var perms []byte
	perms, rest = nextField(rest)
	if len(perms) != 4 {
		return m, fmt.Errorf("bad permissions %q", perms)
	}
	for i, bit := range [3]uint32{protRead, protWrite, protExec} {
		switch perms[i] {
		case "rwx"[i]:
			m.Prot |= bit
		case '-':
		default:
			return m, fmt.Errorf("bad permissions %q", perms)
		}
	}
	switch perms[3] {
	case 's':
		m.Shared = true
	case 'p':
	default:
		return m, fmt.Errorf("bad permissions %q", perms)
	}

	var f []byte
	f, rest = nextField(rest)
	if m.Offset, ok = parseHex(f); !ok {
		return m, fmt.Errorf("bad offset %q", f)
	}
	f, rest = nextField(rest)
	major, minor, ok := bytes.Cut(f, []byte{':'})
	var maj, mnr uint64
	if ok {
		maj, ok = parseHex(major)
	}
	if ok {
		mnr, ok = parseHex(minor)
	}
	if !ok || maj > 0xffffffff || mnr > 0xffffffff {
		return m, fmt.Errorf("bad device %q", f)
	}
	m.Major, m.Minor = uint32(maj), uint32(mnr)
	f, rest = nextField(rest)
	if m.Inode, ok = parseUdec(f); !ok {
		return m, fmt.Errorf("bad inode %q", f)
	}

	// The kernel pads the inode column with spaces before the path; the
	// path itself is absolute or bracketed, so it starts after them, and
	// it is kept to the end of the line, trailing spaces included.
	m.Path = string(bytes.TrimLeft(rest, " "))
	return m, nil
}

// maybeExecutable is false for a maps line whose permissions say it is
// not executable, as for most lines: they need no further parsing.
// Anything else, a malformed line included, is left to parseMapsLine.
func maybeExecutable(line []byte) bool {
	_, rest := nextField(line)
	perms, _ := nextField(rest)
	return len(perms) != 4 || perms[2] != '-'
}

// anonymous reports whether the mapping has no file and is not one of the
// kernel's special mappings such as [vdso] and [vsyscall], which
// symbolizers can still use. Named anonymous memory ("[anon:name]",
// "[anon_shmem:name]") counts as anonymous.
func (m *mapsLine) anonymous() bool {
	return m.Path == "" || strings.HasPrefix(m.Path, "[anon")
}

// deleted reports whether the mapped file was unlinked since it was
// mapped, so that its path may name another file or none.
func (m *mapsLine) deleted() bool {
	return m.Inode != 0 && strings.HasSuffix(m.Path, " (deleted)")
}

func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}

func parseUdec(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}
