package etw

import (
	"encoding/binary"
	"fmt"
	"strings"

	"otrace/runtime/event"
)

// An ETW payload cannot be described by fixed offsets: strings, SIDs and
// arrays have their own lengths, so where a property starts depends on
// the ones before it. otrace therefore rewrites each payload into a
// normalized layout that a plain event.Format describes, the same kind of
// format tracefs gives on Linux:
//
//	offset 0   the event's descriptor as common_* fields (hidden from
//	           e.fields, readable with e.field("common_opcode"))
//	then       one slot per property, in payload order: integers in
//	           place (pointers widened to 8 bytes), everything variable as
//	           a __data_loc locator
//	then       the variable data: text converted to UTF-8 and
//	           NUL-terminated, bytes, integer arrays
//
// So e.field works exactly as on Linux, filters compile against the
// format, and `otrace record` writes ETW events into an ordinary
// recording whose format text ParseFormat reads back.

// commonFields is the descriptor every normalized payload starts with.
var commonFields = []struct {
	name string
	size int
}{
	{"common_event_id", 2}, {"common_version", 1}, {"common_channel", 1},
	{"common_level", 1}, {"common_opcode", 1}, {"common_task", 2}, {"common_keyword", 8},
}

const commonSize = 16

// maxLoc is the largest offset or length a __data_loc locator holds.
const maxLoc = 0xffff

// outKind is how a property lands in the normalized payload.
type outKind uint8

const (
	outSkip  outKind = iota // read and dropped (NULL properties)
	outInt                  // an integer in place
	outText                 // text behind a locator
	outBytes                // bytes behind a locator
	outInts                 // an integer array behind a locator
)

// node is one property compiled for decoding.
type node struct {
	p       *Prop
	kind    outKind
	name    string // the field it fills
	off     int    // where its integer or locator goes
	size    int    // outInt: bytes written; outInts: element size
	members []node // a struct that is not an array: its members, flattened
}

// layout decodes payloads of one schema into one format.
type layout struct {
	schema *Schema
	format *event.Format
	nodes  []node
	fixed  int // bytes of the fixed part
}

// fieldSpec is one line of the generated format text.
type fieldSpec struct {
	decl   string // "u32 ProcessId", "__data_loc char[] ImageName"
	off    int
	size   int
	signed bool
}

// compile builds the layout of schema s and a new format for it. system
// and name become the format's "etw:PROVIDER" system and event name.
func compile(s *Schema, system, name string) (*layout, error) {
	nodes, specs, fixed := plan(s)
	if fixed > maxLoc {
		return nil, fmt.Errorf("etw: %s: %d properties do not fit a 64 KiB payload", name, len(specs))
	}
	f, err := event.ParseFormat(system, formatText(name, specs))
	if err != nil {
		return nil, fmt.Errorf("etw: %s: generated format: %w", name, err)
	}
	return &layout{schema: s, format: f, nodes: nodes, fixed: fixed}, nil
}

// compileInto builds a layout of schema s that writes into an existing
// format f, matching properties to fields by name: another version of an
// event, or a TraceLogging event whose fields changed. Properties f has
// no field of the same shape for are skipped; fields s lacks read as zero
// or empty.
func compileInto(s *Schema, f *event.Format) *layout {
	nodes, _, _ := plan(s)
	fixed := 0
	for _, fl := range f.Fields {
		fixed = max(fixed, fl.Offset+fl.Size)
	}
	var remap func(ns []node)
	remap = func(ns []node) {
		for i := range ns {
			n := &ns[i]
			if n.members != nil {
				remap(n.members)
				continue
			}
			if n.kind == outSkip {
				continue
			}
			fl := f.Field(n.name)
			if fl == nil || !fits(n, fl) {
				n.kind = outSkip
				continue
			}
			n.off = fl.Offset
		}
	}
	remap(nodes)
	return &layout{schema: s, format: f, nodes: nodes, fixed: alignUp(fixed, 8)}
}

// fits reports whether node n can be written into field fl.
func fits(n *node, fl *event.Field) bool {
	switch n.kind {
	case outInt:
		return (fl.Kind == event.Scalar || fl.Kind == event.Pointer) && fl.Size == n.size
	case outText:
		return fl.Kind == event.DataLoc && fl.String
	case outBytes:
		return fl.Kind == event.DataLoc && !fl.String && fl.ElemSize == 1
	case outInts:
		return fl.Kind == event.DataLoc && !fl.String && fl.ElemSize == n.size
	}
	return false
}

