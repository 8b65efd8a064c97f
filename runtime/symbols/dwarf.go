package symbols

import (
	"cmp"
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// dwarfLines answers "which inlined calls and which source line is this
// address" from DWARF. At open it reads only which address ranges each
// compilation unit covers (.debug_aranges, else every unit's first DIE);
// a unit's line table and the address ranges of its functions are read
// the first time an address falls in it, and a function's tree of inlined
// calls the first time an address falls in that function. A unit is read
// alone where it can be (see dwarfSections). A profile touches few
// functions of a large library.
type dwarfLines struct {
	secs     *dwarfSections // set when indexed by .debug_aranges: units are read alone
	whole    *dwarf.Data    // every unit at once: built when a unit needs it
	wholeErr error
	loadAll  func() (*dwarf.Data, error) // builds whole
	line     debugLine                   // the .debug_line of whole and secs
	cus      []cuRange                   // sorted by lo
	units    []unitRef                   // by unit number
	failed   int                         // units that could not be read since the last look
	release  func()                      // unmaps what secs holds mapped
	closed   bool
}

// attrMIPSLinkageName is DW_AT_MIPS_linkage_name, the pre-DWARF 4
// spelling of DW_AT_linkage_name that older compilers still emit.
const attrMIPSLinkageName dwarf.Attr = 0x2007

type cuRange struct {
	lo, hi uint64
	unit   int
}

type unitRef struct {
	off    dwarf.Offset // in .debug_info
	info   *unitInfo
	loaded bool
}

// unitInfo is one compilation unit, ready for lookups.
type unitInfo struct {
	d         *dwarf.Data // its DIEs: offsets below count in d
	names     map[dwarf.Offset]string
	rows      []lineRow
	files     []string   // by lineRow.file
	callFiles []string   // the line program's file table, for DW_AT_call_file
	subs      []subRange // sorted by lo, one per address range of a function
	funcs     []subprogram
	nodes     []inlNode // inlined calls, depth-first, each function's together
}

type lineRow struct {
	addr uint64
	file int32
	line int32
	end  bool // end of a sequence: no line from here on
}

type subRange struct {
	lo, hi uint64
	fn     int // index in funcs
}

// subprogram is a function with code (a DW_TAG_subprogram with addresses).
type subprogram struct {
	entry       dwarf.Offset // its DIE, read again to expand it
	first, last int          // its inlined calls: nodes[first:last]
	expanded    bool
}

type inlNode struct {
	ranges   [][2]uint64
	origin   dwarf.Offset
	callFile int32
	callLine int32
	next     int // index past this node's subtree
}

// newDwarfLines indexes the DWARF of an ELF file, its compressed
// sections read through cache.
func newDwarfLines(ef *elf.File, cache *dwarfCache, buildID []byte) (*dwarfLines, error) {
	secs, release, err := readDwarfSections(ef, cache, buildID)
	if err != nil {
		return nil, err
	}
	if ef.Type == elf.ET_REL {
		// Relocations: the standard way, which applies them; secs holds
		// the same bytes unrelocated, for the header checks.
		dl, err := newDwarfLinesFrom(ef.DWARF, secs)
		if err != nil {
			release()
			return nil, err
		}
		dl.release = release
		return dl, nil
	}
	if len(secs.aranges) > 0 {
		if dl := indexAranges(secs); dl != nil {
			dl.release = release
			return dl, nil
		}
	}
	dl, err := newDwarfLinesFrom(func() (*dwarf.Data, error) { return secs.data(secs.info) }, secs)
	if err != nil {
		release()
		return nil, err
	}
	dl.release = release
	return dl, nil
}

// indexAranges indexes the units by .debug_aranges, reading nothing of
// .debug_info; nil when the table is unusable or empty.
func indexAranges(secs *dwarfSections) *dwarfLines {
	ranges, err := parseAranges(secs.aranges, secs.order)
	if err != nil || len(ranges) == 0 {
		return nil
	}
	dl := &dwarfLines{secs: secs, loadAll: func() (*dwarf.Data, error) { return secs.data(secs.info) }, line: secs.debugLine()}
	byOff := map[uint64]int{}
	for _, r := range ranges {
		n, ok := byOff[r.unit]
		if !ok {
			n = len(dl.units)
			byOff[r.unit] = n
			dl.units = append(dl.units, unitRef{off: dwarf.Offset(r.unit)})
		}
		dl.cus = append(dl.cus, cuRange{lo: r.lo, hi: r.hi, unit: n})
	}
	slices.SortFunc(dl.cus, func(a, b cuRange) int { return cmp.Compare(a.lo, b.lo) })
	return dl
}

// newDwarfLinesFrom indexes the DWARF load returns (an ELF file's, or a
// PE image's) by walking every unit's first DIE. raw holds the bytes of
// .debug_info and .debug_line that load reads, to bound the walk and to
// check line table headers.
func newDwarfLinesFrom(load func() (*dwarf.Data, error), raw *dwarfSections) (dl *dwarfLines, err error) {
	defer func() {
		if p := recover(); p != nil {
			dl, err = nil, fmt.Errorf("malformed DWARF: %v", p)
		}
	}()
	d, err := load()
	if err != nil {
		return nil, err
	}
	dl = &dwarfLines{whole: d, line: raw.debugLine(), release: func() {}}
	rd := d.Reader()
	// Where a unit ends inside an abbreviation code (a LEB128 cut short),
	// dwarf.Reader.Next returns a null entry without moving, every time:
	// a fuzzed file made this walk endless. Each entry that moves the
	// reader takes a byte or more, so a walk of more entries than
	// .debug_info has bytes is stuck.
	for n := 0; n <= len(raw.info); n++ {
		e, err := rd.Next()
		if err != nil {
			if len(dl.units) == 0 {
				return nil, err
			}
			break
		}
		if e == nil {
			break
		}
		if e.Tag == dwarf.TagCompileUnit || e.Tag == dwarf.TagPartialUnit {
			ranges, _ := d.Ranges(e)
			for _, rg := range ranges {
				if rg[1] > rg[0] {
					dl.cus = append(dl.cus, cuRange{lo: rg[0], hi: rg[1], unit: len(dl.units)})
				}
			}
			dl.units = append(dl.units, unitRef{off: e.Offset})
		}
		rd.SkipChildren()
	}
	if len(dl.cus) == 0 {
		return nil, errors.New("no compilation unit has addresses")
	}
	sort.Slice(dl.cus, func(i, j int) bool { return dl.cus[i].lo < dl.cus[j].lo })
	return dl, nil
}

// close unmaps the sections; later lookups find nothing.
func (dl *dwarfLines) close() {
	if !dl.closed {
		dl.closed = true
		if dl.release != nil {
			dl.release()
		}
	}
}

// frames returns the frames at pc, innermost first; the last is the
// physical function (named from DWARF; the caller prefers the symbol
// table). nil when no unit covers pc.
func (dl *dwarfLines) frames(pc uint64) []Frame {
	if dl.closed {
		return nil
	}
	u := dl.unitAt(pc)
	if u == nil {
		return nil
	}
	file, line := u.lineAt(pc)
	out := []Frame{{File: file, Line: line}}
	si := u.subAt(pc)
	if si < 0 {
		return out
	}
	sr := u.subs[si]
	sp := dl.expand(u, sr.fn)
	// Walk the inline tree down to the innermost call holding pc.
	var chain []int
	for i, end := sp.first, sp.last; i < end; {
		n := &u.nodes[i]
		if n.contains(pc) {
			chain = append(chain, i)
			end = n.next
			i++
		} else {
			i = n.next
		}
	}
	out = out[:0]
	for k := len(chain) - 1; k >= 0; k-- {
		n := &u.nodes[chain[k]]
		out = append(out, Frame{Func: u.nameOf(n.origin), File: file, Line: line, Inlined: true})
		file, line = u.fileName(n.callFile), int(n.callLine)
	}
	out = append(out, Frame{Func: u.nameOf(sp.entry), Offset: pc - sr.lo, File: file, Line: line})
	return out
}

func (n *inlNode) contains(pc uint64) bool {
	for _, r := range n.ranges {
		if r[0] <= pc && pc < r[1] {
			return true
		}
	}
	return false
}

// unitAt returns the loaded unit whose ranges hold pc.
func (dl *dwarfLines) unitAt(pc uint64) *unitInfo {
	i := sort.Search(len(dl.cus), func(i int) bool { return dl.cus[i].lo > pc }) - 1
	// Ranges of different units should not overlap; look back a little in
	// case a producer made one unit's range swallow another's.
	for k := i; k >= 0 && k > i-8; k-- {
		c := dl.cus[k]
		if c.lo <= pc && pc < c.hi {
			return dl.load(c.unit)
		}
	}
	return nil
}

func (dl *dwarfLines) load(n int) *unitInfo {
	ref := &dl.units[n]
	if !ref.loaded {
		ref.loaded = true
		info, err := dl.readUnit(ref.off)
		if err != nil {
			dl.failed++
			info = &unitInfo{}
		}
		ref.info = info
	}
	return ref.info
}

// readUnit reads the unit at off: alone when it can, else through the
// whole section's Data.
func (dl *dwarfLines) readUnit(off dwarf.Offset) (u *unitInfo, err error) {
	defer func() {
		if p := recover(); p != nil {
			u, err = nil, fmt.Errorf("malformed DWARF unit at %#x: %v", off, p)
		}
	}()
	if dl.secs != nil {
		// Indexed by .debug_aranges: off is the unit's header.
		info, die, alone, err := dl.secs.unitAlone(uint64(off))
		if err != nil {
			return nil, err
		}
		if alone {
			d, err := dl.secs.data(info)
			if err != nil {
				return nil, err
			}
			return readUnitOf(d, 0, dl.line)
		}
		off = dwarf.Offset(die)
	}
	if dl.whole == nil && dl.wholeErr == nil {
		dl.whole, dl.wholeErr = dl.loadAll()
	}
	if dl.wholeErr != nil {
		return nil, dl.wholeErr
	}
	return readUnitOf(dl.whole, off, dl.line)
}

// readUnitOf reads the line table of the unit at off in d (from line,
// d's .debug_line) and the address ranges of its functions. Other DIEs
// (types, variables) are skipped, through DW_AT_sibling where the
// producer wrote one.
func readUnitOf(d *dwarf.Data, off dwarf.Offset, line debugLine) (*unitInfo, error) {
	rd := d.Reader()
	rd.Seek(off)
	cu, err := rd.Next()
	if err != nil || cu == nil {
		return nil, fmt.Errorf("unit at %#x: %v", off, err)
	}
	u := &unitInfo{d: d, names: map[dwarf.Offset]string{}}
	if err := u.readLines(cu, line); err != nil {
		return nil, err
	}
	for depth := 0; cu.Children && depth >= 0; {
		e, err := rd.Next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			break
		}
		switch e.Tag {
		case 0:
			depth--
			continue
		case dwarf.TagNamespace, dwarf.TagModule:
			// C++ and Fortran put functions in these: walk in.
			if e.Children {
				depth++
			}
			continue
		case dwarf.TagSubprogram:
			for _, r := range u.ranges(e) {
				if r[1] > r[0] {
					u.subs = append(u.subs, subRange{lo: r[0], hi: r[1], fn: len(u.funcs)})
				}
			}
			if n := len(u.subs); n > 0 && u.subs[n-1].fn == len(u.funcs) {
				u.funcs = append(u.funcs, subprogram{entry: e.Offset})
			}
		}
		if e.Children {
			rd.SkipChildren()
		}
	}
	slices.SortFunc(u.subs, func(a, b subRange) int { return cmp.Compare(a.lo, b.lo) })
	return u, nil
}

