package symbols

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
)

// Options configures a Resolver. The zero value reads the live machine.
type Options struct {
	ProcRoot  string   // "" = "/proc"
	Kallsyms  string   // "" = ProcRoot + "/kallsyms"
	DebugDirs []string // nil = {"/usr/lib/debug"}
	// Symfs, when set, is tried first as the root of every file path
	// (binaries and debug files copied from another machine).
	Symfs string
	// NoLines skips DWARF: no inlined frames, no source file and line.
	// Lines are on by default because they cost nothing for binaries
	// without DWARF and, with it, are read once per compilation unit
	// and only for units that a looked-up address falls in.
	NoLines bool
	// CacheDir, when set, keeps compressed DWARF sections of debug files
	// decompressed there by build-id, and the kernel image's symbols by
	// boot id (see DefaultCacheDir).
	CacheDir string
	// Notice receives one line per noteworthy thing (a perf map refused
	// for its owner, a file replaced since it was mapped, kallsyms
	// hidden by kptr_restrict), each at most once. nil drops them.
	Notice func(string)
}

// Stats counts what a Resolver did.
type Stats struct {
	Opened     int // binaries, debug files and perf maps opened
	Parsed     int // binaries whose symbol tables were built
	Lookups    int // User, Kernel and JIT calls
	CacheHits  int // lookups answered from the cache
	Failures   int // files that could not be opened or parsed (including recovered panics)
	Unresolved int // lookups that ended without a function name
}

// Resolver turns addresses into frames. It is not safe for concurrent
// use: one goroutine (the session's dispatch or export goroutine) owns it.
// The slices it returns are shared with its cache: do not modify them.
type Resolver struct {
	opts  Options
	stats Stats

	byBuildID map[string]*binaryFile
	byMapping map[mappingKey]*binaryFile
	byFile    map[string]*binaryFile
	vdso      *binaryFile
	frames    map[frameKey][]Frame

	kernel   *kallsyms
	perfMaps map[int32]*perfMap
	jits     map[int32]*addedJIT // AddJIT's functions, by process
	winFiles map[string][]string // where each Windows path may be read

	noticed    map[string]bool
	dwarfCache *dwarfCache // nil without Options.CacheDir
}

// mappingKey names one mapping of one process, for the no-build-id path.
type mappingKey struct {
	pid   int32
	start uint64
	path  string
}

// frameKey names one address of one binary at one load bias, so repeated
// lookups return the same slice without allocating.
type frameKey struct {
	b    *binaryFile
	addr uint64
	bias uint64
}

// New returns a Resolver for opts.
func New(opts Options) *Resolver {
	if opts.ProcRoot == "" {
		opts.ProcRoot = "/proc"
	}
	if opts.Kallsyms == "" {
		opts.Kallsyms = filepath.Join(opts.ProcRoot, "kallsyms")
	}
	if opts.DebugDirs == nil {
		opts.DebugDirs = []string{"/usr/lib/debug"}
	}
	var cache *dwarfCache
	if opts.CacheDir != "" {
		cache = &dwarfCache{dir: opts.CacheDir}
	}
	return &Resolver{
		opts:       opts,
		dwarfCache: cache,
		byBuildID:  map[string]*binaryFile{},
		byMapping:  map[mappingKey]*binaryFile{},
		byFile:     map[string]*binaryFile{},
		frames:     map[frameKey][]Frame{},
		perfMaps:   map[int32]*perfMap{},
		jits:       map[int32]*addedJIT{},
		winFiles:   map[string][]string{},
		noticed:    map[string]bool{},
	}
}

// Stats returns the counters so far.
func (r *Resolver) Stats() Stats { return r.stats }

