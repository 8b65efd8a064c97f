package repl

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/d5/tengo/v2"

	"otrace/bindings/aggobj"
	"otrace/bindings/eventobj"
	"otrace/runtime/event"
)

// keywords are Tengo's, offered with the names in scope.
var keywords = []string{"break", "continue", "else", "error", "export", "false", "for", "func", "if", "immutable", "import", "in", "return", "true", "undefined"}

// complete is liner's word completer. pos counts runes.
func (r *REPL) complete(line string, pos int) (head string, completions []string, tail string) {
	rs := []rune(line)
	pos = min(max(pos, 0), len(rs))
	before, tail := string(rs[:pos]), string(rs[pos:])
	head, completions = r.completions(before)
	return head, completions, tail
}

// completions returns what may replace the end of before: the text kept
// and the candidates for the rest.
func (r *REPL) completions(before string) (string, []string) {
	if len(r.pending) == 0 && strings.HasPrefix(strings.TrimLeft(before, " \t"), ":") {
		return r.completeCommand(before)
	}
	ctx := before
	if len(r.pending) > 0 {
		ctx = strings.Join(r.pending, "\n") + "\n" + before
	}
	if q := openQuote(before); q >= 0 {
		word := before[q+1:]
		if probeArgument.MatchString(ctx[:len(ctx)-len(before)+q]) {
			return before[:q+1], r.matchingProbes(word)
		}
		return before, nil
	}
	word := trailingWord(before)
	keep := before[:len(before)-len(word)]
	dot := strings.LastIndexByte(word, '.')
	if dot < 0 {
		return keep, withPrefix(append(r.identifiers(), keywords...), word)
	}
	base, partial := word[:dot], word[dot+1:]
	keep += word[:dot+1]
	if !strings.Contains(base, ".") {
		if probes, ok := handlerProbes(ctx, base); ok {
			return keep, withPrefix(r.eventMembers(probes), partial)
		}
	}
	return keep, withPrefix(r.valueMembers(strings.Split(base, ".")), partial)
}

// completeCommand completes a command name, or its argument.
func (r *REPL) completeCommand(before string) (string, []string) {
	colon := strings.IndexByte(before, ':')
	rest := before[colon+1:]
	sp := strings.IndexAny(rest, " \t")
	if sp < 0 {
		var names []string
		for _, c := range commands {
			names = append(names, c.name)
		}
		return before[:colon+1], withPrefix(names, rest)
	}
	c := findCommand(rest[:sp])
	if c == nil {
		return before, nil
	}
	arg := before[strings.LastIndexAny(before, " \t")+1:]
	keep := before[:len(before)-len(arg)]
	switch c.arg {
	case argProbe:
		return keep, r.matchingProbes(arg)
	case argFile:
		return keep, files(arg)
	case argGlobal:
		return keep, withPrefix(r.globalsOfKind(func(v tengo.Object) bool {
			if _, ok := aggobj.Agg(v); ok {
				return true
			}
			switch v.(type) {
			case *tengo.Map, *tengo.Array:
				return true
			}
			return v.TypeName() == "profile" || v.TypeName() == "timeline"
		}), arg)
	case argHelp:
		topics := []string{"probes", "event"}
		for _, c := range commands {
			topics = append(topics, c.name)
		}
		topics = append(topics, sortedKeys(moduleHelp)...)
		if strings.Contains(arg, ":") {
			return keep, r.matchingProbes(arg)
		}
		return keep, withPrefix(topics, arg)
	}
	return before, nil
}

// probeArgument matches the text before the first string of otrace.on or
// otrace.counter, or before another string in an array of probes.
var probeArgument = regexp.MustCompile(`otrace\s*\.\s*(on|counter)\s*\(\s*(\[\s*("(?:[^"\\]|\\.)*"\s*,\s*)*)?$`)

// matchingProbes completes a probe name: names starting with word, or,
// when word has a glob, the names word* matches.
func (r *REPL) matchingProbes(word string) []string {
	names := r.probeNames()
	if r.cfg.Recording == "" {
		names = append(slices.Clone(names), "profile:hz:99", "uprobe:", "uretprobe:")
	}
	if !strings.ContainsAny(word, "*?[") {
		return withPrefix(names, word)
	}
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(word+"*", n); ok {
			out = append(out, n)
		}
	}
	return out
}

// identifiers are the names an input can use.
func (r *REPL) identifiers() []string {
	var names []string
	r.eng.do(func() { names = r.eng.script.Names() })
	return names
}

// valueMembers are the members of the value a dotted path names: a map's
// or a module's keys, or an object's methods. Nothing is called.
func (r *REPL) valueMembers(parts []string) []string {
	var out []string
	r.eng.do(func() {
		v, ok := r.eng.script.Global(parts[0])
		if !ok {
			return
		}
		for _, p := range parts[1:] {
			next, err := v.IndexGet(&tengo.String{Value: p})
			if err != nil || next == nil {
				return
			}
			v = next
		}
		out = members(v)
	})
	return out
}

