package symbols

import (
	"bytes"
	"cmp"
	"io"
	"os"
	"slices"
	"sort"
)

// kallsyms is the kernel's symbol table, text symbols only, sorted.
type kallsyms struct {
	syms  []ksym
	zero  bool // every address was 0: kptr_restrict hides them
	cache map[uint64][]Frame
	// core answers addresses of the kernel image from the cache file
	// (kallsymscache.go); the first address outside it reads the whole
	// table into syms.
	core *coreSyms
	read bool // kallsyms was read (or failed to read) into syms
}

type ksym struct {
	start, end uint64
	name       string
	module     string // "[kernel.kallsyms]" or "[MODNAME]"
	rank       int8   // T, W, t, w: which alias to keep
}

const kernelModule = "[kernel.kallsyms]"

// lastKernelSpan bounds the last symbol, which has no successor.
const lastKernelSpan = 1 << 20

// Kernel resolves a kernel address through kallsyms (read once, at the
// first call, unless the cache has the kernel image's symbols and the
// address is in it). Unknown addresses, and every address when kallsyms
// shows zeros (kptr_restrict), give a frame with Func "".
func (r *Resolver) Kernel(addr uint64) []Frame {
	r.stats.Lookups++
	k := r.openKallsyms()
	if fr, ok := k.cache[addr]; ok {
		r.stats.CacheHits++
		return fr
	}
	var fr []Frame
	if k.core.covers(addr) {
		fr = []Frame{k.core.frame(addr)}
	} else {
		fr = []Frame{r.readKallsyms().frame(addr)}
	}
	if fr[0].Func == "" {
		r.stats.Unresolved++
	}
	k.cache[addr] = fr
	return fr
}

// openKallsyms sets up the kernel's symbols at the first call: from the
// cache when it has them, else by reading kallsyms (and then caching).
func (r *Resolver) openKallsyms() *kallsyms {
	if r.kernel != nil {
		return r.kernel
	}
	r.kernel = &kallsyms{cache: map[uint64][]Frame{}, core: r.loadKallsymsCache()}
	if r.kernel.core == nil {
		r.readKallsyms()
	}
	return r.kernel
}

// readKallsyms reads the whole of kallsyms, once.
func (r *Resolver) readKallsyms() *kallsyms {
	k := r.kernel
	if k.read {
		return k
	}
	k.read = true
	f, err := os.Open(r.opts.Kallsyms)
	if err != nil {
		r.stats.Failures++
		r.notice("kallsyms", "symbols: cannot read %s (%v): kernel frames stay unresolved", r.opts.Kallsyms, err)
		return k
	}
	defer f.Close()
	t, err := readKallsymsTable(f)
	if err != nil {
		r.stats.Failures++
		r.notice("kallsyms", "symbols: reading %s: %v: kernel frames stay unresolved", r.opts.Kallsyms, err)
	}
	if t.allZero {
		r.notice("kallsyms", "symbols: %s shows only zero addresses (kernel.kptr_restrict): kernel frames stay unresolved; run as root or set kernel.kptr_restrict=0", r.opts.Kallsyms)
		t.syms = nil
	}
	k.syms, k.zero = t.syms, t.allZero
	if err == nil && !t.allZero && k.core == nil {
		r.storeKallsymsCache(t)
	}
	return k
}

func (k *kallsyms) frame(addr uint64) Frame {
	i := sort.Search(len(k.syms), func(i int) bool { return k.syms[i].start > addr }) - 1
	if i < 0 || addr >= k.syms[i].end {
		return Frame{Addr: addr, Module: kernelModule}
	}
	s := &k.syms[i]
	return Frame{Addr: addr, Func: s.name, Offset: addr - s.start, Module: s.module}
}

// parseKallsyms reads /proc/kallsyms lines ("ADDR TYPE NAME [\t[MODULE]]")
// and keeps the text symbols (t, T, w, W). Of aliases it keeps the global
// one with the fewest leading underscores. A symbol ends where the next
// symbol of any type starts. Malformed lines are skipped.
func parseKallsyms(rd io.Reader) (syms []ksym, allZero bool, err error) {
	t, err := readKallsymsTable(rd)
	return t.syms, t.allZero, err
}

