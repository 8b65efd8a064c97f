package unwind

import (
	"debug/elf"
	"sort"
	"strings"

	"otrace/runtime/process"
	"otrace/runtime/symbols"
)

// module is one executable mapping of a process and the CFI behind it.
type module struct {
	start, end uint64
	m          process.Mapping
	loaded     bool
	table      *Table // nil: no CFI (anonymous memory, JIT code, unreadable file)
	bias       uint64 // link-time address = runtime address + bias
}

// procMaps is a process's executable mappings, sorted by address, as of
// the process model's last change (samples come in time order, so the
// current mappings are those at sample time).
type procMaps struct {
	proc  *process.Process
	nmaps int
	execs uint32
	mods  []module
	last  int
}

const protExec = 4

// proc returns pid's mappings, rebuilt when the model changed.
func (u *Unwinder) proc(pid int32) *procMaps {
	pm := u.procs[pid]
	var p *process.Process
	if u.cfg.Mappings != nil {
		p = u.cfg.Mappings.Process(pid)
	}
	if pm != nil && pm.proc == p && (p == nil || (pm.nmaps == len(p.Maps) && pm.execs == p.Execs)) {
		return pm
	}
	old := pm
	pm = &procMaps{proc: p}
	if p != nil {
		pm.nmaps, pm.execs = len(p.Maps), p.Execs
		for _, m := range p.Maps {
			if m.Unmapped != 0 || m.Prot&protExec == 0 || m.Len == 0 {
				continue
			}
			pm.mods = append(pm.mods, module{start: m.Start, end: m.Start + m.Len, m: m})
		}
		sort.SliceStable(pm.mods, func(i, j int) bool { return pm.mods[i].start < pm.mods[j].start })
		// Keep what was learned of mappings that did not change.
		if old != nil {
			for i := range pm.mods {
				if o := old.find(pm.mods[i].start); o != nil && o.loaded && o.start == pm.mods[i].start &&
					o.end == pm.mods[i].end && o.m.Path == pm.mods[i].m.Path && o.m.Pgoff == pm.mods[i].m.Pgoff {
					pm.mods[i] = *o
				}
			}
		}
	}
	u.procs[pid] = pm
	return pm
}

// find returns the module holding addr, or nil.
func (pm *procMaps) find(addr uint64) *module {
	if pm.last < len(pm.mods) {
		if m := &pm.mods[pm.last]; addr >= m.start && addr < m.end {
			return m
		}
	}
	lo, hi := 0, len(pm.mods)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if pm.mods[mid].start <= addr {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if i := lo - 1; i >= 0 && addr < pm.mods[i].end {
		pm.last = i
		return &pm.mods[i]
	}
	return nil
}

// module returns the loaded module holding addr in s's process: from the
// cache, else from the process model at the sample's time (mappings read
// from /proc carry the scan's time).
func (u *Unwinder) module(pm *procMaps, s *Sample, addr uint64) *module {
	m := pm.find(addr)
	if m == nil {
		if u.cfg.Mappings == nil {
			return nil
		}
		pmap := u.cfg.Mappings.MappingAt(s.PID, addr, s.Time)
		if pmap == nil || pmap.Prot&protExec == 0 {
			return nil
		}
		pm.mods = append(pm.mods, module{start: pmap.Start, end: pmap.Start + pmap.Len, m: *pmap})
		sort.SliceStable(pm.mods, func(i, j int) bool { return pm.mods[i].start < pm.mods[j].start })
		if m = pm.find(addr); m == nil {
			return nil
		}
	}
	if !m.loaded {
		u.load(m)
	}
	return m
}

// load finds the CFI of a module's file.
func (u *Unwinder) load(m *module) {
	m.loaded = true
	path := m.m.Path
	if u.cfg.Files == nil || !(path == "[vdso]" || (strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "//"))) {
		return // anonymous memory, JIT code: frame pointers only
	}
	bin, debug := u.cfg.Files.ELF(symbols.Object{PID: m.m.PID, Path: path, BuildID: m.m.BuildID, Start: m.m.Start, Pgoff: m.m.Pgoff})
	key := bin
	if key == nil {
		key = debug
	}
	if key == nil {
		return
	}
	bias, ok := biasOf(bin, debug, m.start, m.m.Pgoff)
	if !ok {
		return
	}
	t := u.tables[key]
	if t == nil {
		t = TableFromELF(u.arch.arch, bin, debug)
		u.tables[key] = t
		u.stats.Tables++
	}
	m.table, m.bias = t, bias
}

// biasOf is what turns an address of the mapping at start (file offset
// pgoff) into the binary's link-time address: through the PT_LOAD that
// holds the offset. A debug file's offsets are not real: then the mapping
// is taken to be the executable PT_LOAD.
func biasOf(bin, debug *elf.File, start, pgoff uint64) (uint64, bool) {
	const page = 4096
	if bin != nil {
		for _, p := range bin.Progs {
			if p.Type == elf.PT_LOAD && p.Off&^(page-1) <= pgoff && pgoff < p.Off+p.Filesz {
				return pgoff - p.Off + p.Vaddr - start, true
			}
		}
		return 0, false
	}
	if debug == nil {
		return 0, false
	}
	for _, p := range debug.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
			return p.Vaddr&^(page-1) - start, true
		}
	}
	return 0, false
}
