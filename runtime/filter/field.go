package filter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"otrace/runtime/event"
)

// isString says whether the kernel filters f as a string: an array or a
// dynamic array whose type names char, "unsigned char" included (the
// kernel's rule, which is looser than event.Field.String).
func isString(f *event.Field) bool {
	switch f.Kind {
	case event.Array, event.DataLoc, event.RelLoc:
		return strings.Contains(f.Type, "char")
	}
	return false
}

// unsupported says why a field of the format cannot be filtered on by
// otrace, or "" when it can.
func unsupported(f *event.Field) string {
	switch f.Kind {
	case event.Scalar, event.Pointer:
		if t := strings.ReplaceAll(f.Type, " ", ""); t == "char*" || t == "constchar*" {
			return fmt.Sprintf("%s is a %s: the kernel compares the string it points to, which is not in the payload, so otrace cannot evaluate it", f.Name, f.Type)
		}
		if f.Size != 1 && f.Size != 2 && f.Size != 4 && f.Size != 8 {
			return fmt.Sprintf("%s is a %d-byte %s; filters compare 1, 2, 4 or 8-byte integers", f.Name, f.Size, f.Type)
		}
	case event.Array, event.DataLoc, event.RelLoc:
		if !isString(f) {
			return fmt.Sprintf("%s is an array (%s); filters compare integers and strings, not arrays (test it in the handler)", f.Name, f.Type)
		}
	default:
		return fmt.Sprintf("%s has a layout otrace does not know (%s)", f.Name, f.Kind)
	}
	return ""
}

// pseudoFields are names the kernel resolves when the event has no field of
// that name: they read the running task and CPU, not the payload.
var pseudoFields = map[string]string{
	"COMM":       "the current task's comm",
	"comm":       "the current task's comm",
	"CPU":        "the current CPU",
	"cpu":        "the current CPU",
	"common_cpu": "the current CPU",
	"STACKTRACE": "the kernel stack",
	"stacktrace": "the kernel stack",
}

// describe names a field's type for messages: "pid_t, signed 32-bit".
func describe(f *event.Field) string {
	if isString(f) {
		return f.Type
	}
	sign := "unsigned"
	if f.Signed {
		sign = "signed"
	}
	return fmt.Sprintf("%s, %s %d-bit", f.Type, sign, 8*f.Size)
}

// maxNumber is the longest number the kernel reads (its buffer holds 23
// characters and a NUL).
const maxNumber = 23

// maxString is the longest string value the kernel takes.
const maxString = 255

var (
	errNotNumber = errors.New("not a number")
	errNegative  = errors.New("negative")
	errRange     = errors.New("out of range")
)

// parseNumber reads s as the kernel's kstrtoll (signed) or kstrtoull
// (unsigned) with base 0 do: an optional '-' for signed fields, then 0x hex,
// 0-prefixed octal or decimal, within the 64-bit range of the signedness.
// A negative value comes back in two's complement.
func parseNumber(s string, signed bool) (uint64, error) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		if !signed {
			return 0, errNegative
		}
		s = s[1:]
	}
	base := 10
	if strings.HasPrefix(s, "0") {
		base = 8
		if len(s) > 2 && (s[1]|0x20) == 'x' && isHex(s[2]) {
			base, s = 16, s[2:]
		}
	}
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, errNotNumber
	}
	u, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errRange
		}
		return 0, errNotNumber
	}
	switch {
	case !signed:
		return u, nil
	case neg && u > 1<<63, !neg && u > 1<<63-1:
		return 0, errRange
	case neg:
		return -u, nil
	}
	return u, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// truncate cuts v to a field of size bytes, as the kernel casts the value
// to the field's C type, sign-extending for signed fields so that the
// result compares with the field loaded the same way.
func truncate(v uint64, size int, signed bool) uint64 {
	if size >= 8 {
		return v
	}
	shift := uint(64 - 8*size)
	if signed {
		return uint64(int64(v<<shift) >> shift)
	}
	return v << shift >> shift
}
