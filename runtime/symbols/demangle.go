package symbols

import (
	"strings"

	"github.com/ianlancetaylor/demangle"
)

// demangleName turns a C++ (_Z…) or Rust (legacy _ZN…17h<hash>E, v0 _R…)
// symbol into the name a person reads, without parameter lists, as perf
// prints them by default ("ns::Widget::spin", "core::fmt::write"). The
// Rust legacy hash suffix is dropped. Anything it cannot demangle (or
// that is not mangled, like Go and C names) comes back unchanged.
func demangleName(s string) (out string) {
	if len(s) < 3 || s[0] != '_' || (s[1] != 'Z' && s[1] != 'R') {
		return s
	}
	defer func() {
		if recover() != nil {
			out = s
		}
	}()
	d, err := demangle.ToString(s, demangle.NoParams)
	if err != nil || d == "" {
		return s
	}
	return dropRustHash(d)
}

// dropRustHash removes a trailing "::h" + 16 hex digits, the hash a
// legacy Rust symbol carries (the demangler keeps it when the digits look
// too regular to be a hash).
func dropRustHash(s string) string {
	const n = len("::h") + 16
	if len(s) <= n || !strings.HasPrefix(s[len(s)-n:], "::h") {
		return s
	}
	for _, c := range s[len(s)-16:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return s
		}
	}
	return s[:len(s)-n]
}