// plan decides how each property of s lands in a normalized payload and
// lays out the fields: the common descriptor, then one slot per property.
func plan(s *Schema) (nodes []node, specs []fieldSpec, fixed int) {
	off := 0
	names := map[string]bool{}
	for _, c := range commonFields {
		specs = append(specs, fieldSpec{decl: intType(c.size, false) + " " + c.name, off: off, size: c.size})
		names[c.name] = true
		off += c.size
	}
	var build func(props []Prop, prefix string) []node
	build = func(props []Prop, prefix string) []node {
		var out []node
		for i := range props {
			p := &props[i]
			n := node{p: p}
			if p.Struct && !p.Array {
				n.members = build(p.Members, prefix+identifier(p.Name)+"_")
				if n.members == nil {
					n.members = []node{}
				}
				out = append(out, n)
				continue
			}
			n.kind, n.size = kindOf(p)
			if n.kind == outSkip {
				out = append(out, n)
				continue
			}
			n.name = uniqueName(names, prefix+identifier(p.Name))
			if n.kind == outInt {
				off = alignUp(off, n.size)
				n.off = off
				specs = append(specs, fieldSpec{decl: scalarType(p.In, n.size) + " " + n.name, off: off, size: n.size, signed: isSigned(p.In)})
				off += n.size
			} else {
				off = alignUp(off, 4)
				n.off = off
				elem := "u8"
				switch n.kind {
				case outText:
					elem = "char"
				case outInts:
					elem = intType(n.size, isSigned(p.In))
				}
				specs = append(specs, fieldSpec{decl: "__data_loc " + elem + "[] " + n.name, off: off, size: 4, signed: n.kind == outInts && isSigned(p.In)})
				off += 4
			}
			out = append(out, n)
		}
		return out
	}
	nodes = build(s.Props, "")
	return nodes, specs, alignUp(off, 8)
}

// kindOf says how a property lands in the normalized payload, and for
// integers how wide.
func kindOf(p *Prop) (outKind, int) {
	char := p.In == InUnicodeChar || p.In == InAnsiChar
	switch {
	case p.Struct:
		return outBytes, 0 // an array of structs, kept as its bytes
	case p.In == InNull:
		return outSkip, 0
	case p.Array && char:
		return outText, 0 // a fixed-length string
	case p.Array && isInt(p.In):
		return outInts, intWidth(p.In)
	case p.Array:
		return outBytes, 0
	case isInt(p.In):
		return outInt, intWidth(p.In)
	case isString(p.In), p.In == InGUID, p.In == InSID, p.In == InWBEMSID,
		p.In == InSystemtime, p.In == InFloat, p.In == InDouble:
		return outText, 0
	}
	return outBytes, 0 // binaries, and types otrace does not know
}

func formatText(name string, specs []fieldSpec) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nID: 0\nformat:\n", name)
	for _, s := range specs {
		signed := 0
		if s.signed {
			signed = 1
		}
		fmt.Fprintf(&b, "\tfield:%s;\toffset:%d;\tsize:%d;\tsigned:%d;\n", s.decl, s.off, s.size, signed)
	}
	b.WriteString("\nprint fmt: \"\"\n")
	return []byte(b.String())
}

func alignUp(n, a int) int { return (n + a - 1) / a * a }

// intWidth is how many bytes an integer type takes once normalized:
// pointers and sizes always 8, whatever the provider's bitness.
func intWidth(t InType) int {
	if t == InPointer || t == InSizeT {
		return 8
	}
	return fixedSize(t, 8)
}

func intType(size int, signed bool) string {
	if signed {
		return fmt.Sprintf("s%d", size*8)
	}
	return fmt.Sprintf("u%d", size*8)
}

func scalarType(t InType, size int) string {
	if t == InPointer {
		return "void *"
	}
	return intType(size, isSigned(t))
}

// identifier makes a property name usable as a field name: ETW allows
// spaces and punctuation ("Process ID"), formats and scripts do not.
func identifier(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	if b[0] >= '0' && b[0] <= '9' {
		return "_" + string(b)
	}
	return string(b)
}

func uniqueName(seen map[string]bool, name string) string {
	n := name
	for i := 2; seen[n]; i++ {
		n = fmt.Sprintf("%s_%d", name, i)
	}
	seen[n] = true
	return n
}

// decoder holds the scratch state of decoding payloads; one per source,
// used under its lock. Decoding allocates nothing once out has grown.
type decoder struct {
	out  []byte
	vals []uint64 // integer property values by slot, for lengths and counts
	// Truncated counts variable data dropped because the normalized
	// payload outgrew what a locator can address.
	Truncated uint64
}

