package procfs

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"

	"otrace/runtime/process"
)

// Options says what Scan reads.
type Options struct {
	// Root is the procfs mount; "" means "/proc". Tests point it at a copy.
	Root string
	// PIDs limits the scan to these processes and their threads; nil
	// means every process. A thread id stands for its process.
	PIDs []int32
	// Maps asks for an Mmap record per executable mapping.
	Maps bool
	// BuildIDs asks, with Maps, for the GNU build-id of each mapped ELF
	// file; each distinct file is read once per Scan.
	BuildIDs bool
	// Time is the timestamp of every record, usually the trace clock at
	// the scan.
	Time uint64
}

// Visitor receives the records of a Scan; a session.Sink is one. Scan
// never writes to the strings and slices of a record again, so a Visitor
// may keep them.
type Visitor interface {
	Comm(c process.Comm)
	Fork(f process.Fork)
	Mmap(m process.Mmap)
}

// Stats counts what a Scan did and what it could not do.
type Stats struct {
	Processes int // processes with Fork and Comm records
	Threads   int // threads with Fork and Comm records, main threads included
	Mappings  int // Mmap records
	BuildIDs  int // distinct files whose build-id was found
	// Vanished counts processes and threads that exited during the scan:
	// skipped when it happened before their stat or comm was read, and
	// otherwise kept with the records read before it.
	Vanished int
	// Errors counts files that could not be read (permissions) or parsed,
	// and FirstError is the first of them.
	Errors     int
	FirstError error
}

// Scan emits records for the processes that exist now, for a trace that
// only sees what starts after it.
//
// For every process it emits a Fork from its parent (PTID is the parent's
// pid, as the forking thread is unknown) and a Comm; then, for every other
// thread, a Fork from the main thread and a Comm. A parent comes before its
// children, so the parent is known when its child's Fork arrives.
//
// With Options.Maps, the Mmap records follow, after all Forks: a model
// that copies a parent's mappings into a child at Fork, as process.Table
// does, would otherwise give every child its parent's mappings besides its
// own. Only executable mappings of files and the kernel's special mappings
// such as [vdso] are emitted; a Path is as /proc/PID/maps prints it, so an
// unlinked file keeps its " (deleted)" suffix, as in PERF_RECORD_MMAP2.
//
// Scan fails only when it cannot list the processes; a process that exits
// meanwhile, or a file that cannot be read, is counted in Stats.
func Scan(opts Options, visit Visitor) (Stats, error) {
	s := &scanner{opts: opts, visit: visit, root: opts.Root}
	if s.root == "" {
		s.root = "/proc"
	}
	var procs []stat
	var err error
	if opts.PIDs != nil {
		procs = s.listPIDs(opts.PIDs)
	} else if procs, err = s.listAll(); err != nil {
		return s.stats, err
	}
	procs = parentsFirst(procs)
	for i := range procs {
		s.process(&procs[i])
	}
	if opts.Maps {
		for i := range procs {
			if !procs[i].kernel() {
				s.mappings(procs[i].PID)
			}
		}
	}
	return s.stats, nil
}

// scanner is the state of one Scan.
type scanner struct {
	opts  Options
	visit Visitor
	root  string
	stats Stats
	buf   []byte
	ids   map[fileKey][]byte // build-ids by file, nil when none
}

// listAll reads the stat of every process in the root.
func (s *scanner) listAll() ([]stat, error) {
	names, err := readDirNames(s.root)
	if err != nil {
		return nil, fmt.Errorf("procfs: listing processes: %w (is procfs mounted there?)", err)
	}
	procs := make([]stat, 0, len(names))
	for _, name := range names {
		pid, ok := parseDec([]byte(name))
		if !ok || pid <= 0 {
			continue // self, thread-self, cpuinfo, ...
		}
		if st, ok := s.stat(pid); ok {
			procs = append(procs, st)
		}
	}
	return procs, nil
}

// listPIDs reads the stat of the given processes, once each, mapping a
// thread id to its process id.
func (s *scanner) listPIDs(pids []int32) []stat {
	seen := make(map[int32]bool, len(pids))
	procs := make([]stat, 0, len(pids))
	for _, pid := range pids {
		path := s.root + "/" + itoa(pid) + "/status"
		var err error
		if s.buf, err = readFile(path, s.buf, true); err != nil {
			s.fail(err)
			continue
		}
		tgid, ok := parseTgid(s.buf)
		if !ok {
			s.fail(fmt.Errorf("procfs: %s: no Tgid line", path))
			continue
		}
		if tgid == 0 {
			s.stats.Vanished++ // dead, not yet gone: the kernel shows Tgid 0
			continue
		}
		if seen[tgid] {
			continue
		}
		seen[tgid] = true
		if st, ok := s.stat(tgid); ok {
			procs = append(procs, st)
		}
	}
	return procs
}

// stat reads and parses /proc/PID/stat.
func (s *scanner) stat(pid int32) (stat, bool) {
	path := s.root + "/" + itoa(pid) + "/stat"
	var err error
	if s.buf, err = readFile(path, s.buf, true); err != nil {
		s.fail(err)
		return stat{}, false
	}
	st, err := parseStat(s.buf)
	if err == nil && st.PID != pid {
		err = fmt.Errorf("pid %d in the file of pid %d", st.PID, pid)
	}
	if err != nil {
		s.fail(fmt.Errorf("procfs: %s: %w", path, err))
		return stat{}, false
	}
	if st.State == 'X' {
		s.stats.Vanished++ // dead, not yet gone
		return stat{}, false
	}
	return st, true
}

// process emits the Fork and Comm records of a process and its threads.
func (s *scanner) process(st *stat) {
	t := s.opts.Time
	pid := st.PID
	s.visit.Fork(process.Fork{Time: t, PID: pid, TID: pid, PPID: st.PPID, PTID: st.PPID})
	s.visit.Comm(process.Comm{Time: t, PID: pid, TID: pid, Comm: st.Comm})
	s.stats.Processes++
	s.stats.Threads++
	if st.Threads == 1 {
		return // most processes: no need to list the task directory
	}
	dir := s.root + "/" + itoa(pid) + "/task"
	names, err := readDirNames(dir)
	if err != nil {
		s.fail(err)
		return
	}
	tids := make([]int32, 0, len(names))
	for _, name := range names {
		if tid, ok := parseDec([]byte(name)); ok && tid > 0 && tid != pid {
			tids = append(tids, tid)
		}
	}
	slices.Sort(tids)
	for _, tid := range tids {
		path := dir + "/" + itoa(tid) + "/comm"
		if s.buf, err = readFile(path, s.buf, true); err != nil {
			s.fail(err)
			continue
		}
		// The comm file holds the name and a newline, unescaped.
		comm := string(bytes.TrimSuffix(s.buf, []byte{'\n'}))
		s.visit.Fork(process.Fork{Time: t, PID: pid, TID: tid, PPID: pid, PTID: pid})
		s.visit.Comm(process.Comm{Time: t, PID: pid, TID: tid, Comm: comm})
		s.stats.Threads++
	}
}

// fail counts an error: a vanished process or thread, or a real error.
func (s *scanner) fail(err error) {
	if vanished(err) {
		s.stats.Vanished++
		return
	}
	s.stats.Errors++
	if s.stats.FirstError == nil {
		s.stats.FirstError = err
	}
}

// readDirNames lists a directory, unsorted.
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

func itoa(v int32) string { return strconv.FormatInt(int64(v), 10) }
