package stacks

import (
	"runtime"

	"otrace/runtime/event"
	"otrace/runtime/intern"
	"otrace/runtime/unwind"
)

// unwinding is the table's DWARF unwinder and what it reuses per record.
type unwinding struct {
	u      *unwind.Unwinder
	sample unwind.Sample
	out    unwind.Stack
	// The last record unwound and its stack: a handler that reads
	// e.ustack and e.stack unwinds once.
	lastTime uint64
	lastTID  int32
	lastCPU  uint32
	lastID   intern.StackID
	done     bool
}

// Unwound returns the id of rec's user stack unwound from the registers
// and stack copy it carries (a DwarfStack event), with the process
// model's mappings at the record's time and the resolver's files; 0 when
// rec has none. It runs when a handler asks for the stack, on the
// dispatch goroutine, while rec's copy is still valid.
func (t *Table) Unwound(rec *event.Record) intern.StackID {
	if rec.UserRegs == nil {
		return 0
	}
	w := t.unwinder()
	if w.u == nil {
		return 0
	}
	if w.done && w.lastTime == rec.Time && w.lastTID == rec.TID && w.lastCPU == rec.CPU {
		return w.lastID
	}
	pcs := t.unwind(w, rec)
	id := intern.StackID(0)
	if len(pcs) > 0 {
		id = t.Intern(false, rec.PID, rec.Time, pcs)
	}
	w.lastTime, w.lastTID, w.lastCPU, w.lastID, w.done = rec.Time, rec.TID, rec.CPU, id, true
	return id
}

// UnwoundPCs returns the code addresses of rec's user stack, leaf first,
// unwound as Unwound does but not interned: what a recording keeps in
// place of the 16 KiB copy. They are valid until the next call; nil when
// rec carries no copy.
func (t *Table) UnwoundPCs(rec *event.Record) []uint64 {
	if rec.UserRegs == nil {
		return nil
	}
	w := t.unwinder()
	if w.u == nil {
		return nil
	}
	w.done = false // the PCs are not interned: no id to reuse
	return t.unwind(w, rec)
}

func (t *Table) unwind(w *unwinding, rec *event.Record) []uint64 {
	w.sample = unwind.Sample{PID: rec.PID, Time: rec.Time, Regs: rec.UserRegs, RegsMask: rec.UserRegsMask, Stack: rec.UserStack}
	w.u.Unwind(&w.sample, &w.out)
	w.sample.Regs, w.sample.Stack = nil, nil // they alias the collector's buffer
	return w.out.PCs
}

// UnwindStats returns what the unwinder did: stacks, frames by how they
// were recovered, and why stacks ended.
func (t *Table) UnwindStats() unwind.Stats {
	if t.uw == nil || t.uw.u == nil {
		return unwind.Stats{}
	}
	return t.uw.u.Stats()
}

func (t *Table) unwinder() *unwinding {
	if t.uw == nil {
		cfg := unwind.Config{Arch: unwind.ParseArch(runtime.GOARCH), Mappings: t.procs}
		if f, ok := t.res.(unwind.Files); ok {
			cfg.Files = f
		}
		t.uw = &unwinding{u: unwind.New(cfg)}
	}
	return t.uw
}
