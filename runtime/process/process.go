// Package process owns otrace's model of processes and threads over time:
// which thread belongs to which process, what each is called (comm), who
// forked it, when it started and exited, and which files were mapped where.
// It is fed in time order by the session from the collector's COMM, FORK,
// EXIT and MMAP records (and, live, from /proc at start), and kept after a
// process exits so late symbolization can still find its mappings.
package process

// Comm says a thread is now called Comm; Exec is set when it came from an
// exec (a new program image), which also drops the old mappings.
type Comm struct {
	Time     uint64
	PID, TID int32
	Comm     string
	Exec     bool
}

// Fork says thread TID of process PID was created by thread PTID of PPID.
type Fork struct {
	Time       uint64
	PID, TID   int32
	PPID, PTID int32
}

// Exit says thread TID of process PID exited.
type Exit struct {
	Time     uint64
	PID, TID int32
}

// Mmap says a file (or anonymous memory) was mapped into process PID.
type Mmap struct {
	Time    uint64
	PID     int32
	Start   uint64
	Len     uint64
	Pgoff   uint64
	Prot    uint32
	Path    string
	BuildID []byte
}

// Thread is what the model knows of one thread.
type Thread struct {
	TID, PID int32
	Comm     string
	Start    uint64 // 0 when it predates the trace
	Exit     uint64 // 0 while alive
}

// Process is what the model knows of one process.
type Process struct {
	PID, PPID int32
	Comm      string
	Start     uint64
	Exit      uint64
	// Maps lists every mapping seen, in the order they appeared; a mapping
	// from before an exec, or covered by a later one, has Unmapped set to
	// the time it stopped being valid.
	Maps []Mapping
	// Execs counts the execs seen: stacks taken in different images of one
	// process are different address spaces.
	Execs uint32
	// Exe is the path of the executable the process runs, as mapped.
	Exe string
}

// Mapping is an Mmap together with the time it stopped being valid.
type Mapping struct {
	Mmap
	Unmapped uint64 // 0 while valid
}

// Table is the model. It is not safe for concurrent use: the session's
// dispatch goroutine owns it.
type Table struct {
	threads map[int32]*Thread
	procs   map[int32]*Process
}

// NewTable returns an empty model.
func NewTable() *Table {
	return &Table{threads: map[int32]*Thread{}, procs: map[int32]*Process{}}
}

func (t *Table) thread(pid, tid int32) *Thread {
	th := t.threads[tid]
	if th == nil {
		th = &Thread{TID: tid, PID: pid}
		t.threads[tid] = th
	}
	if pid > 0 {
		th.PID = pid
	}
	return th
}

func (t *Table) process(pid int32) *Process {
	p := t.procs[pid]
	if p == nil {
		p = &Process{PID: pid}
		t.procs[pid] = p
	}
	return p
}

// AddComm applies a Comm record.
func (t *Table) AddComm(c Comm) {
	th := t.thread(c.PID, c.TID)
	th.Comm = c.Comm
	if c.PID == c.TID || c.PID <= 0 {
		p := t.process(th.PID)
		p.Comm = c.Comm
		if c.Exec {
			p.Execs++
			p.Exe = ""
			for i := range p.Maps {
				if p.Maps[i].Unmapped == 0 {
					p.Maps[i].Unmapped = c.Time
				}
			}
		}
	}
}

// AddFork applies a Fork record: the child inherits its parent's name and,
// when it is a new process, its mappings.
func (t *Table) AddFork(f Fork) {
	parent := t.threads[f.PTID]
	th := t.thread(f.PID, f.TID)
	th.Start = f.Time
	th.Exit = 0
	if parent != nil {
		th.Comm = parent.Comm
	}
	if f.PID == f.TID && f.PID != f.PPID {
		p := t.process(f.PID)
		p.PPID, p.Start, p.Exit = f.PPID, f.Time, 0
		p.Comm = th.Comm
		if pp := t.procs[f.PPID]; pp != nil {
			p.Exe = pp.Exe
		}
		if pp := t.procs[f.PPID]; pp != nil {
			for _, m := range pp.Maps {
				if m.Unmapped == 0 {
					p.Maps = append(p.Maps, m)
				}
			}
		}
	}
}

// AddExit applies an Exit record. The thread and process stay in the model.
func (t *Table) AddExit(e Exit) {
	th := t.thread(e.PID, e.TID)
	th.Exit = e.Time
	if e.PID == e.TID {
		t.process(e.PID).Exit = e.Time
	}
}

// AddMmap applies an Mmap record. Linux reports no munmap, but a new
// mapping over an old one's range ends the old one (dlclose then dlopen).
func (t *Table) AddMmap(m Mmap) {
	p := t.process(m.PID)
	end := m.Start + m.Len
	for i := range p.Maps {
		o := &p.Maps[i]
		if o.Unmapped == 0 && o.Start < end && m.Start < o.Start+o.Len {
			o.Unmapped = m.Time
		}
	}
	p.Maps = append(p.Maps, Mapping{Mmap: m})
	if p.Exe == "" && m.Prot&protExec != 0 && m.Path != "" && m.Path[0] == '/' {
		p.Exe = m.Path // the first executable file mapped after exec
	}
}

const protExec = 4

// MappingAt returns the mapping that held addr in process pid at time t
// (the last one mapped over it before t), or nil.
func (t *Table) MappingAt(pid int32, addr, time uint64) *Mapping {
	p := t.procs[pid]
	if p == nil {
		return nil
	}
	for i := len(p.Maps) - 1; i >= 0; i-- {
		m := &p.Maps[i]
		if addr < m.Start || addr >= m.Start+m.Len {
			continue
		}
		if m.Time <= time && (m.Unmapped == 0 || time < m.Unmapped) {
			return m
		}
	}
	// Mappings read from /proc at start carry the scan's time, which may be
	// after a sample taken just before it: fall back to any mapping of the
	// address that was never replaced.
	for i := len(p.Maps) - 1; i >= 0; i-- {
		m := &p.Maps[i]
		if addr >= m.Start && addr < m.Start+m.Len && m.Unmapped == 0 {
			return m
		}
	}
	return nil
}

// Comm returns the name of thread tid, falling back to its process's name,
// or "" when unknown.
func (t *Table) Comm(pid, tid int32) string {
	if th := t.threads[tid]; th != nil && th.Comm != "" {
		return th.Comm
	}
	if p := t.procs[pid]; p != nil {
		return p.Comm
	}
	return ""
}

// Thread returns what is known of tid, or nil.
func (t *Table) Thread(tid int32) *Thread { return t.threads[tid] }

// Process returns what is known of pid, or nil.
func (t *Table) Process(pid int32) *Process { return t.procs[pid] }