// kallsymsTable is what one read of kallsyms gives.
type kallsymsTable struct {
	syms    []ksym
	allZero bool
	// moduleStarts (sorted) are the addresses of every line with a
	// [module] column, of any type, and lastStart is the highest address
	// of any line: what tells the cache which symbols' ends cannot change
	// while the system runs (coreSymbols).
	moduleStarts []uint64
	lastStart    uint64
}

// readKallsymsTable is parseKallsyms with what the cache needs besides.
func readKallsymsTable(rd io.Reader) (t kallsymsTable, err error) {
	// One read of the whole table (5 MB on a distribution kernel), parsed
	// in place: names go to one arena, made a string once. Per-line
	// strings made this 50 ms; the kernel takes about 30 more to print it.
	// /proc/kallsyms reports no size; a distribution kernel's is ~5 MB,
	// read into one buffer that does not grow. Other readers (tests) are
	// small.
	size := 64 << 10
	if _, ok := rd.(*os.File); ok {
		size = 8 << 20
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err = buf.ReadFrom(rd)
	data := buf.Bytes()
	lines := bytes.Count(data, []byte{'\n'}) + 1
	starts := make([]uint64, 0, lines)
	type named struct {
		ksym
		off, n int32 // the name in arena
	}
	found := make([]named, 0, lines)
	arena := make([]byte, 0, len(data)/3)
	modules := map[string]string{}
	allZero := true
	var moduleStarts []uint64
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		addrEnd := indexSpace(line, 0)
		if addrEnd <= 0 || addrEnd > 16 || addrEnd+3 > len(line) || line[addrEnd+2] != ' ' {
			continue
		}
		addr, ok := parseHex(line[:addrEnd])
		if !ok {
			continue
		}
		starts = append(starts, addr)
		if addr != 0 {
			allZero = false
		}
		rank := int8(-1)
		switch line[addrEnd+1] {
		case 'T':
			rank = 0
		case 'W':
			rank = 1
		case 't':
			rank = 2
		case 'w':
			rank = 3
		}
		rest := line[addrEnd+3:]
		nameEnd := indexSpace(rest, 0)
		if nameEnd < 0 {
			nameEnd = len(rest)
		}
		m := trimSpace(rest[nameEnd:])
		inModule := len(m) > 2 && m[0] == '[' && m[len(m)-1] == ']'
		if inModule {
			moduleStarts = append(moduleStarts, addr)
		}
		if rank < 0 || nameEnd == 0 {
			continue
		}
		module := kernelModule
		if inModule {
			if s, ok := modules[string(m)]; ok {
				module = s
			} else {
				module = string(m)
				modules[module] = module
			}
		}
		found = append(found, named{ksym: ksym{start: addr, module: module, rank: rank}, off: int32(len(arena)), n: int32(nameEnd)})
		arena = append(arena, rest[:nameEnd]...)
	}
	if len(starts) == 0 {
		allZero = false
	}
	names := string(arena)
	syms := make([]ksym, len(found))
	for i := range found {
		syms[i] = found[i].ksym
		syms[i].name = names[found[i].off : found[i].off+found[i].n]
	}
	slices.Sort(starts)
	slices.Sort(moduleStarts)
	if len(starts) > 0 {
		t.lastStart = starts[len(starts)-1]
	}
	slices.SortStableFunc(syms, func(a, b ksym) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		return cmp.Compare(leadingUnderscores(a.name), leadingUnderscores(b.name))
	})
	// One symbol per address; it ends where the next address in the
	// whole table (data symbols too) starts: a walk of both sorted lists.
	out := syms[:0]
	j := 0
	for i := range syms {
		if i > 0 && syms[i].start == syms[i-1].start {
			continue
		}
		s := syms[i]
		for j < len(starts) && starts[j] <= s.start {
			j++
		}
		if j < len(starts) {
			s.end = starts[j]
		} else {
			s.end = s.start + lastKernelSpan
			if s.end < s.start {
				s.end = ^uint64(0)
			}
		}
		out = append(out, s)
	}
	t.syms, t.allZero, t.moduleStarts = out, allZero, moduleStarts
	return t, err
}

// parseHex reads an address of 1 to 16 hex digits, after an optional
// "0x", without allocating.
func parseHex(b []byte) (uint64, bool) {
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		b = b[2:]
	}
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}

func indexSpace(b []byte, from int) int {
	for i := from; i < len(b); i++ {
		if b[i] == ' ' || b[i] == '\t' {
			return i
		}
	}
	return -1
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
