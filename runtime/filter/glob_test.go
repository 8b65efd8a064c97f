package filter

import (
	"path"
	"strings"
	"testing"
)

func TestGlobMatchesLikeTheKernel(t *testing.T) {
	cases := []struct {
		name, pat, s string
		want         bool
	}{
		{"a literal matches itself", "abc", "abc", true},
		{"a literal does not match a longer string", "abc", "abcd", false},
		{"? matches one byte", "a?c", "abc", true},
		{"? does not match nothing", "a?c", "ac", false},
		{"* matches nothing", "a*c", "ac", true},
		{"* matches a run", "a*c", "abbbc", true},
		{"* matches a slash, unlike path.Match", "/usr/*/ls", "/usr/local/bin/ls", true},
		{"* backtracks to find the last match", "*a*b", "xaxbxab", true},
		{"a trailing * matches the rest", "ab*", "abxyz", true},
		{"a class matches a member", "[abc]x", "bx", true},
		{"a class rejects a non-member", "[abc]x", "dx", false},
		{"a range matches inside it", "[a-c]", "b", true},
		{"a range rejects outside it", "[a-c]", "d", false},
		{"! negates a class", "[!a-c]", "d", true},
		{"^ does not negate a class, unlike path.Match", "[^a]", "^", true},
		{"a ] first in a class is a member", "[]a]", "]", true},
		{"a - last in a class is a member", "[a-]", "-", true},
		{"a reversed range matches nothing", "[c-a]", "b", false},
		{"a class does not match the end", "x[!a]", "x", false},
		{"an unclosed [ is a literal, where path.Match fails", "a[b", "a[b", true},
		{"an unclosed [ does not match other bytes", "a[b", "ab", false},
		{"an unclosed range is a literal", "[a-", "[a-", true},
		{`\ quotes a wildcard`, `a\*`, "a*", true},
		{`\ quoting * does not match a run`, `a\*`, "ab", false},
		{`a trailing \ matches the end`, `ab\`, "ab", true},
		{`a trailing \ does not match a byte`, `ab\`, "abc", false},
		{"the empty pattern matches the empty string", "", "", true},
		{"the empty pattern matches nothing else", "", "a", false},
		{"bytes above 0x7f compare as bytes", "[\x80-\xff]", "\xe9", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := glob(c.pat, []byte(c.s)); got != c.want {
				t.Errorf("glob(%q, %q) = %v, want %v", c.pat, c.s, got, c.want)
			}
		})
	}
}

func TestGlobKindFollowsTheKernelsReading(t *testing.T) {
	cases := []struct {
		name, pat string
		kind      strKind
		search    string
		not       bool
	}{
		{"a plain string is a full match", "abc", matchFull, "abc", false},
		{"a trailing * is a prefix match", "abc*", matchPrefix, "abc", false},
		{"a leading * is a suffix match", "*abc", matchSuffix, "abc", false},
		{"* at both ends is a substring match", "*abc*", matchSubstr, "abc", false},
		{"a lone * is an empty suffix", "*", matchSuffix, "", false},
		{"** is an empty substring", "**", matchSubstr, "", false},
		{"an inner * is a glob", "a*c", matchGlob, "a*c", false},
		{"? is a glob", "a?", matchGlob, "a?", false},
		{"[ is a glob", "[ab]*", matchGlob, "[ab]*", false},
		{`\ is a glob`, `a\b`, matchGlob, `a\b`, false},
		{"a leading ! negates", "!abc*", matchPrefix, "abc", true},
		{"a ! elsewhere is a literal", "a!", matchFull, "a!", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kind, search, not := globKind(c.pat)
			if kind != c.kind || search != c.search || not != c.not {
				t.Errorf("globKind(%q) = %v, %q, %v; want %v, %q, %v", c.pat, kind, search, not, c.kind, c.search, c.not)
			}
		})
	}
}

// FuzzGlobAgreesWithPathMatch compares glob with path.Match where the two
// mean the same: patterns of literals, ? and * over strings with no '/'.
func FuzzGlobAgreesWithPathMatch(f *testing.F) {
	f.Add("a*b?c*", "axxbycz")
	f.Add("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaab")
	f.Fuzz(func(t *testing.T, pat, s string) {
		keep := func(r rune) rune {
			if strings.ContainsRune("ab*?", r) {
				return r
			}
			return 'a'
		}
		pat = strings.Map(keep, pat)
		s = strings.Map(keep, s)
		want, err := path.Match(pat, s)
		if err != nil {
			t.Fatalf("path.Match(%q): %v", pat, err)
		}
		if got := glob(pat, []byte(s)); got != want {
			t.Errorf("glob(%q, %q) = %v, path.Match says %v", pat, s, got, want)
		}
	})
}
