package replay

import (
	"crypto/sha1"
	_ "embed"
	"fmt"
	"io"
	"math/rand"
	"strconv"

	"otrace/runtime/event"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

// The tracefs formats the fixture declares, copied from a 6.18 x86-64
// kernel's /sys/kernel/tracing/events/sched/*/format.
var (
	//go:embed testdata/sched_switch.format
	schedSwitchFormat []byte
	//go:embed testdata/sched_process_exec.format
	schedExecFormat []byte
	//go:embed testdata/sched_wakeup.format
	schedWakeupFormat []byte
)

// FixtureOptions shapes the recording WriteSchedFixture writes.
type FixtureOptions struct {
	// Switches is the number of sched_switch samples; 0 means 2000.
	Switches int
	// Seed drives every random choice; equal options give equal bytes.
	Seed int64
	// Truncate leaves out the END record, as a recorder killed mid-run
	// would.
	Truncate bool
}

// The fixture's event ids, names and timing.
const (
	fixSwitchID  = 1
	fixExecID    = 2
	fixWakeupID  = 3
	fixProfileID = 4

	fixStart   = 1_000_000_000 // ns, time of the first record
	fixSpan    = 2_000_000_000 // ns the switches are spread over
	fixTick    = 1_000_000_000 / 99
	fixCPUs    = 2
	fixLostCPU = 1
	fixLost    = 42

	// Linux task states as sched_switch reports prev_state.
	stateRunning = 0x00
	stateSleep   = 0x01
	stateDisk    = 0x02
	stateZombie  = 0x20 // an exiting task whose parent has yet to reap it
)

// fixTask is one thread of the fixture's imaginary machine.
type fixTask struct {
	pid, tid int32
	comm     string
	prio     int64
	cpu      int    // the CPU a per-CPU kernel thread is bound to, or -1
	path     string // its executable, "" for kernel threads
	base     uint64 // where the executable is mapped
	state    int64  // how it last left a CPU
	alive    bool
	// exec is the program the task runs once first scheduled after its
	// fork; exiting is set once the task should die at its next switch-out.
	exec    *fixTask
	exiting bool
}

func (t *fixTask) kernel() bool { return t.path == "" }

// WriteSchedFixture writes a deterministic synthetic recording of a busy
// two-CPU machine: META entries; EVENT records for sched:sched_switch,
// sched:sched_process_exec and sched:sched_wakeup (with real tracefs
// formats) and profile:hz:99 (no format); COMM and MMAP records for a
// handful of processes; a bash child that is forked, execs ls and exits; a
// second child that execs sleep; opts.Switches context switches over about
// two seconds from t=1s, with the wakeups that precede them; a LOST record
// on CPU 1; 99 Hz profile samples with short callchains on both CPUs; and
// END unless opts.Truncate. Payloads are laid out through the parsed
// formats' field offsets.
func WriteSchedFixture(w io.Writer, opts FixtureOptions) error {
	if opts.Switches < 0 {
		return fmt.Errorf("replay: fixture with %d switches", opts.Switches)
	}
	if opts.Switches == 0 {
		opts.Switches = 2000
	}
	g, err := newFixture(w, opts)
	if err != nil {
		return err
	}
	if err := g.run(); err != nil {
		return err
	}
	if opts.Truncate {
		return g.w.Flush()
	}
	return g.w.Close()
}

// fixture holds the state of the imaginary machine while it is written.
type fixture struct {
	opts  FixtureOptions
	w     *Writer
	rng   *rand.Rand
	now   uint64
	gap   uint64 // mean time between switches
	err   error
	tasks []*fixTask
	cur   [fixCPUs]*fixTask // running on each CPU
	idle  [fixCPUs]*fixTask
	lost  [fixCPUs]uint64 // dropped before the CPU's next sample
	tick  [fixCPUs]uint64 // next profile sample of each CPU

	switchF, execF, wakeF *event.Format
	p                     payload
	chain                 []uint64
}

func newFixture(w io.Writer, opts FixtureOptions) (*fixture, error) {
	g := &fixture{opts: opts, rng: rand.New(rand.NewSource(opts.Seed)), now: fixStart}
	g.gap = max(fixSpan/uint64(opts.Switches), 64)
	var err error
	for _, f := range []struct {
		dst  **event.Format
		text []byte
	}{{&g.switchF, schedSwitchFormat}, {&g.execF, schedExecFormat}, {&g.wakeF, schedWakeupFormat}} {
		if *f.dst, err = event.ParseFormat("sched", f.text); err != nil {
			return nil, fmt.Errorf("replay: fixture format: %w", err)
		}
	}
	g.w, err = NewWriter(w, map[string]string{
		MetaOtraceVersion:  "fixture",
		MetaHostname:       "fixture-host",
		MetaKernelRelease:  "6.8.0-fixture",
		MetaArch:           "x86_64",
		MetaNumCPU:         strconv.Itoa(fixCPUs),
		MetaStartTime:      "2024-01-02T03:04:05.000000000Z",
		MetaCommandLine:    "otrace record -a -g -e sched:sched_switch -e sched:sched_process_exec -e sched:sched_wakeup -e profile:hz:99",
		"fixture_seed":     strconv.FormatInt(opts.Seed, 10),
		"fixture_switches": strconv.Itoa(opts.Switches),
	})
	if err != nil {
		return nil, err
	}
	for _, d := range []struct {
		id     uint32
		name   string
		format []byte
	}{
		{fixSwitchID, "sched:sched_switch", schedSwitchFormat},
		{fixExecID, "sched:sched_process_exec", schedExecFormat},
		{fixWakeupID, "sched:sched_wakeup", schedWakeupFormat},
		{fixProfileID, "profile:hz:99", nil},
	} {
		system := "sched"
		if d.format == nil {
			system = ""
		}
		if err := g.w.DefineEvent(d.id, d.name, system, d.format); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (g *fixture) run() error {
	g.boot()
	n := g.opts.Switches
	bash, tester := g.task(1200), g.task(2000)
	for i := 0; i < n && g.err == nil; i++ {
		g.at(g.now + g.gap/2 + uint64(g.rng.Int63n(int64(g.gap))) + 1)
		// Short runs may do several of these at one switch.
		if i == n*3/10 {
			g.spawn(bash, 2100, "ls", "/usr/bin/ls", 0x5600_0000_0000)
		}
		if i == n*4/10 {
			g.spawn(tester, 2101, "sleep", "/usr/bin/sleep", 0x5610_0000_0000)
		}
		if i == n/2 {
			g.put(g.w.Lost(session.Lost{Time: g.now, CPU: fixLostCPU, Count: fixLost}))
			g.lost[fixLostCPU] += fixLost
		}
		if i == n*6/10 {
			g.task(2100).exiting = true
		}
		g.switchOn(g.rng.Intn(fixCPUs))
	}
	// A short run may end before the ls child got to exit.
	for cpu, t := range g.cur {
		if t.exiting && g.err == nil {
			g.at(g.now + g.gap)
			g.switchTo(cpu, g.idle[cpu])
		}
	}
	return g.err
}

// boot declares the machine's processes and their mappings at the start.
func (g *fixture) boot() {
	mk := func(pid, tid int32, comm string, prio int64, cpu int, path string, base uint64) *fixTask {
		t := &fixTask{pid: pid, tid: tid, comm: comm, prio: prio, cpu: cpu, path: path, base: base, state: stateSleep, alive: true}
		g.tasks = append(g.tasks, t)
		return t
	}
	g.idle[0] = mk(0, 0, "swapper/0", 120, 0, "", 0)
	g.idle[1] = mk(0, 0, "swapper/1", 120, 1, "", 0)
	g.idle[0].state, g.idle[1].state = stateRunning, stateRunning
	g.cur = g.idle
	mk(1, 1, "systemd", 120, -1, "/usr/lib/systemd/systemd", 0x5580_0000_0000)
	mk(25, 25, "kworker/0:1", 120, 0, "", 0)
	mk(31, 31, "kworker/1:0", 120, 1, "", 0)
	mk(1200, 1200, "bash", 120, -1, "/usr/bin/bash", 0x55d0_0000_0000)
	mk(1300, 1300, "postgres", 120, -1, "/usr/lib/postgresql/16/bin/postgres", 0x55e0_0000_0000)
	mk(1300, 1301, "postgres", 120, -1, "/usr/lib/postgresql/16/bin/postgres", 0x55e0_0000_0000)
	mk(1400, 1400, "nginx", 120, -1, "/usr/sbin/nginx", 0x55f0_0000_0000)
	mk(2000, 2000, "otrace-test", 100, -1, "/usr/local/bin/otrace-test", 0x5620_0000_0000)
	for cpu := range g.tick {
		g.tick[cpu] = fixStart + uint64(cpu)*fixTick/2 + fixTick/4
	}
	for _, t := range g.tasks {
		if t == g.idle[1] { // pid 0 like swapper/0: one COMM for both
			continue
		}
		g.put(g.w.Comm(process.Comm{Time: g.now, PID: t.pid, TID: t.tid, Comm: t.comm}))
		if !t.kernel() && t.pid == t.tid {
			g.mmap(t)
		}
	}
}

func (g *fixture) task(tid int32) *fixTask {
	for _, t := range g.tasks {
		if t.tid == tid && t.pid != 0 {
			return t
		}
	}
	panic("replay: fixture has no task " + strconv.Itoa(int(tid)))
}

func (g *fixture) put(err error) {
	if g.err == nil {
		g.err = err
	}
}

// at moves the clock to t, writing the profile samples due before it.
func (g *fixture) at(t uint64) {
	for g.err == nil {
		cpu := 0
		for c := range g.tick {
			if g.tick[c] < g.tick[cpu] {
				cpu = c
			}
		}
		if g.tick[cpu] > t {
			break
		}
		g.now = g.tick[cpu]
		g.profile(cpu)
		g.tick[cpu] += fixTick
	}
	g.now = t
}

// spawn forks a child of parent that will exec path when it first runs.
func (g *fixture) spawn(parent *fixTask, pid int32, comm, path string, base uint64) {
	child := &fixTask{pid: pid, tid: pid, comm: parent.comm, prio: parent.prio, cpu: -1, path: parent.path, base: parent.base, state: stateRunning, alive: true}
	child.exec = &fixTask{comm: comm, path: path, base: base}
	g.tasks = append(g.tasks, child)
	g.put(g.w.Fork(process.Fork{Time: g.now, PID: pid, TID: pid, PPID: parent.pid, PTID: parent.tid}))
}

// switchOn picks what runs next on cpu and switches to it, waking it first
// if it was asleep.
func (g *fixture) switchOn(cpu int) {
	next := g.pick(cpu)
	if next.state != stateRunning {
		other := g.cur[1-cpu]
		g.p.start(g.wakeF, other.tid)
		g.p.str("comm", next.comm)
		g.p.int("pid", int64(next.tid))
		g.p.int("prio", next.prio)
		g.p.int("target_cpu", int64(cpu))
		g.sample(fixWakeupID, uint32(1-cpu), other, nil)
		next.state = stateRunning
		g.at(g.now + 1 + uint64(g.rng.Int63n(int64(g.gap/4))))
	}
	g.switchTo(cpu, next)
}

// pick chooses the next task for cpu: a dying task first, so it gets to
// exit; otherwise idle now and then, else any task that may run there.
func (g *fixture) pick(cpu int) *fixTask {
	prev := g.cur[cpu]
	var cands []*fixTask
	for _, t := range g.tasks {
		if !t.alive || t == prev || t == g.cur[1-cpu] || t.pid == 0 || (t.cpu >= 0 && t.cpu != cpu) {
			continue
		}
		if t.exiting {
			return t
		}
		cands = append(cands, t)
	}
	if len(cands) == 0 || (prev != g.idle[cpu] && g.rng.Intn(100) < 15) {
		return g.idle[cpu]
	}
	return cands[g.rng.Intn(len(cands))]
}

// switchTo writes the sched_switch from cpu's current task to next, and
// what the switch implies: the exit of a dying task, the exec of a new one.
func (g *fixture) switchTo(cpu int, next *fixTask) {
	prev := g.cur[cpu]
	switch r := g.rng.Intn(100); {
	case prev.pid == 0:
		prev.state = stateRunning
	case prev.exiting:
		prev.state = stateZombie
		prev.alive, prev.exiting = false, false
		g.put(g.w.Exit(process.Exit{Time: g.now, PID: prev.pid, TID: prev.tid}))
	case r < 55:
		prev.state = stateSleep
	case r < 65:
		prev.state = stateDisk
	default:
		prev.state = stateRunning // preempted
	}
	g.p.start(g.switchF, prev.tid)
	g.p.str("prev_comm", prev.comm)
	g.p.int("prev_pid", int64(prev.tid))
	g.p.int("prev_prio", prev.prio)
	g.p.int("prev_state", prev.state)
	g.p.str("next_comm", next.comm)
	g.p.int("next_pid", int64(next.tid))
	g.p.int("next_prio", next.prio)
	g.sample(fixSwitchID, uint32(cpu), prev, nil)
	g.cur[cpu] = next
	if next.exec != nil {
		g.execute(cpu, next)
	}
}

// execute runs a forked child's exec right after it first got a CPU.
func (g *fixture) execute(cpu int, t *fixTask) {
	img := t.exec
	t.exec = nil
	t.comm, t.path, t.base = img.comm, img.path, img.base
	g.at(g.now + 1 + g.gap/8)
	g.put(g.w.Comm(process.Comm{Time: g.now, PID: t.pid, TID: t.tid, Comm: t.comm, Exec: true}))
	g.p.start(g.execF, t.tid)
	g.p.dataLoc("filename", t.path)
	g.p.int("pid", int64(t.pid))
	g.p.int("old_pid", int64(t.pid))
	g.sample(fixExecID, uint32(cpu), t, nil)
	g.mmap(t)
}

func (g *fixture) mmap(t *fixTask) {
	id := sha1.Sum([]byte(t.path))
	g.put(g.w.Mmap(process.Mmap{
		Time: g.now, PID: t.pid, Start: t.base, Len: 0x10_0000, Pgoff: 0,
		Prot: 5, // PROT_READ|PROT_EXEC
		Path: t.path, BuildID: id[:],
	}))
}

// profile writes a 99 Hz sample of what runs on cpu, with a callchain of
// two to five frames in its executable (or the kernel).
func (g *fixture) profile(cpu int) {
	t := g.cur[cpu]
	base, span := t.base+0x1000, uint64(0xf_0000)
	if t.kernel() {
		base, span = 0xffff_ffff_8100_0000, 0x80_0000
	}
	g.chain = g.chain[:0]
	for range 2 + g.rng.Intn(4) {
		g.chain = append(g.chain, base+uint64(g.rng.Int63n(int64(span))))
	}
	g.p.b = g.p.b[:0]
	g.sample(fixProfileID, uint32(cpu), t, g.chain)
}

// sample writes the payload built in g.p as a sample of t on cpu, with
// the CPU's pending loss.
func (g *fixture) sample(id uint32, cpu uint32, t *fixTask, chain []uint64) {
	if g.p.err != nil {
		g.put(g.p.err)
		return
	}
	g.put(g.w.Sample(id, g.now, cpu, t.pid, t.tid, g.lost[cpu], chain, g.p.b))
	g.lost[cpu] = 0
}

// payload builds a tracepoint's raw bytes through its format's fields.
type payload struct {
	f   *event.Format
	b   []byte
	err error
}

// start begins a payload of format f whose common_pid is pid.
func (p *payload) start(f *event.Format, pid int32) {
	size := 0
	for _, fld := range f.Fields {
		size = max(size, fld.Offset+fld.Size)
	}
	p.f = f
	p.b = append(p.b[:0], make([]byte, size)...)
	p.int("common_type", int64(f.ID))
	p.int("common_flags", 1) // interrupts were off, as in the scheduler
	p.int("common_pid", int64(pid))
}

func (p *payload) field(name string, kinds ...event.Kind) *event.Field {
	fld := p.f.Field(name)
	if fld == nil {
		p.fail("has no field %s", name)
		return nil
	}
	for _, k := range kinds {
		if fld.Kind == k {
			return fld
		}
	}
	p.fail("field %s is a %s", name, fld.Kind)
	return nil
}

func (p *payload) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("replay: fixture: format %s %s", p.f.Name, fmt.Sprintf(format, args...))
	}
}

func (p *payload) int(name string, v int64) {
	fld := p.field(name, event.Scalar)
	if fld == nil {
		return
	}
	b := p.b[fld.Offset:]
	switch fld.Size {
	case 1:
		b[0] = byte(v)
	case 2:
		le.PutUint16(b, uint16(v))
	case 4:
		le.PutUint32(b, uint32(v))
	case 8:
		le.PutUint64(b, uint64(v))
	default:
		p.fail("field %s has size %d", name, fld.Size)
	}
}

// str fills a char array, leaving at least one NUL as the kernel does.
func (p *payload) str(name, s string) {
	if fld := p.field(name, event.Array); fld != nil {
		copy(p.b[fld.Offset:fld.Offset+fld.Size-1], s)
	}
}

// dataLoc appends s and its NUL after the fixed fields and points the
// __data_loc locator (length << 16 | offset) at it.
func (p *payload) dataLoc(name, s string) {
	fld := p.field(name, event.DataLoc)
	if fld == nil {
		return
	}
	off := len(p.b)
	p.b = append(append(p.b, s...), 0)
	le.PutUint32(p.b[fld.Offset:], uint32(len(s)+1)<<16|uint32(off))
}
