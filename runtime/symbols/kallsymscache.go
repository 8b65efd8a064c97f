package symbols

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unsafe"
)

// The kernel image's own symbols ([kernel.kallsyms], no [module] column)
// cannot change while the system runs, yet reading them from
// /proc/kallsyms costs every run about 30 ms of kernel time to print 5 MB
// and 25 more to parse it. So the first run of a boot keeps the image's
// text symbols in <CacheDir>/kallsyms/<boot id>, and later runs answer
// addresses inside the image from that file; an address outside it
// (modules, BPF programs, ftrace trampolines, which come and go) still
// reads the whole of kallsyms. Kernel addresses are as sensitive as
// kallsyms itself: the file and its directory are the user's alone.
//
// The file, all integers little-endian:
//
//	off  size
//	0    8     magic "otksyms\x00"
//	8    4     version (kallsymsCacheVersion)
//	12   4     CRC-32C of every byte after this field
//	16   4     n, the number of symbols (at least 1)
//	20   4     length of the boot id
//	24   4     length of the kernel release
//	28   4     length of the names
//	32   8     base: the first symbol's start
//	40         boot id, kernel release
//	           n starts, n ends: uint32 offsets from base
//	           n name ends: uint32 offsets into the names
//	           names, back to back
//
// Starts increase strictly, each end is above its start and at most the
// next start, and names are not empty. A file that breaks any of it, or
// any other boot or kernel's file, is ignored and replaced.
const (
	kallsymsCacheMagic   = "otksyms\x00"
	kallsymsCacheVersion = 1
	kallsymsCacheHeader  = 40
	// maxCacheKey bounds the boot id and release a file may claim.
	maxCacheKey = 256
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// coreSyms is the kernel image's text symbols as a cache file holds them:
// views of the file mapped, searched in place, a name copied out of them
// when an address asks for it.
type coreSyms struct {
	bootID, release string
	base            uint64
	n               int
	starts, ends    []byte // n uint32 each, offsets from base
	nameEnds        []byte // n uint32
	names           string // in the mapping: never handed out
	unmap           func()
}

// covers reports whether addr lies between the first symbol's start and
// the last one's end, where the cache knows every text symbol there is.
func (c *coreSyms) covers(addr uint64) bool {
	return c != nil && addr >= c.base && addr-c.base < uint64(c.end(c.n-1))
}

func (c *coreSyms) start(i int) uint32 { return binary.LittleEndian.Uint32(c.starts[4*i:]) }
func (c *coreSyms) end(i int) uint32   { return binary.LittleEndian.Uint32(c.ends[4*i:]) }

func (c *coreSyms) name(i int) string {
	from := uint32(0)
	if i > 0 {
		from = binary.LittleEndian.Uint32(c.nameEnds[4*(i-1):])
	}
	return strings.Clone(c.names[from:binary.LittleEndian.Uint32(c.nameEnds[4*i:])])
}

// frame resolves addr, which c covers.
func (c *coreSyms) frame(addr uint64) Frame {
	off := uint32(addr - c.base)
	i := sort.Search(c.n, func(i int) bool { return c.start(i) > off }) - 1
	if i < 0 || off >= c.end(i) {
		return Frame{Addr: addr, Module: kernelModule}
	}
	return Frame{Addr: addr, Func: c.name(i), Offset: uint64(off - c.start(i)), Module: kernelModule}
}

// coreSymbols picks, of a table's symbols, the ones a cache may keep: the
// kernel image's, from its lowest text symbol up, as long as each one's
// end was set by another symbol of the image. It stops before the first
// symbol that a module (or BPF program, or trampoline) could start in or
// end, and before the table's last symbol, whose end is a guess.
func coreSymbols(t kallsymsTable) []ksym {
	first := -1
	for i := range t.syms {
		if t.syms[i].module == kernelModule {
			first = i
			break
		}
	}
	if first < 0 {
		return nil
	}
	// The first module line at or above the image's first symbol.
	lo := t.syms[first].start
	j, _ := slices.BinarySearch(t.moduleStarts, lo)
	limit := ^uint64(0)
	if j < len(t.moduleStarts) {
		limit = t.moduleStarts[j]
	}
	n := 0
	for _, s := range t.syms[first:] {
		if s.module != kernelModule || s.end >= limit || s.start == t.lastStart || s.end-lo > 1<<32-1 {
			break
		}
		n++
	}
	return t.syms[first : first+n]
}

// encodeKallsymsCache lays out syms (sorted, one per address, as
// coreSymbols gives them) as a cache file.
func encodeKallsymsCache(bootID, release string, syms []ksym) ([]byte, error) {
	if len(syms) == 0 {
		return nil, fmt.Errorf("no symbols")
	}
	if len(bootID) > maxCacheKey || len(release) > maxCacheKey {
		return nil, fmt.Errorf("boot id or release longer than %d bytes", maxCacheKey)
	}
	base := syms[0].start
	if syms[len(syms)-1].end-base > 1<<32-1 {
		return nil, fmt.Errorf("symbols span more than 4 GB")
	}
	namesLen := 0
	for _, s := range syms {
		if s.name == "" {
			return nil, fmt.Errorf("a symbol at %#x without a name", s.start)
		}
		namesLen += len(s.name)
	}
	if namesLen > 1<<32-1 {
		return nil, fmt.Errorf("names longer than 4 GB")
	}
	n := len(syms)
	out := make([]byte, kallsymsCacheHeader, kallsymsCacheHeader+len(bootID)+len(release)+12*n+namesLen)
	copy(out, kallsymsCacheMagic)
	le := binary.LittleEndian
	le.PutUint32(out[8:], kallsymsCacheVersion)
	le.PutUint32(out[16:], uint32(n))
	le.PutUint32(out[20:], uint32(len(bootID)))
	le.PutUint32(out[24:], uint32(len(release)))
	le.PutUint32(out[28:], uint32(namesLen))
	le.PutUint64(out[32:], base)
	out = append(out, bootID...)
	out = append(out, release...)
	for _, s := range syms {
		out = le.AppendUint32(out, uint32(s.start-base))
	}
	for _, s := range syms {
		out = le.AppendUint32(out, uint32(s.end-base))
	}
	nameEnd := uint32(0)
	for _, s := range syms {
		nameEnd += uint32(len(s.name))
		out = le.AppendUint32(out, nameEnd)
	}
	for _, s := range syms {
		out = append(out, s.name...)
	}
	le.PutUint32(out[12:], crc32.Checksum(out[16:], castagnoli))
	return out, nil
}

// kallsymsCacheError says what is wrong at which offset of a cache file.
type kallsymsCacheError struct {
	off int
	msg string
}

func (e *kallsymsCacheError) Error() string {
	return fmt.Sprintf("kallsyms cache: %s at offset %d", e.msg, e.off)
}

// decodeKallsymsCache checks a whole cache file and gives views of it,
// which keep data: the caller must not change it afterwards. It checks
// everything a lookup relies on, so that lookups need no checks.
func decodeKallsymsCache(data []byte) (*coreSyms, error) {
	le := binary.LittleEndian
	if len(data) < kallsymsCacheHeader || string(data[:8]) != kallsymsCacheMagic {
		return nil, &kallsymsCacheError{0, "not a kallsyms cache"}
	}
	if v := le.Uint32(data[8:]); v != kallsymsCacheVersion {
		return nil, &kallsymsCacheError{8, fmt.Sprintf("version %d, want %d", v, kallsymsCacheVersion)}
	}
	if le.Uint32(data[12:]) != crc32.Checksum(data[16:], castagnoli) {
		return nil, &kallsymsCacheError{12, "checksum mismatch"}
	}
	n, bootLen, relLen, namesLen := uint64(le.Uint32(data[16:])), uint64(le.Uint32(data[20:])), uint64(le.Uint32(data[24:])), uint64(le.Uint32(data[28:]))
	if n == 0 {
		return nil, &kallsymsCacheError{16, "no symbols"}
	}
	if bootLen > maxCacheKey || relLen > maxCacheKey {
		return nil, &kallsymsCacheError{20, "boot id or release too long"}
	}
	if want := kallsymsCacheHeader + bootLen + relLen + 12*n + namesLen; uint64(len(data)) != want {
		return nil, &kallsymsCacheError{len(data), fmt.Sprintf("file of %d bytes, its header says %d", len(data), want)}
	}
	c := &coreSyms{base: le.Uint64(data[32:]), n: int(n)}
	keys := kallsymsCacheHeader + int(bootLen)
	startsOff := keys + int(relLen)
	endsOff, nameEndsOff, namesOff := startsOff+4*c.n, startsOff+8*c.n, startsOff+12*c.n
	c.bootID = string(data[kallsymsCacheHeader:keys])
	c.release = string(data[keys:startsOff])
	c.starts, c.ends, c.nameEnds = data[startsOff:endsOff], data[endsOff:nameEndsOff], data[nameEndsOff:namesOff]
	if c.start(0) != 0 {
		return nil, &kallsymsCacheError{startsOff, "first start is not the base"}
	}
	if c.base+uint64(c.end(c.n-1)) < c.base {
		return nil, &kallsymsCacheError{32, "symbols wrap around the address space"}
	}
	prevName := uint32(0)
	for i := 0; i < c.n; i++ {
		start, end, nameEnd := c.start(i), c.end(i), le.Uint32(c.nameEnds[4*i:])
		switch {
		case end <= start:
			return nil, &kallsymsCacheError{endsOff + 4*i, "symbol ends before it starts"}
		case i+1 < c.n && end > c.start(i+1):
			return nil, &kallsymsCacheError{endsOff + 4*i, "symbol ends after the next one starts"}
		case nameEnd <= prevName || uint64(nameEnd) > namesLen:
			return nil, &kallsymsCacheError{nameEndsOff + 4*i, "name out of bounds"}
		}
		prevName = nameEnd
	}
	if uint64(prevName) != namesLen {
		return nil, &kallsymsCacheError{nameEndsOff + 4*(c.n-1), "names left over"}
	}
	// The names stay in data, which nobody writes again (a mapping of the
	// file, replaced only by rename): a copy of megabytes would cost more
	// than the rest of loading.
	c.names = unsafe.String(unsafe.SliceData(data[namesOff:]), len(data)-namesOff)
	return c, nil
}

// kallsymsCacheKey names this boot and kernel; ok is false when there is
// no cache to use: no CacheDir, kallsyms not the one of ProcRoot (a
// test's or a copy's), or no boot id.
func (r *Resolver) kallsymsCacheKey() (path, bootID, release string, ok bool) {
	if r.opts.CacheDir == "" || r.opts.Kallsyms != filepath.Join(r.opts.ProcRoot, "kallsyms") {
		return "", "", "", false
	}
	b, err := os.ReadFile(filepath.Join(r.opts.ProcRoot, "sys", "kernel", "random", "boot_id"))
	if err != nil {
		return "", "", "", false
	}
	rel, err := os.ReadFile(filepath.Join(r.opts.ProcRoot, "sys", "kernel", "osrelease"))
	if err != nil {
		return "", "", "", false
	}
	bootID, release = strings.TrimSpace(string(b)), strings.TrimSpace(string(rel))
	if !isBootID(bootID) || len(release) > maxCacheKey {
		return "", "", "", false
	}
	return filepath.Join(r.opts.CacheDir, "kallsyms", bootID), bootID, release, true
}

// isBootID reports whether s looks like a boot id (a UUID), so that it
// is safe as a file name.
func isBootID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '-') {
			return false
		}
	}
	return true
}