// expand reads the inlined calls of function fn of u, once.
func (dl *dwarfLines) expand(u *unitInfo, fn int) *subprogram {
	sp := &u.funcs[fn]
	if sp.expanded {
		return sp
	}
	sp.expanded = true
	sp.first = len(u.nodes)
	if err := u.readInlined(sp.entry); err != nil {
		dl.failed++
		u.nodes = u.nodes[:sp.first]
	}
	sp.last = len(u.nodes)
	return sp
}

// readInlined appends the inlined calls under the subprogram DIE at off
// to u.nodes, depth-first, each with the index past its subtree.
func (u *unitInfo) readInlined(off dwarf.Offset) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed DWARF function at %#x: %v", off, p)
		}
	}()
	rd := u.d.Reader()
	rd.Seek(off)
	e, err := rd.Next()
	if err != nil || e == nil || !e.Children {
		return err
	}
	// open holds, per open level, the node it belongs to (-1 for none).
	open := []int{-1}
	for len(open) > 0 {
		e, err := rd.Next()
		if err != nil {
			return err
		}
		if e == nil {
			return nil
		}
		if e.Tag == 0 {
			if top := open[len(open)-1]; top >= 0 {
				u.nodes[top].next = len(u.nodes)
			}
			open = open[:len(open)-1]
			continue
		}
		node := -1
		switch e.Tag {
		case dwarf.TagInlinedSubroutine:
			origin, _ := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
			cf, _ := e.Val(dwarf.AttrCallFile).(int64)
			cl, _ := e.Val(dwarf.AttrCallLine).(int64)
			u.nodes = append(u.nodes, inlNode{ranges: u.ranges(e), origin: origin, callFile: int32(cf), callLine: int32(cl), next: len(u.nodes) + 1})
			node = len(u.nodes) - 1
		case dwarf.TagLexDwarfBlock, dwarf.TagTryDwarfBlock, dwarf.TagCatchDwarfBlock:
			// May hold inlined calls: walk in.
		default:
			// Parameters, variables, nested types and functions.
			if e.Children {
				rd.SkipChildren()
			}
			continue
		}
		if e.Children {
			open = append(open, node)
		}
	}
	return nil
}