// decode rewrites payload (the event's UserData) into l's layout, in
// d.out, which it returns. ptr is the provider's pointer size.
func (l *layout) decode(d *decoder, desc *Descriptor, payload []byte, ptr int) ([]byte, error) {
	if cap(d.out) < l.fixed {
		d.out = make([]byte, l.fixed, max(l.fixed, 1024))
	}
	d.out = d.out[:l.fixed]
	clear(d.out)
	if n := l.schema.Slots; len(d.vals) < n {
		d.vals = make([]uint64, n)
	} else {
		clear(d.vals[:n])
	}
	binary.LittleEndian.PutUint16(d.out[0:], desc.ID)
	d.out[2], d.out[3], d.out[4], d.out[5] = desc.Version, desc.Channel, desc.Level, desc.Opcode
	binary.LittleEndian.PutUint16(d.out[6:], desc.Task)
	binary.LittleEndian.PutUint64(d.out[8:], desc.Keyword)
	w := walker{d: d, b: payload, ptr: ptr, what: l.format.Name}
	if err := w.nodes(l.nodes); err != nil {
		return nil, err
	}
	return d.out, nil
}

// walker reads one payload.
type walker struct {
	d    *decoder
	b    []byte
	pos  int
	ptr  int
	what string
}

func (w *walker) fail(format string, args ...any) error {
	return errAt(w.what, w.pos, format, args...)
}