// members lists what "v." can be followed by.
func members(v tengo.Object) []string {
	switch m := v.(type) {
	case *tengo.Map:
		return sortedKeys(m.Value)
	case *tengo.ImmutableMap:
		return sortedKeys(m.Value)
	}
	if m, ok := v.(interface{ Methods() []string }); ok {
		return m.Methods()
	}
	// otrace's objects name their members when asked for another one:
	// "a counter has value() and rate(), not ...". Each name found is
	// checked by asking for it.
	_, err := v.IndexGet(&tengo.String{Value: "\x00"})
	if err == nil {
		return nil
	}
	msg := err.Error()
	i, j := strings.Index(msg, " has "), strings.LastIndex(msg, ", not ")
	if i < 0 || j < i {
		return nil
	}
	var out []string
	for _, part := range strings.Split(strings.ReplaceAll(msg[i+5:j], " and ", ", "), ", ") {
		name := strings.TrimSuffix(strings.TrimSpace(part), "()")
		if !isIdent(name) {
			continue
		}
		if m, err := v.IndexGet(&tengo.String{Value: name}); err == nil && m != nil {
			out = append(out, name)
		}
	}
	return out
}

// handlerCall matches otrace.on("probe" or [probes], [opts,] func(e).
var handlerCall = regexp.MustCompile(`otrace\s*\.\s*on\s*\(\s*("(?:[^"\\]|\\.)*"|\[[^\]]*\])\s*,\s*(?:\{[^{}]*\}\s*,\s*)?func\s*\(\s*([A-Za-z_]\w*)\s*\)`)

var stringLit = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// handlerProbes finds the probes of the handler whose body the end of ctx
// is in, when its parameter is param.
func handlerProbes(ctx, param string) ([]string, bool) {
	ms := handlerCall.FindAllStringSubmatchIndex(ctx, -1)
	for i := len(ms) - 1; i >= 0; i-- {
		m := ms[i]
		if ctx[m[4]:m[5]] != param || !insideBody(ctx[m[1]:]) {
			continue
		}
		var probes []string
		for _, lit := range stringLit.FindAllString(ctx[m[2]:m[3]], -1) {
			if s, err := strconv.Unquote(lit); err == nil {
				probes = append(probes, s)
			}
		}
		return probes, len(probes) > 0
	}
	return nil, false
}

// insideBody reports whether text, which follows a function's parameter
// list, ends inside its body: the braces opened are not all closed.
func insideBody(text string) bool {
	depth, opened := 0, false
	inStr := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{':
			depth++
			opened = true
		case c == '}':
			depth--
			if depth == 0 && opened {
				return false
			}
		}
	}
	return opened && depth > 0
}

// eventMembers are the members of a handler's event for these probes.
func (r *REPL) eventMembers(probes []string) []string {
	names := append(slices.Clone(eventobj.Builtin), extraMembers...)
	r.eng.do(func() {
		for _, p := range probes {
			evs, err := r.eng.sess.Resolve(p)
			if err != nil {
				continue
			}
			for _, ev := range evs {
				names = append(names, payloadFields(ev)...)
			}
		}
	})
	return names
}

func payloadFields(ev *event.Event) []string {
	var out []string
	if ev.Format == nil {
		return nil
	}
	for _, f := range ev.Format.Fields {
		if !event.IsCommon(f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}

// files completes a file name.
func files(partial string) []string {
	matches, _ := filepath.Glob(partial + "*")
	var out []string
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.IsDir() {
			m += string(filepath.Separator)
		}
		out = append(out, m)
	}
	return out
}

// openQuote returns the index of the quote that opens a string still
// open at the end of line, or -1.
func openQuote(line string) int {
	open := -1
	raw := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case open >= 0 && !raw && c == '\\':
			i++
		case open >= 0 && ((c == '"' && !raw) || (c == '`' && raw)):
			open = -1
		case open < 0 && (c == '"' || c == '`'):
			open, raw = i, c == '`'
		}
	}
	if raw {
		return -1
	}
	return open
}

// trailingWord is the identifier, possibly dotted, that ends line.
func trailingWord(line string) string {
	i := len(line)
	for i > 0 {
		c := rune(line[i-1])
		if c != '_' && c != '.' && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			break
		}
		i--
	}
	return line[i:]
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c != '_' && !unicode.IsLetter(c) && (i == 0 || !unicode.IsDigit(c)) {
			return false
		}
	}
	return true
}

// withPrefix returns the sorted, distinct names starting with prefix.
func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