// ranges returns the address ranges of a DIE, reading DW_AT_low_pc and
// DW_AT_high_pc directly in the common case (dwarf.Data.Ranges allocates
// and looks up the unit for every call).
func (u *unitInfo) ranges(e *dwarf.Entry) [][2]uint64 {
	if lo, ok := e.Val(dwarf.AttrLowpc).(uint64); ok {
		if hf := e.AttrField(dwarf.AttrHighpc); hf != nil {
			switch v := hf.Val.(type) {
			case uint64:
				if hf.Class == dwarf.ClassAddress && v > lo {
					return [][2]uint64{{lo, v}}
				}
			case int64:
				if hf.Class == dwarf.ClassConstant && v > 0 {
					return [][2]uint64{{lo, lo + uint64(v)}}
				}
			}
		}
	}
	if e.AttrField(dwarf.AttrRanges) == nil && e.AttrField(dwarf.AttrLowpc) == nil {
		return nil
	}
	r, _ := u.d.Ranges(e)
	return r
}

// readLines reads the unit's whole line program, from line, into rows
// sorted by address.
func (u *unitInfo) readLines(cu *dwarf.Entry, line debugLine) error {
	if err := line.checkHeader(cu); err != nil {
		return err
	}
	lr, err := u.d.LineReader(cu)
	if err != nil || lr == nil {
		return err // a unit without lines still has inlined calls
	}
	fileIdx := map[*dwarf.LineFile]int32{}
	var le dwarf.LineEntry
	var lastFile *dwarf.LineFile
	fi := int32(-1)
	for {
		if err := lr.Next(&le); err != nil {
			break // io.EOF, or a truncated program: keep what was read
		}
		if le.File == lastFile && fi >= 0 {
			u.rows = append(u.rows, lineRow{addr: le.Address, file: fi, line: int32(le.Line), end: le.EndSequence})
			continue
		}
		lastFile = le.File
		var ok bool
		fi, ok = fileIdx[le.File]
		if !ok {
			fi = int32(len(u.files))
			name := ""
			if le.File != nil {
				name = le.File.Name
			}
			u.files = append(u.files, name)
			fileIdx[le.File] = fi
		}
		u.rows = append(u.rows, lineRow{addr: le.Address, file: fi, line: int32(le.Line), end: le.EndSequence})
	}
	// Attribute call_file indexes the unit's file table, which the
	// line program may have grown: map it after reading everything.
	table := lr.Files()
	callFiles := make([]string, len(table))
	for i, f := range table {
		if f != nil {
			callFiles[i] = f.Name
		}
	}
	u.callFiles = callFiles
	// Sequences come in any order; rows within one are sorted. At one
	// address, a sequence's end goes before the next sequence's start.
	byAddr := func(a, b lineRow) int {
		switch {
		case a.addr != b.addr:
			return cmp.Compare(a.addr, b.addr)
		case a.end == b.end:
			return 0
		case a.end:
			return -1
		}
		return 1
	}
	if !slices.IsSortedFunc(u.rows, byAddr) {
		slices.SortStableFunc(u.rows, byAddr)
	}
	return nil
}

