package procfs

import (
	"bytes"
	"errors"
	"fmt"
)

// stat is what Scan needs from /proc/PID/stat.
type stat struct {
	PID     int32
	Comm    string
	State   byte
	PPID    int32
	Flags   uint64 // the kernel's PF_* flags
	Threads int32  // num_threads; 0 when the line ends before it
}

// pfKthread is the PF_KTHREAD flag of a kernel thread, which has no user
// memory and so no maps.
const pfKthread = 0x00200000

// kernel reports whether the process is a kernel thread.
func (s *stat) kernel() bool { return s.Flags&pfKthread != 0 }

// Indexes of the fields after the comm (state is 0, ppid 1), see proc(5).
const (
	statFlagsField   = 6
	statThreadsField = 17
)

// parseStat parses one /proc/PID/stat line. The comm sits in parentheses
// and may itself hold spaces and ')' (prctl lets a thread name itself
// "(a) b)"), but no field after it holds a ')', so the comm ends at the
// last ')'.
func parseStat(line []byte) (stat, error) {
	var st stat
	open := bytes.IndexByte(line, '(')
	if open < 0 {
		return st, errors.New("no '(' before the comm")
	}
	closing := bytes.LastIndexByte(line, ')')
	if closing < open {
		return st, errors.New("no ')' after the comm")
	}
	pid, ok := parseDec(bytes.TrimRight(line[:open], " "))
	if !ok || pid <= 0 {
		return st, fmt.Errorf("bad pid %q", line[:open])
	}
	st.PID = pid
	st.Comm = string(line[open+1 : closing])

	rest := line[closing+1:]
	for i := 0; i <= statThreadsField; i++ {
		var f []byte
		f, rest = nextField(rest)
		if f == nil {
			if i < 2 {
				return st, fmt.Errorf("line ends %d fields after the comm, need state and ppid", i)
			}
			break
		}
		switch i {
		case 0:
			if len(f) != 1 {
				return st, fmt.Errorf("bad state %q", f)
			}
			st.State = f[0]
		case 1:
			// A pid-namespace's init and kthreadd have ppid 0.
			if st.PPID, ok = parseDec(f); !ok || st.PPID < 0 {
				return st, fmt.Errorf("bad ppid %q", f)
			}
		case statFlagsField:
			if st.Flags, ok = parseUdec(f); !ok {
				return st, fmt.Errorf("bad flags %q", f)
			}
		case statThreadsField:
			if st.Threads, ok = parseDec(f); !ok || st.Threads < 0 {
				return st, fmt.Errorf("bad num_threads %q", f)
			}
		}
	}
	return st, nil
}

// parseTgid finds the Tgid of a /proc/PID/status file; ok is false when
// it has no valid Tgid line. A dead task that is not yet reaped shows
// Tgid 0.
func parseTgid(status []byte) (tgid int32, ok bool) {
	for len(status) > 0 {
		var line []byte
		line, status, _ = bytes.Cut(status, []byte{'\n'})
		if v, found := bytes.CutPrefix(line, []byte("Tgid:")); found {
			tgid, ok = parseDec(bytes.TrimLeft(v, " \t"))
			if !ok || tgid < 0 {
				return 0, false
			}
			return tgid, true
		}
	}
	return 0, false
}

// nextField returns the space-separated field at the start of b (after
// skipping spaces) and what follows it; nil when b holds no more fields.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\n') {
		i++
	}
	if i == len(b) {
		return nil, nil
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\n' {
		j++
	}
	return b[i:j], b[j:]
}

// parseDec parses a decimal int32 that may start with '-'.
func parseDec(b []byte) (int32, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	if v != int64(int32(v)) {
		return 0, false
	}
	return int32(v), true
}