// loadKallsymsCache returns this boot's cached symbols, or nil when there
// are none to use. It uses them only while kallsyms still shows this
// caller real addresses (a line or two read, not the table), so that a
// cache never names what kallsyms would hide now.
func (r *Resolver) loadKallsymsCache() *coreSyms {
	path, bootID, release, ok := r.kallsymsCacheKey()
	if !ok {
		return nil
	}
	// Mapped, not read: read, the 4.4 MB file was a fifth of a short
	// run's page faults.
	data, unmap, err := mapFile(path)
	if err != nil {
		return nil
	}
	c, err := decodeKallsymsCache(data)
	if err != nil || c.bootID != bootID || c.release != release || !showsAddresses(r.opts.Kallsyms) {
		unmap()
		return nil
	}
	c.unmap = unmap
	return c
}

// showsAddresses reports whether kallsyms at path can be read and shows
// a non-zero address before its end: what kptr_restrict takes away.
// Zero addresses can open the table (per-CPU symbols on older kernels),
// so it reads on to the first other one.
func showsAddresses(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 4096)
	whole := true // line starts a line, not the rest of a long one
	for {
		line, err := br.ReadSlice('\n')
		if i := indexSpace(line, 0); whole && i > 0 {
			if addr, ok := parseHex(line[:i]); ok && addr != 0 {
				return true
			}
		}
		whole = err != bufio.ErrBufferFull
		if err != nil && whole {
			return false
		}
	}
}

// storeKallsymsCache writes the image's symbols of t for later runs of
// this boot, and removes the files of other boots. A cache that cannot
// be written is no error: the next run reads kallsyms again.
func (r *Resolver) storeKallsymsCache(t kallsymsTable) {
	path, bootID, release, ok := r.kallsymsCacheKey()
	if !ok {
		return
	}
	data, err := encodeKallsymsCache(bootID, release, coreSymbols(t))
	if err != nil {
		return
	}
	if writeCacheFile(path, data, 0o700) != nil {
		return
	}
	dir := filepath.Dir(path)
	// A boot's file is of no use after it: one per boot would pile up.
	if old, err := os.ReadDir(dir); err == nil {
		for _, e := range old {
			if e.Name() != bootID && isBootID(e.Name()) {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
}
