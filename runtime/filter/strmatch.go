package filter

import "bytes"

// strKind is how a string predicate compares, chosen from the value the
// way the kernel chooses it.
type strKind uint8

const (
	matchFull   strKind = iota // ==, !=, and ~ without wildcards
	matchPrefix                // ~ "abc*"
	matchSubstr                // ~ "*abc*"
	matchSuffix                // ~ "*abc"
	matchGlob                  // ~ with ?, [, \ or an inner *
)

// strMatch is a compiled string comparison.
type strMatch struct {
	text string // the value as written between the quotes
	kind strKind
	pat  string // what is compared: text less a leading ! and outer *s
	patb []byte // pat, for bytes.Contains
	not  bool   // != or ~ "!..."
}

// newStrMatch compiles value for op (==, != or ~).
func newStrMatch(o op, value string) strMatch {
	m := strMatch{text: value, pat: value, not: o == opNE}
	if o == opGlob {
		m.kind, m.pat, m.not = globKind(value)
	}
	m.patb = []byte(m.pat)
	return m
}

// globKind reads a ~ pattern: a leading ! negates it; a * at the start, the
// end or both makes a suffix, prefix or substring match; anything else
// special makes it a full glob.
func globKind(p string) (kind strKind, pat string, not bool) {
	if len(p) > 0 && p[0] == '!' {
		p, not = p[1:], true
	}
	kind = matchFull
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*':
			switch {
			case i == 0:
				kind = matchSuffix
			case i == len(p)-1:
				kind = matchPrefix
				if p[0] == '*' {
					kind = matchSubstr
				}
				p = p[:i]
			default:
				return matchGlob, p, not
			}
		case '?', '[', '\\':
			return matchGlob, p, not
		}
	}
	if kind == matchSuffix || kind == matchSubstr {
		p = p[1:]
	}
	return kind, p, not
}

// match compares the bytes of a string field: a fixed char array, or the
// data of a dynamic string, its NUL included. Like the kernel, it does not
// stop at the first NUL everywhere: a full match compares at most len(b)
// bytes, a substring match searches all of b, and a suffix match ends just
// before the last byte.
func (m *strMatch) match(b []byte) bool {
	var ok bool
	switch m.kind {
	case matchFull:
		ok = fullMatch(b, m.pat)
	case matchPrefix:
		ok = len(b) >= len(m.pat) && string(b[:len(m.pat)]) == m.pat
	case matchSubstr:
		ok = bytes.Contains(b, m.patb)
	case matchSuffix:
		n := len(b) - 1
		ok = n >= len(m.pat) && string(b[n-len(m.pat):n]) == m.pat
	case matchGlob:
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		ok = glob(m.pat, b)
	}
	return ok != m.not
}

// fullMatch is strncmp(b, pat, len(b)) == 0: the string in b equals pat, or
// b holds no NUL and pat starts with all of b.
func fullMatch(b []byte, pat string) bool {
	if len(b) == 0 {
		return pat == ""
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i]) == pat
	}
	return len(pat) >= len(b) && pat[:len(b)] == string(b)
}

// glob reports whether s matches the shell pattern pat as the kernel's
// glob_match does: ? is any byte, * any run of bytes ('/' included),
// [...] a class of bytes and ranges, negated by a leading ! and closed by
// a ] that is not its first member; \ quotes the next byte; a [ that is
// never closed is a literal. It backtracks only to the last *, so it runs
// in O(len(pat) * len(s)).
func glob(pat string, s []byte) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for {
		if p < len(pat) {
			next, ok := p+1, false
			switch pat[p] {
			case '*':
				if next == len(pat) {
					return true
				}
				// Match nothing for now; on a mismatch, come back and
				// let the * take one more byte.
				starP, starI = next, i
				p = next
				continue
			case '?':
				ok = i < len(s)
			case '[':
				if in, end, closed := class(pat, next, s, i); closed {
					ok, next = in, end
				} else {
					ok = i < len(s) && s[i] == '['
				}
			case '\\':
				if next == len(pat) {
					// A trailing \ quotes the end: like the end of the pattern.
					if i == len(s) {
						return true
					}
					break
				}
				ok = i < len(s) && s[i] == pat[next]
				next++
			default:
				ok = i < len(s) && s[i] == pat[p]
			}
			if ok {
				p, i = next, i+1
				continue
			}
		} else if i == len(s) {
			return true
		}
		if i >= len(s) || starP < 0 {
			return false
		}
		starI++
		p, i = starP, starI
	}
}

// class matches s[i] against the class that starts at pat[j], just after
// its [. It returns whether s[i] is in the class, where the class ends, and
// false for closed when there is no closing ] (then the [ is a literal).
func class(pat string, j int, s []byte, i int) (in bool, end int, closed bool) {
	negated := j < len(pat) && pat[j] == '!'
	if negated {
		j++
	}
	if j >= len(pat) {
		return false, 0, false
	}
	var c byte
	if i < len(s) {
		c = s[i]
	}
	lo := pat[j]
	j++
	for {
		hi := lo
		if j < len(pat) && pat[j] == '-' && (j+1 >= len(pat) || pat[j+1] != ']') {
			if j+1 >= len(pat) {
				return false, 0, false
			}
			hi = pat[j+1]
			j += 2
		}
		if lo <= c && c <= hi {
			in = true
		}
		if j >= len(pat) {
			return false, 0, false
		}
		lo = pat[j]
		j++
		if lo == ']' {
			break
		}
	}
	// The end of s is in no class.
	return in != negated && i < len(s), j, true
}
