package symbols

import (
	"bufio"
	"io"
	"os"
	"sort"
	"strconv"
)

// kallsyms is the kernel's symbol table, text symbols only, sorted.
type kallsyms struct {
	syms  []ksym
	zero  bool // every address was 0: kptr_restrict hides them
	cache map[uint64][]Frame
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
// first call). Unknown addresses, and every address when kallsyms shows
// zeros (kptr_restrict), give a frame with Func "".
func (r *Resolver) Kernel(addr uint64) []Frame {
	r.stats.Lookups++
	k := r.loadKallsyms()
	if fr, ok := k.cache[addr]; ok {
		r.stats.CacheHits++
		return fr
	}
	fr := []Frame{k.frame(addr)}
	if fr[0].Func == "" {
		r.stats.Unresolved++
	}
	k.cache[addr] = fr
	return fr
}

func (r *Resolver) loadKallsyms() *kallsyms {
	if r.kernel != nil {
		return r.kernel
	}
	r.kernel = &kallsyms{cache: map[uint64][]Frame{}}
	f, err := os.Open(r.opts.Kallsyms)
	if err != nil {
		r.stats.Failures++
		r.notice("kallsyms", "symbols: cannot read %s (%v): kernel frames stay unresolved", r.opts.Kallsyms, err)
		return r.kernel
	}
	defer f.Close()
	syms, zero, err := parseKallsyms(f)
	if err != nil {
		r.stats.Failures++
		r.notice("kallsyms", "symbols: reading %s: %v: kernel frames stay unresolved", r.opts.Kallsyms, err)
	}
	if zero {
		r.notice("kallsyms", "symbols: %s shows only zero addresses (kernel.kptr_restrict): kernel frames stay unresolved; run as root or set kernel.kptr_restrict=0", r.opts.Kallsyms)
		syms = nil
	}
	r.kernel.syms, r.kernel.zero = syms, zero
	return r.kernel
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
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var starts []uint64
	modules := map[string]string{}
	allZero = true
	for sc.Scan() {
		line := sc.Bytes()
		addrEnd := indexSpace(line, 0)
		if addrEnd <= 0 || addrEnd+3 > len(line) || line[addrEnd+2] != ' ' {
			continue
		}
		addr, perr := strconv.ParseUint(string(line[:addrEnd]), 16, 64)
		if perr != nil {
			continue
		}
		starts = append(starts, addr)
		if addr != 0 {
			allZero = false
		}
		typ := line[addrEnd+1]
		rank := int8(-1)
		switch typ {
		case 'T':
			rank = 0
		case 'W':
			rank = 1
		case 't':
			rank = 2
		case 'w':
			rank = 3
		}
		if rank < 0 {
			continue
		}
		rest := line[addrEnd+3:]
		nameEnd := indexSpace(rest, 0)
		if nameEnd < 0 {
			nameEnd = len(rest)
		}
		if nameEnd == 0 {
			continue
		}
		module := kernelModule
		if m := trimSpace(rest[nameEnd:]); len(m) > 2 && m[0] == '[' && m[len(m)-1] == ']' {
			if s, ok := modules[string(m)]; ok {
				module = s
			} else {
				module = string(m)
				modules[module] = module
			}
		}
		syms = append(syms, ksym{start: addr, name: string(rest[:nameEnd]), module: module, rank: rank})
	}
	if len(starts) == 0 {
		allZero = false
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	sort.SliceStable(syms, func(i, j int) bool {
		if syms[i].start != syms[j].start {
			return syms[i].start < syms[j].start
		}
		if syms[i].rank != syms[j].rank {
			return syms[i].rank < syms[j].rank
		}
		return leadingUnderscores(syms[i].name) < leadingUnderscores(syms[j].name)
	})
	out := make([]ksym, 0, len(syms))
	for i := range syms {
		if i > 0 && syms[i].start == syms[i-1].start {
			continue
		}
		s := syms[i]
		j := sort.Search(len(starts), func(j int) bool { return starts[j] > s.start })
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
	return out, allZero, sc.Err()
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
