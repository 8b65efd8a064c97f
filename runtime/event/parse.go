package event

import (
	"fmt"
	"strconv"
	"strings"
)

// FormatError reports a line of format text that could not be parsed.
type FormatError struct {
	Line int // 1-based
	Msg  string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("format line %d: %s", e.Line, e.Msg)
}

// ParseFormat parses the text of a tracefs "format" file (the same text
// perf.data carries in its tracing-data section and otrace recordings carry
// in their EVENT records). system names the event's subsystem, which the
// text itself does not contain.
func ParseFormat(system string, text []byte) (*Format, error) {
	f := &Format{System: system, byName: map[string]int{}, Text: text}
	lines := strings.Split(string(text), "\n")
	seen := false
scan:
	for i, line := range lines {
		n := i + 1
		t := strings.TrimSpace(line)
		switch {
		case t == "" || t == "format:":
		case strings.HasPrefix(t, "name:"):
			f.Name = strings.TrimSpace(t[len("name:"):])
		case strings.HasPrefix(t, "ID:"):
			id, err := strconv.ParseUint(strings.TrimSpace(t[3:]), 10, 32)
			if err != nil {
				return nil, &FormatError{n, fmt.Sprintf("bad ID %q", t[3:])}
			}
			f.ID = uint32(id)
		case strings.HasPrefix(t, "field:"):
			fld, err := parseField(t)
			if err != nil {
				return nil, &FormatError{n, err.Error()}
			}
			if f.Field(fld.Name) != nil {
				return nil, &FormatError{n, fmt.Sprintf("field %q appears twice", fld.Name)}
			}
			f.Fields = append(f.Fields, fld)
			f.byName[fld.Name] = len(f.Fields) - 1
			seen = true
		case strings.HasPrefix(t, "print fmt:"):
			// The print format comes last and the kernel writes its C
			// string verbatim, so a "\n" in it (ext4_fsmap_*) makes it span
			// lines: the rest of the text is all print format.
			rest := strings.Join(lines[i:], "\n")
			rest = rest[strings.Index(rest, "print fmt:")+len("print fmt:"):]
			f.Print = strings.TrimSpace(rest)
			break scan
		default:
			return nil, &FormatError{n, fmt.Sprintf("unexpected text %q", clip(t))}
		}
	}
	if f.Name == "" {
		return nil, &FormatError{1, "no \"name:\" line"}
	}
	if !seen {
		return nil, &FormatError{len(lines), "no fields"}
	}
	return f, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// parseField parses one line such as
//
//	field:char prev_comm[16];	offset:8;	size:16;	signed:0;
func parseField(line string) (Field, error) {
	var fld Field
	var decl string
	haveOff, haveSize := false, false
	for _, part := range strings.Split(line, ";") {
		part = strings.TrimSpace(part)
		key, val, ok := strings.Cut(part, ":")
		if !ok {
			if part != "" {
				return fld, fmt.Errorf("unexpected %q", clip(part))
			}
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "field":
			decl = val
		case "offset", "size", "signed":
			v, err := strconv.Atoi(val)
			if err != nil || v < 0 {
				return fld, fmt.Errorf("bad %s %q", key, val)
			}
			switch key {
			case "offset":
				fld.Offset, haveOff = v, true
			case "size":
				fld.Size, haveSize = v, true
			default:
				fld.Signed = v != 0
			}
		}
	}
	if decl == "" || !haveOff || !haveSize {
		return fld, fmt.Errorf("field needs a declaration, offset and size")
	}
	if fld.Offset > 1<<16 || fld.Size > 1<<16 {
		return fld, fmt.Errorf("offset %d or size %d out of range", fld.Offset, fld.Size)
	}
	if err := parseDecl(decl, &fld); err != nil {
		return fld, err
	}
	return fld, nil
}

// parseDecl fills Name, Type, Kind, ElemSize and String from a C
// declaration like "unsigned long args[6]" or "__data_loc char[] name".
func parseDecl(decl string, fld *Field) error {
	kind := Scalar
	switch {
	case strings.HasPrefix(decl, "__data_loc "):
		kind, decl = DataLoc, strings.TrimSpace(decl[len("__data_loc "):])
	case strings.HasPrefix(decl, "__rel_loc "):
		kind, decl = RelLoc, strings.TrimSpace(decl[len("__rel_loc "):])
	}
	// Split off the name: the last identifier before any "[...]" suffix.
	base, count := decl, ""
	if i := strings.IndexByte(decl, '['); i >= 0 {
		j := strings.LastIndexByte(decl, ']')
		if j < i {
			return fmt.Errorf("unbalanced [ in %q", clip(decl))
		}
		base, count = strings.TrimSpace(decl[:i]), strings.TrimSpace(decl[i+1:j])
		if rest := strings.TrimSpace(decl[j+1:]); rest != "" {
			// "__data_loc char[] name": the name follows the brackets.
			base = base + " " + rest
		}
	}
	k := strings.LastIndexAny(base, " *")
	name := strings.TrimSpace(base[k+1:])
	ctype := strings.TrimSpace(base[:k+1])
	if name == "" || !isIdent(name) || ctype == "" {
		return fmt.Errorf("cannot find the field name in %q", clip(decl))
	}
	fld.Name = name
	isArray := strings.Contains(decl, "[")
	elem := typeSize(ctype)
	switch {
	case kind != Scalar:
		fld.Type = ctype + "[]"
		fld.ElemSize = elem
	case isArray:
		kind = Array
		fld.Type = ctype + "[" + count + "]"
		if n, err := strconv.Atoi(count); err == nil && n > 0 && fld.Size > 0 && fld.Size%n == 0 {
			elem = fld.Size / n
		}
		fld.ElemSize = elem
	default:
		fld.Type = ctype
		fld.ElemSize = fld.Size
		if strings.Contains(ctype, "*") {
			kind = Pointer
		}
	}
	if (kind == DataLoc || kind == RelLoc) && fld.Size < 4 {
		return fmt.Errorf("%s field %q has size %d, want 4", kind, name, fld.Size)
	}
	fld.Kind = kind
	fld.String = (kind == Array || kind == DataLoc || kind == RelLoc) && isCharType(ctype)
	return nil
}

func isIdent(s string) bool {
	for i, c := range s {
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return false
		}
	}
	return s != ""
}

// isCharType says whether an array of t is text. unsigned char arrays are
// bytes (MAC addresses in bridge events), not strings.
func isCharType(t string) bool {
	switch strings.TrimPrefix(t, "const ") {
	case "char", "signed char":
		return true
	}
	return false
}

// typeSize guesses the size of a C element type, for dynamic arrays whose
// format gives only the locator's size. Unknown types count as bytes.
func typeSize(t string) int {
	t = strings.TrimPrefix(t, "const ")
	if strings.Contains(t, "*") {
		return 8
	}
	switch t {
	case "short", "unsigned short", "u16", "s16", "__u16", "__s16", "__le16", "__be16":
		return 2
	case "int", "unsigned int", "unsigned", "u32", "s32", "__u32", "__s32", "pid_t", "__le32", "__be32", "gfp_t", "dev_t":
		return 4
	case "long", "unsigned long", "long long", "unsigned long long", "u64", "s64", "__u64", "__s64", "size_t", "loff_t", "sector_t", "ino_t":
		return 8
	}
	return 1
}