// lineAt returns the source position of pc.
func (u *unitInfo) lineAt(pc uint64) (string, int) {
	i := sort.Search(len(u.rows), func(i int) bool { return u.rows[i].addr > pc }) - 1
	if i < 0 || u.rows[i].end {
		return "", 0
	}
	return u.files[u.rows[i].file], int(u.rows[i].line)
}

// fileName names entry i of the unit's file table (DW_AT_call_file).
func (u *unitInfo) fileName(i int32) string {
	if i < 0 || int(i) >= len(u.callFiles) {
		return ""
	}
	return u.callFiles[i]
}

// subAt returns the index of the innermost subprogram range holding pc.
func (u *unitInfo) subAt(pc uint64) int {
	i := sort.Search(len(u.subs), func(i int) bool { return u.subs[i].lo > pc }) - 1
	best := -1
	for k := i; k >= 0 && k > i-8; k-- {
		s := &u.subs[k]
		if s.lo <= pc && pc < s.hi && (best < 0 || s.hi-s.lo < u.subs[best].hi-u.subs[best].lo) {
			best = k
		}
	}
	return best
}

// nameOf names the function a DIE describes: its linkage name demangled,
// else its name, else those of the DIE it refers to (abstract origin,
// specification).
func (u *unitInfo) nameOf(off dwarf.Offset) string {
	if name, ok := u.names[off]; ok {
		return name
	}
	name := u.readName(off, 0)
	u.names[off] = name
	return name
}

func (u *unitInfo) readName(off dwarf.Offset, depth int) (name string) {
	if off == 0 || depth > 4 {
		return ""
	}
	defer func() {
		if recover() != nil {
			name = ""
		}
	}()
	rd := u.d.Reader()
	rd.Seek(off)
	e, err := rd.Next()
	if err != nil || e == nil {
		return ""
	}
	for _, a := range []dwarf.Attr{dwarf.AttrLinkageName, attrMIPSLinkageName} {
		if s, ok := e.Val(a).(string); ok && s != "" {
			return demangleName(s)
		}
	}
	if s, ok := e.Val(dwarf.AttrName).(string); ok && s != "" {
		return s
	}
	for _, a := range []dwarf.Attr{dwarf.AttrAbstractOrigin, dwarf.AttrSpecification} {
		if ref, ok := e.Val(a).(dwarf.Offset); ok && ref != off {
			return u.readName(ref, depth+1)
		}
	}
	return ""
}