func (w *walker) nodes(ns []node) error {
	for i := range ns {
		if err := w.node(&ns[i]); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) node(n *node) error {
	p := n.p
	if n.members != nil {
		return w.nodes(n.members)
	}
	start := w.pos
	switch n.kind {
	case outInt:
		size := fixedSize(p.In, w.ptr)
		if size == 0 || w.pos+size > len(w.b) {
			return w.fail("property %s needs %d bytes, %d left", p.Name, size, len(w.b)-w.pos)
		}
		v := load(w.b[w.pos:w.pos+size], isSigned(p.In))
		w.pos += size
		w.d.vals[p.Slot] = v
		putInt(w.d.out[n.off:], n.size, v)
		return nil
	case outText:
		return w.text(n)
	case outInts:
		count, err := w.count(p)
		if err != nil {
			return err
		}
		size := fixedSize(p.In, w.ptr)
		if count*size > len(w.b)-w.pos {
			return w.fail("array %s of %d elements needs %d bytes, %d left", p.Name, count, count*size, len(w.b)-w.pos)
		}
		at := len(w.d.out)
		for i := 0; i < count; i++ {
			v := load(w.b[w.pos:w.pos+size], isSigned(p.In))
			w.pos += size
			w.d.out = append(w.d.out, make([]byte, n.size)...)
			putInt(w.d.out[len(w.d.out)-n.size:], n.size, v)
		}
		w.locate(n, at)
		return nil
	case outBytes:
		if err := w.skipProp(p); err != nil {
			return err
		}
		data := w.b[start:w.pos]
		if !p.Array && !p.Struct {
			// A counted binary's data follows its count.
			switch p.In {
			case InManifestCountedBinary:
				data = data[2:]
			case InHexDump:
				data = data[4:]
			}
		}
		at := len(w.d.out)
		w.d.out = append(w.d.out, data...)
		w.locate(n, at)
		return nil
	}
	return w.skipProp(p) // outSkip
}

// locate writes the locator of the data appended at d.out[at:].
func (w *walker) locate(n *node, at int) { putLoc(w.d, n.off, at) }

// text converts a string (or a GUID, SID, time, float, char array) to
// UTF-8 text and appends it NUL-terminated.
func (w *walker) text(n *node) error {
	p := n.p
	at := len(w.d.out)
	if p.Array { // an array of chars is a fixed-length string
		count, err := w.count(p)
		if err != nil {
			return err
		}
		size := fixedSize(p.In, w.ptr)
		if count*size > len(w.b)-w.pos {
			return w.fail("string %s of %d chars needs %d bytes, %d left", p.Name, count, count*size, len(w.b)-w.pos)
		}
		raw := w.b[w.pos : w.pos+count*size]
		w.pos += count * size
		w.d.out = appendChars(w.d.out, raw, p.In == InUnicodeChar)
	} else {
		start := w.pos
		if err := w.skipElem(p); err != nil {
			return err
		}
		w.d.out = appendValueText(w.d.out, p.In, w.b[start:w.pos], w.ptr)
	}
	w.d.out = append(w.d.out, 0)
	w.locate(n, at)
	return nil
}

// count is the number of elements of an array property, consuming a
// TraceLogging count prefix.
func (w *walker) count(p *Prop) (int, error) {
	switch {
	case p.VCount:
		if w.pos+2 > len(w.b) {
			return 0, w.fail("array %s: no room for its u16 count", p.Name)
		}
		n := int(binary.LittleEndian.Uint16(w.b[w.pos:]))
		w.pos += 2
		return n, nil
	case p.CountFrom >= 0:
		v := w.d.vals[p.CountFrom]
		if v > maxLoc {
			return 0, w.fail("array %s: count %d is implausible", p.Name, v)
		}
		return int(v), nil
	case p.Array:
		return p.Count, nil
	}
	return 1, nil
}

// skipProp moves past a whole property: every element of an array, every
// member of a struct.
func (w *walker) skipProp(p *Prop) error {
	count, err := w.count(p)
	if err != nil {
		return err
	}
	for i := 0; i < count; i++ {
		before := w.pos
		if p.Struct {
			for j := range p.Members {
				if err := w.skipProp(&p.Members[j]); err != nil {
					return err
				}
			}
		} else if err := w.skipElem(p); err != nil {
			return err
		}
		if w.pos == before && i > 0 {
			// Zero-sized elements: the rest are the same.
			break
		}
	}
	return nil
}

// skipElem moves past one element of a non-struct property.
func (w *walker) skipElem(p *Prop) error {
	rest := len(w.b) - w.pos
	need := func(n int) error {
		if n < 0 || n > rest {
			return w.fail("property %s needs %d bytes, %d left", p.Name, n, rest)
		}
		w.pos += n
		return nil
	}
	if n := fixedSize(p.In, w.ptr); n > 0 {
		if isInt(p.In) && !p.Array {
			w.d.vals[p.Slot] = 0
			if n <= rest {
				w.d.vals[p.Slot] = load(w.b[w.pos:w.pos+n], isSigned(p.In))
			}
		}
		return need(n)
	}
	le := binary.LittleEndian
	switch p.In {
	case InNull:
		return nil
	case InUnicodeString, InAnsiString:
		char := 1
		if p.In == InUnicodeString {
			char = 2
		}
		if p.LengthFrom >= 0 {
			return need(int(min(w.d.vals[p.LengthFrom], maxLoc)) * char)
		}
		if p.Length > 0 {
			return need(p.Length * char)
		}
		// NUL-terminated; a missing terminator ends at the payload's end.
		for i := w.pos; i+char <= len(w.b); i += char {
			if w.b[i] == 0 && (char == 1 || w.b[i+1] == 0) {
				return need(i + char - w.pos)
			}
		}
		return need(rest - rest%char)
	case InBinary:
		if p.LengthFrom >= 0 {
			return need(int(min(w.d.vals[p.LengthFrom], maxLoc)))
		}
		return need(p.Length)
	case InManifestCountedString, InManifestCountedAnsiString, InManifestCountedBinary,
		InCountedString, InCountedAnsiString:
		if rest < 2 {
			return need(2)
		}
		return need(2 + int(le.Uint16(w.b[w.pos:])))
	case InReversedCountedString, InReversedCountedAnsiString:
		if rest < 2 {
			return need(2)
		}
		return need(2 + int(binary.BigEndian.Uint16(w.b[w.pos:])))
	case InNonNullTerminatedString, InNonNullTerminatedAnsiString:
		return need(rest)
	case InHexDump:
		if rest < 4 {
			return need(4)
		}
		return need(4 + int(min(le.Uint32(w.b[w.pos:]), maxLoc)))
	case InSID:
		if rest < 8 {
			return need(8)
		}
		return need(8 + 4*int(w.b[w.pos+1]))
	case InWBEMSID:
		// A NULL token is a 4-byte 0; otherwise TOKEN_USER (two
		// pointers) precedes the SID.
		if rest < 4 {
			return need(4)
		}
		if le.Uint32(w.b[w.pos:]) == 0 {
			return need(4)
		}
		hdr := 2 * w.ptr
		if rest < hdr+8 {
			return need(hdr + 8)
		}
		return need(hdr + 8 + 4*int(w.b[w.pos+hdr+1]))
	}
	return w.fail("property %s has type %d, which otrace cannot size", p.Name, p.In)
}

// load reads a little-endian integer of 1, 2, 4 or 8 bytes,
// sign-extending signed ones.
func load(b []byte, signed bool) uint64 {
	le := binary.LittleEndian
	switch len(b) {
	case 1:
		if signed {
			return uint64(int64(int8(b[0])))
		}
		return uint64(b[0])
	case 2:
		if signed {
			return uint64(int64(int16(le.Uint16(b))))
		}
		return uint64(le.Uint16(b))
	case 4:
		if signed {
			return uint64(int64(int32(le.Uint32(b))))
		}
		return uint64(le.Uint32(b))
	case 8:
		return le.Uint64(b)
	}
	return 0
}

func putInt(b []byte, size int, v uint64) {
	le := binary.LittleEndian
	switch size {
	case 1:
		b[0] = byte(v)
	case 2:
		le.PutUint16(b, uint16(v))
	case 4:
		le.PutUint32(b, uint32(v))
	case 8:
		le.PutUint64(b, v)
	}
}
