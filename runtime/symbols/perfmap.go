package symbols

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// perfMap is one process's /tmp/perf-PID.map, the symbol file that JIT
// runtimes (V8, the JVM with perf-map-agent, .NET, LuaJIT, Python 3.12)
// append to: one "START SIZE name" line per compiled function, hex.
type perfMap struct {
	f        *os.File
	path     string
	consumed int64 // bytes of complete lines read
	jitTable       // its lines, painted: later lines win where ranges overlap
	cache    map[uint64][]Frame
	lastOpen time.Time
	refused  bool
}

const (
	jitModule = "[jit]"
	// perfMapRetry spaces attempts to open a perf map that is not there
	// (yet): runtimes create it at their first compiled function.
	perfMapRetry = time.Second
	// maxPerfMapLine bounds one line; longer lines are skipped.
	maxPerfMapLine = 64 << 10
)

// JIT resolves addr through the functions AddJIT announced for process
// pid, then through its perf map, read through /proc/PID/root/tmp/ so
// maps written inside containers are found (under the process's own pid
// in its namespace, then the host pid). The map is
// used only when root or the process's user owns it, as perf does;
// otherwise a Notice says so and nothing resolves. The file is re-read when
// it grew. ok is false when no entry covers addr (the frame is then an
// unknown one).
func (r *Resolver) JIT(pid int32, addr uint64) (fr []Frame, ok bool) {
	r.stats.Lookups++
	if t := r.jits[pid]; t != nil {
		if fr, ok := t.cache[addr]; ok {
			r.stats.CacheHits++
			return fr, true
		}
		if f := t.frame(addr); f.Func != "" {
			fr := []Frame{f}
			t.cache[addr] = fr
			return fr, true
		}
	}
	pm := r.perfMapFor(pid, false)
	if pm == nil || pm.f == nil {
		r.stats.Unresolved++
		return []Frame{{Addr: addr, Module: "[unknown]"}}, false
	}
	if fr, ok := pm.cache[addr]; ok {
		r.stats.CacheHits++
		return fr, true
	}
	if err := pm.refresh(); err != nil {
		r.stats.Failures++
	}
	fr = []Frame{pm.frame(addr)}
	if fr[0].Func == "" {
		// Not cached: the line for it may be written later.
		r.stats.Unresolved++
		return fr, false
	}
	pm.cache[addr] = fr
	return fr, true
}

// perfMapFor returns pid's perf map, opening it when it is not open yet
// (at most once per perfMapRetry).
func (r *Resolver) perfMapFor(pid int32, prepare bool) *perfMap {
	pm := r.perfMaps[pid]
	if pm == nil {
		pm = &perfMap{cache: map[uint64][]Frame{}}
		r.perfMaps[pid] = pm
	} else if pm.f != nil || pm.refused || time.Since(pm.lastOpen) < perfMapRetry {
		return pm
	}
	pm.lastOpen = time.Now()
	r.openPerfMap(pm, pid)
	if pm.f != nil && !prepare {
		if err := pm.refresh(); err != nil {
			r.stats.Failures++
		}
	}
	return pm
}

func (r *Resolver) openPerfMap(pm *perfMap, pid int32) {
	pidDir := filepath.Join(r.opts.ProcRoot, strconv.Itoa(int(pid)))
	uids, nspid := readStatus(filepath.Join(pidDir, "status"))
	if uids == nil {
		// The process is gone: trust what perf trusts, root and us.
		uids = []int{os.Geteuid()}
	}
	var paths []string
	if nspid > 0 && nspid != int(pid) {
		paths = append(paths, filepath.Join(pidDir, "root", "tmp", "perf-"+strconv.Itoa(nspid)+".map"))
	}
	paths = append(paths, filepath.Join(pidDir, "root", "tmp", "perf-"+strconv.Itoa(int(pid))+".map"))
	if r.opts.ProcRoot == "/proc" {
		paths = append(paths, "/tmp/perf-"+strconv.Itoa(int(pid))+".map")
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			f.Close()
			continue
		}
		if owner, known := fileOwner(fi); known && owner != 0 && !containsInt(uids, owner) {
			f.Close()
			pm.refused = true
			r.notice("perfmap:"+p, "symbols: ignoring %s: owned by uid %d, not by root or the process's user (uid %v), as perf does; chown it to fix", p, owner, uids)
			return
		}
		r.stats.Opened++
		pm.f, pm.path = f, p
		return
	}
}

// readStatus returns the real and effective uids and the innermost
// namespace pid of a process from /proc/PID/status; nil uids when it
// cannot be read.
func readStatus(path string) (uids []int, nspid int) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		switch key {
		case "Uid":
			for _, f := range fields[:min(2, len(fields))] {
				if u, err := strconv.Atoi(f); err == nil {
					uids = append(uids, u)
				}
			}
		case "NSpid":
			if len(fields) > 0 {
				nspid, _ = strconv.Atoi(fields[len(fields)-1])
			}
		}
	}
	return uids, nspid
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// refresh reads what was appended since the last read; a file that
// shrank (rewritten) is read again from the start.
func (pm *perfMap) refresh() error {
	fi, err := pm.f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if size == pm.consumed {
		return nil
	}
	if size < pm.consumed {
		pm.consumed, pm.entries = 0, nil
	}
	n, err := pm.readLines(io.NewSectionReader(pm.f, pm.consumed, size-pm.consumed))
	pm.consumed += n
	pm.rebuild()
	return err
}

// readLines adds the entries of every complete line in rd and returns the
// bytes those lines took; a last line without its newline is left for the
// next read (the runtime may be writing it).
func (pm *perfMap) readLines(rd io.Reader) (int64, error) {
	br := bufio.NewReaderSize(rd, maxPerfMapLine)
	var consumed int64
	skipping := false
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			consumed += int64(len(line))
			skipping = true
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			if skipping {
				consumed += int64(len(line))
			}
			return consumed, err
		}
		consumed += int64(len(line))
		if skipping {
			skipping = false
			continue
		}
		if e, ok := parsePerfMapLine(line); ok {
			pm.entries = append(pm.entries, e)
		}
	}
}

// parsePerfMapLine parses "START SIZE name" (hex, 0x optional).
func parsePerfMapLine(line []byte) (jitEntry, bool) {
	line = bytes.TrimRight(line, "\r\n")
	startEnd := bytes.IndexByte(line, ' ')
	if startEnd <= 0 {
		return jitEntry{}, false
	}
	rest := line[startEnd+1:]
	sizeEnd := bytes.IndexByte(rest, ' ')
	if sizeEnd <= 0 {
		return jitEntry{}, false
	}
	start, ok1 := parseHex(line[:startEnd])
	size, ok2 := parseHex(rest[:sizeEnd])
	name := strings.TrimSpace(string(rest[sizeEnd+1:]))
	if !ok1 || !ok2 || name == "" {
		return jitEntry{}, false
	}
	end := start + size
	if end < start {
		end = ^uint64(0)
	}
	return jitEntry{start: start, end: end, name: name}, true
}

// rebuild paints the entries again and drops cached answers.
func (pm *perfMap) rebuild() {
	clear(pm.cache)
	pm.paint()
}
