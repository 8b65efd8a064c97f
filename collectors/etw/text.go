package etw

import (
	"encoding/binary"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// appendValueText appends one encoded value of type t (raw is exactly its
// bytes in the payload, prefixes and terminators included) as UTF-8 text.
// Nothing here allocates.
func appendValueText(dst []byte, t InType, raw []byte, ptr int) []byte {
	le := binary.LittleEndian
	switch t {
	case InUnicodeString, InNonNullTerminatedString:
		return appendUTF16(dst, raw)
	case InAnsiString, InNonNullTerminatedAnsiString:
		return appendBytesToNUL(dst, raw)
	case InManifestCountedString, InCountedString, InReversedCountedString:
		return appendUTF16(dst, raw[2:])
	case InManifestCountedAnsiString, InCountedAnsiString, InReversedCountedAnsiString:
		return appendBytesToNUL(dst, raw[2:])
	case InGUID:
		return guidAt(raw).appendText(dst)
	case InSID:
		return appendSID(dst, raw)
	case InWBEMSID:
		if len(raw) <= 4 {
			return dst // a NULL token
		}
		return appendSID(dst, raw[2*ptr:])
	case InSystemtime:
		return appendSystemTime(dst, raw)
	case InFloat:
		return strconv.AppendFloat(dst, float64(math.Float32frombits(le.Uint32(raw))), 'g', -1, 32)
	case InDouble:
		return strconv.AppendFloat(dst, math.Float64frombits(le.Uint64(raw)), 'g', -1, 64)
	}
	return dst
}

// appendChars appends a fixed-length char array (UTF-16 or 8-bit) up to
// its first NUL.
func appendChars(dst, raw []byte, wide bool) []byte {
	if wide {
		return appendUTF16(dst, raw)
	}
	return appendBytesToNUL(dst, raw)
}

// appendBytesToNUL appends an 8-bit string up to its first NUL. ANSI text
// is passed through: otrace cannot know the writer's code page, and
// TraceLogging and most providers write UTF-8 or ASCII.
func appendBytesToNUL(dst, raw []byte) []byte {
	for _, c := range raw {
		if c == 0 {
			break
		}
		dst = append(dst, c)
	}
	return dst
}

// appendUTF16 converts little-endian UTF-16 up to its first NUL to UTF-8;
// unpaired surrogates become U+FFFD.
func appendUTF16(dst, raw []byte) []byte {
	le := binary.LittleEndian
	for i := 0; i+1 < len(raw); i += 2 {
		u := rune(le.Uint16(raw[i:]))
		if u == 0 {
			break
		}
		if utf16.IsSurrogate(u) {
			r := utf8.RuneError
			if i+3 < len(raw) {
				if d := utf16.DecodeRune(u, rune(le.Uint16(raw[i+2:]))); d != utf8.RuneError {
					r = d
					i += 2
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		}
		dst = utf8.AppendRune(dst, u)
	}
	return dst
}

// appendSID appends a SID in its S-1-5-21-... form: revision, the 48-bit
// big-endian identifier authority, then each 32-bit sub-authority.
func appendSID(dst, raw []byte) []byte {
	if len(raw) < 8 {
		return dst
	}
	n := int(raw[1])
	dst = append(dst, 'S', '-')
	dst = strconv.AppendUint(dst, uint64(raw[0]), 10)
	var auth uint64
	for _, c := range raw[2:8] {
		auth = auth<<8 | uint64(c)
	}
	dst = append(dst, '-')
	dst = strconv.AppendUint(dst, auth, 10)
	for i := 0; i < n && 8+4*i+4 <= len(raw); i++ {
		dst = append(dst, '-')
		dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(raw[8+4*i:])), 10)
	}
	return dst
}

// appendSystemTime appends a SYSTEMTIME (eight u16: year, month, day of
// week, day, hour, minute, second, milliseconds) as
// 2006-01-02T15:04:05.000.
func appendSystemTime(dst, raw []byte) []byte {
	if len(raw) < 16 {
		return dst
	}
	f := func(i int) uint64 { return uint64(binary.LittleEndian.Uint16(raw[2*i:])) }
	pad := func(v uint64, w int) {
		var b [6]byte
		s := strconv.AppendUint(b[:0], v, 10)
		for k := len(s); k < w; k++ {
			dst = append(dst, '0')
		}
		dst = append(dst, s...)
	}
	pad(f(0), 4)
	dst = append(dst, '-')
	pad(f(1), 2)
	dst = append(dst, '-')
	pad(f(3), 2)
	dst = append(dst, 'T')
	pad(f(4), 2)
	dst = append(dst, ':')
	pad(f(5), 2)
	dst = append(dst, ':')
	pad(f(6), 2)
	dst = append(dst, '.')
	pad(f(7), 3)
	return dst
}