// Close releases every file handle the Resolver keeps. Lookups after Close
// still answer from the cache but open nothing new reliably.
func (r *Resolver) Close() error {
	var first error
	closeOnce := map[io.ReaderAt]bool{}
	closeIt := func(c io.ReaderAt) {
		if c == nil || closeOnce[c] {
			return
		}
		closeOnce[c] = true
		if cl, ok := c.(io.Closer); ok {
			if err := cl.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	for _, b := range r.byFile {
		b.close(closeIt)
	}
	for _, b := range r.byBuildID {
		b.close(closeIt)
	}
	for _, b := range r.byMapping {
		b.close(closeIt)
	}
	for _, pm := range r.perfMaps {
		if pm.f != nil {
			closeIt(pm.f)
		}
	}
	if r.kernel != nil && r.kernel.core != nil {
		r.kernel.core.unmap()
		r.kernel.core = nil // a later address reads kallsyms
	}
	return first
}

// notice reports msg through Options.Notice once per key.
func (r *Resolver) notice(key, format string, args ...any) {
	if r.noticed[key] {
		return
	}
	r.noticed[key] = true
	if r.opts.Notice != nil {
		r.opts.Notice(fmt.Sprintf(format, args...))
	}
}

// Prepare opens the file behind obj now, while its process runs, and keeps
// the handle so that later lookups work after the process exited or the
// file was deleted or replaced. Call it when a process maps an executable
// file (MMAP2 time). A mapping seen before costs one map lookup. Parsing
// waits for the first User call.
//
// An anonymous executable mapping ("//anon", "[anon:...]") opens the
// process's perf map, if it has one yet, for the same reason.
func (r *Resolver) Prepare(obj Object) {
	r.binaryFor(obj)
}

// binaryFor finds or opens the binary behind obj; nil when obj names no
// file (heap, stack, anonymous memory).
func (r *Resolver) binaryFor(obj Object) *binaryFile {
	mk := mappingKey{pid: obj.PID, start: obj.Start, path: obj.Path}
	if len(obj.BuildID) > 0 {
		if b := r.byBuildID[string(obj.BuildID)]; b != nil {
			if b.file == nil && !b.parsed {
				// Opening failed for an earlier process: try this one,
				// once per mapping.
				if _, seen := r.byMapping[mk]; !seen {
					r.byMapping[mk] = b
					if f, as := r.openMapped(obj); f != nil {
						r.stats.Opened++
						b.file, b.openedAs = f, as
					}
				}
			}
			return b
		}
	}
	if b, ok := r.byMapping[mk]; ok {
		return b
	}
	var b *binaryFile
	switch pathKind(obj.Path) {
	case pathVDSO:
		b = r.vdsoBinary()
	case pathAnon:
		r.perfMapFor(obj.PID, true)
	case pathFile:
		b = r.openBinary(obj)
	}
	r.byMapping[mk] = b
	if b != nil && len(obj.BuildID) > 0 {
		r.byBuildID[string(obj.BuildID)] = b
	}
	return b
}

// mappingKind says what a mapping's path names.
type mappingKind int

const (
	pathNone mappingKind = iota
	pathFile
	pathVDSO
	pathAnon
)

func pathKind(p string) mappingKind {
	switch {
	case p == "[vdso]":
		return pathVDSO
	case p == "" || p == "//anon" || strings.HasPrefix(p, "[anon"):
		return pathAnon
	case strings.HasPrefix(p, "["), strings.HasPrefix(p, "//"):
		return pathNone // [heap], [stack], [vsyscall], //anon-like names
	}
	return pathFile
}

// User resolves addr, a virtual address of obj.PID inside the mapping obj,
// to one frame or, when DWARF tells of inlining, several (innermost
// first). For a return address (any frame but the leaf) pass addr-1, as
// perf does, so a call at the end of a function resolves to it.
func (r *Resolver) User(obj Object, addr uint64) []Frame {
	r.stats.Lookups++
	b := r.binaryFor(obj)
	bias := obj.Start - obj.Pgoff
	key := frameKey{b: b, addr: addr, bias: bias}
	if fr, ok := r.frames[key]; ok {
		r.stats.CacheHits++
		return fr
	}
	fr := r.userFrames(b, obj, addr)
	if fr[0].Func == "" {
		r.stats.Unresolved++
	}
	r.frames[key] = fr
	return fr
}

func (r *Resolver) userFrames(b *binaryFile, obj Object, addr uint64) []Frame {
	module := moduleName(obj.Path)
	// A Windows image is mapped whole: its offset in the image is known
	// even when the file cannot be read.
	var modOffset uint64
	if IsWindowsPath(obj.Path) || (b != nil && b.wholeImage) {
		modOffset = addr - obj.Start + obj.Pgoff
	}
	if b == nil {
		return []Frame{{Addr: addr, Module: module, ModOffset: modOffset}}
	}
	if b.file == nil {
		if IsWindowsPath(obj.Path) && runtime.GOOS != "windows" {
			r.notice("open:"+obj.Path, "symbols: %s (mapped by pid %d) is a Windows file: copy it under a directory given with --symfs (as DIR/C/Windows/System32/ntdll.dll or DIR/ntdll.dll) to name its frames", obj.Path, obj.PID)
		} else {
			r.notice("open:"+obj.Path, "symbols: cannot open %s (mapped by pid %d); its frames stay unresolved unless a debug file has its build-id", obj.Path, obj.PID)
		}
	}
	r.parse(b)
	if b.wholeImage {
		modOffset = addr - obj.Start + obj.Pgoff
	}
	vaddr, ok := b.vaddr(obj, addr)
	if !ok {
		return []Frame{{Addr: addr, Module: module, ModOffset: modOffset}}
	}
	fr := r.resolveVaddr(b, vaddr)
	for i := range fr {
		fr[i].Addr = addr
		fr[i].Module = module
		fr[i].ModOffset = modOffset
	}
	return fr
}

func moduleName(path string) string {
	if path == "" {
		return "[unknown]"
	}
	return strings.TrimSuffix(path, " (deleted)")
}
