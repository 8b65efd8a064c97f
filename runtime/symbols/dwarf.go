package symbols

import (
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"sort"
)

// dwarfLines answers "which inlined calls and which source line is this
// address" from DWARF. At open it reads only the compilation units'
// address ranges; a unit's line table and inline tree are read the first
// time an address falls in it.
type dwarfLines struct {
	d      *dwarf.Data
	cus    []cuRange // sorted by lo
	units  []unitRef // by unit number
	names  map[dwarf.Offset]string
	failed int // units that could not be read since the last look
}

// attrMIPSLinkageName is DW_AT_MIPS_linkage_name, the pre-DWARF 4
// spelling of DW_AT_linkage_name that older compilers still emit.
const attrMIPSLinkageName dwarf.Attr = 0x2007

type cuRange struct {
	lo, hi uint64
	unit   int
}

type unitRef struct {
	off    dwarf.Offset
	info   *unitInfo
	loaded bool
}

// unitInfo is one compilation unit, ready for lookups.
type unitInfo struct {
	rows      []lineRow
	files     []string     // by lineRow.file
	callFiles []string     // the line program's file table, for DW_AT_call_file
	subs      []subprogram // sorted by lo, one per address range
	nodes     []inlNode    // inlined calls, depth-first
}

type lineRow struct {
	addr uint64
	file int32
	line int32
	end  bool // end of a sequence: no line from here on
}

type subprogram struct {
	lo, hi      uint64
	entry       dwarf.Offset // for its name when the symbol table has none
	first, last int          // its inlined calls: nodes[first:last]
}

type inlNode struct {
	ranges   [][2]uint64
	origin   dwarf.Offset
	callFile int32
	callLine int32
	next     int // index past this node's subtree
}

func newDwarfLines(ef *elf.File) (dl *dwarfLines, err error) {
	defer func() {
		if p := recover(); p != nil {
			dl, err = nil, fmt.Errorf("malformed DWARF: %v", p)
		}
	}()
	d, err := ef.DWARF()
	if err != nil {
		return nil, err
	}
	dl = &dwarfLines{d: d, names: map[dwarf.Offset]string{}}
	rd := d.Reader()
	for {
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

// frames returns the frames at pc, innermost first; the last is the
// physical function (named from DWARF; the caller prefers the symbol
// table). nil when no unit covers pc.
func (dl *dwarfLines) frames(pc uint64) []Frame {
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
	sp := &u.subs[si]
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
		out = append(out, Frame{Func: dl.nameOf(n.origin), File: file, Line: line, Inlined: true})
		file, line = u.fileName(n.callFile), int(n.callLine)
	}
	out = append(out, Frame{Func: dl.nameOf(sp.entry), Offset: pc - sp.lo, File: file, Line: line})
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

// readUnit reads one unit's line table and its subprograms and inlined
// calls.
func (dl *dwarfLines) readUnit(off dwarf.Offset) (u *unitInfo, err error) {
	defer func() {
		if p := recover(); p != nil {
			u, err = nil, fmt.Errorf("malformed DWARF unit at %#x: %v", off, p)
		}
	}()
	rd := dl.d.Reader()
	rd.Seek(off)
	cu, err := rd.Next()
	if err != nil || cu == nil {
		return nil, fmt.Errorf("unit at %#x: %v", off, err)
	}
	u = &unitInfo{}
	if err := u.readLines(dl.d, cu); err != nil {
		return nil, err
	}
	if !cu.Children {
		return u, nil
	}
	// stack holds, per open level, the node index it belongs to (-1 for
	// other entries) and the subprogram open at that level (-1 for none).
	type level struct{ node, sub int }
	stack := []level{{node: -1, sub: -1}}
	curSub := func() int {
		for k := len(stack) - 1; k >= 0; k-- {
			if stack[k].sub >= 0 {
				return stack[k].sub
			}
		}
		return -1
	}
	var subs []subSpan
	for len(stack) > 0 {
		e, err := rd.Next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			break
		}
		if e.Tag == 0 {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top.node >= 0 {
				u.nodes[top.node].next = len(u.nodes)
			}
			if top.sub >= 0 {
				subs[top.sub].last = len(u.nodes)
			}
			continue
		}
		lv := level{node: -1, sub: -1}
		switch e.Tag {
		case dwarf.TagSubprogram:
			ranges, _ := dl.d.Ranges(e)
			if len(ranges) > 0 {
				subs = append(subs, subSpan{ranges: ranges, entry: e.Offset, first: len(u.nodes), last: len(u.nodes)})
				lv.sub = len(subs) - 1
			}
		case dwarf.TagInlinedSubroutine:
			if curSub() < 0 {
				break
			}
			ranges, _ := dl.d.Ranges(e)
			origin, _ := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
			cf, _ := e.Val(dwarf.AttrCallFile).(int64)
			cl, _ := e.Val(dwarf.AttrCallLine).(int64)
			u.nodes = append(u.nodes, inlNode{ranges: ranges, origin: origin, callFile: int32(cf), callLine: int32(cl), next: len(u.nodes) + 1})
			lv.node = len(u.nodes) - 1
		}
		if e.Children {
			stack = append(stack, lv)
		} else if lv.sub >= 0 {
			subs[lv.sub].last = len(u.nodes)
		}
	}
	for _, s := range subs {
		for _, r := range s.ranges {
			if r[1] > r[0] {
				u.subs = append(u.subs, subprogram{lo: r[0], hi: r[1], entry: s.entry, first: s.first, last: s.last})
			}
		}
	}
	sort.Slice(u.subs, func(i, j int) bool { return u.subs[i].lo < u.subs[j].lo })
	return u, nil
}

type subSpan struct {
	ranges      [][2]uint64
	entry       dwarf.Offset
	first, last int
}

// readLines reads the unit's whole line program into rows sorted by
// address.
func (u *unitInfo) readLines(d *dwarf.Data, cu *dwarf.Entry) error {
	lr, err := d.LineReader(cu)
	if err != nil || lr == nil {
		return err // a unit without lines still has inlined calls
	}
	fileIdx := map[*dwarf.LineFile]int32{}
	var le dwarf.LineEntry
	for {
		if err := lr.Next(&le); err != nil {
			break // io.EOF, or a truncated program: keep what was read
		}
		fi, ok := fileIdx[le.File]
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
	sort.SliceStable(u.rows, func(i, j int) bool {
		a, b := &u.rows[i], &u.rows[j]
		if a.addr != b.addr {
			return a.addr < b.addr
		}
		return a.end && !b.end // a sequence ending where another starts
	})
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
func (dl *dwarfLines) nameOf(off dwarf.Offset) string {
	if name, ok := dl.names[off]; ok {
		return name
	}
	name := dl.readName(off, 0)
	dl.names[off] = name
	return name
}

func (dl *dwarfLines) readName(off dwarf.Offset, depth int) (name string) {
	if off == 0 || depth > 4 {
		return ""
	}
	defer func() {
		if recover() != nil {
			name = ""
		}
	}()
	rd := dl.d.Reader()
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
			return dl.readName(ref, depth+1)
		}
	}
	return ""
}
