package etw

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

// GUID is a Windows GUID as ETW stores it: Data1..Data3 little-endian,
// Data4 as bytes. It mirrors windows.GUID so that the portable core does
// not import x/sys/windows.
type GUID struct {
	Data1 uint32
	Data2 uint16
	Data3 uint16
	Data4 [8]byte
}

// guidAt reads the 16 bytes at b[0:16].
func guidAt(b []byte) GUID {
	var g GUID
	g.Data1 = binary.LittleEndian.Uint32(b)
	g.Data2 = binary.LittleEndian.Uint16(b[4:])
	g.Data3 = binary.LittleEndian.Uint16(b[6:])
	copy(g.Data4[:], b[8:16])
	return g
}

// appendGUID appends the 16 bytes of g in ETW's layout.
func appendGUID(b []byte, g GUID) []byte {
	b = binary.LittleEndian.AppendUint32(b, g.Data1)
	b = binary.LittleEndian.AppendUint16(b, g.Data2)
	b = binary.LittleEndian.AppendUint16(b, g.Data3)
	return append(b, g.Data4[:]...)
}

// String formats g as Windows does, lower case: {ce1dbfb4-137e-4da6-87b0-3f59aa102cbc}.
func (g GUID) String() string {
	var b [38]byte
	return string(g.appendText(b[:0]))
}

func (g GUID) appendText(b []byte) []byte {
	const hex = "0123456789abcdef"
	put := func(v uint64, digits int) {
		for i := digits - 1; i >= 0; i-- {
			b = append(b, hex[(v>>(4*uint(i)))&15])
		}
	}
	b = append(b, '{')
	put(uint64(g.Data1), 8)
	b = append(b, '-')
	put(uint64(g.Data2), 4)
	b = append(b, '-')
	put(uint64(g.Data3), 4)
	b = append(b, '-')
	put(uint64(g.Data4[0])<<8|uint64(g.Data4[1]), 4)
	b = append(b, '-')
	for _, c := range g.Data4[2:] {
		put(uint64(c), 2)
	}
	return append(b, '}')
}

// ParseGUID reads a GUID written as {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx},
// with or without the braces, in either case.
func ParseGUID(s string) (GUID, error) {
	t := strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(t) != 36 || (s[0] == '{') != (s[len(s)-1] == '}') {
		return GUID{}, fmt.Errorf("bad GUID %q: want {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}", s)
	}
	var raw [16]byte
	n := 0
	for i := 0; i < len(t); {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if t[i] != '-' {
				return GUID{}, fmt.Errorf("bad GUID %q: want a dash at %d", s, i)
			}
			i++
			continue
		}
		hi, ok1 := unhex(t[i])
		lo, ok2 := unhex(t[i+1])
		if !ok1 || !ok2 {
			return GUID{}, fmt.Errorf("bad GUID %q: %q is not hexadecimal", s, t[i:i+2])
		}
		raw[n] = hi<<4 | lo
		n++
		i += 2
	}
	// The text is big-endian; the first three groups are stored
	// little-endian.
	return GUID{
		Data1: binary.BigEndian.Uint32(raw[0:]),
		Data2: binary.BigEndian.Uint16(raw[4:]),
		Data3: binary.BigEndian.Uint16(raw[6:]),
		Data4: [8]byte(raw[8:16]),
	}, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// mustGUID is ParseGUID for the constants below.
func mustGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

// ProviderGUIDFromName derives the GUID that EventSource and TraceLogging
// providers register when given only a name: a SHA-1 over a fixed
// namespace and the upper-cased name in big-endian UTF-16, with the
// version nibble set to 5 and the result read as a little-endian GUID.
// It is how tools such as PerfView and wpr enable "*Name" providers.
func ProviderGUIDFromName(name string) GUID {
	h := sha1.New()
	h.Write([]byte{0x48, 0x2c, 0x2d, 0xb2, 0xc3, 0x90, 0x47, 0xc8, 0x87, 0xf8, 0x1a, 0x15, 0xbf, 0xc1, 0x30, 0xfb})
	for _, u := range utf16.Encode([]rune(strings.ToUpper(name))) {
		h.Write([]byte{byte(u >> 8), byte(u)})
	}
	sum := h.Sum(nil)
	sum[7] = sum[7]&0x0f | 0x50
	return guidAt(sum)
}
