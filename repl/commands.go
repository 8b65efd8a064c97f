package repl

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"otrace/bindings/eventobj"
	"otrace/runtime/event"
	"otrace/runtime/session"
)

// command is one of the colon commands.
type command struct {
	name  string
	args  string // as help shows them
	brief string
	run   func(r *REPL, args []string) error
	// arg says what the first argument completes to.
	arg argKind
}

type argKind int

const (
	argNone argKind = iota
	argProbe
	argFile
	argHelp
	argGlobal
)

// commands are the colon commands, in the order :help lists them.
var commands []*command

func init() {
	commands = []*command{
		{name: "help", args: "[TOPIC]", brief: "this help; TOPIC is a command, an otrace function, 'probes', 'event' or a probe name", run: (*REPL).help, arg: argHelp},
		{name: "list", args: "[GLOB]", brief: "list probes (sched:*, *switch*; a bare word matches inside names)", run: (*REPL).list, arg: argProbe},
		{name: "fields", args: "PROBE", brief: "show the fields a handler of PROBE sees (e.FIELD)", run: (*REPL).fields, arg: argProbe},
		{name: "start", brief: "start tracing: enable the attached probes (with --input, play the recording)", run: (*REPL).start},
		{name: "stop", brief: "stop tracing: end handlers run, aggregations print, the summary follows", run: (*REPL).stop},
		{name: "pause", brief: "disable the probes for a while; :resume enables them", run: (*REPL).pause},
		{name: "resume", brief: "enable the probes again after :pause", run: (*REPL).resume},
		{name: "handlers", brief: "the attached handlers: events, loss, errors and time of each", run: (*REPL).handlers},
		{name: "detach", args: "N", brief: "remove handler N (see :handlers)", run: (*REPL).detach},
		{name: "maps", brief: "print the aggregations, counters and maps", run: (*REPL).maps},
		{name: "clear", args: "NAME", brief: "empty an aggregation (by name or variable) or a map", run: (*REPL).clear, arg: argGlobal},
		{name: "stats", brief: "events, loss, handler errors and time of the session", run: (*REPL).stats},
		{name: "load", args: "FILE", brief: "run a script into the session", run: (*REPL).loadCmd, arg: argFile},
		{name: "save", args: "FILE", brief: "write the accepted input as a script for otrace run", run: (*REPL).save, arg: argFile},
		{name: "export", args: "NAME FILE", brief: "write a profile, timeline or aggregation to FILE (.pb.gz, .folded, .json, .txt...)", run: (*REPL).export, arg: argGlobal},
		{name: "quit", brief: "stop tracing and leave (Ctrl-D)", run: (*REPL).quitCmd},
	}
}

// aliases are other names of commands.
var aliases = map[string]string{"q": "quit", "exit": "quit", "h": "help", "?": "help", "ls": "list"}

func findCommand(name string) *command {
	if a, ok := aliases[name]; ok {
		name = a
	}
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// command runs a line starting with ':'.
func (r *REPL) command(line string) {
	words := strings.Fields(strings.TrimPrefix(line, ":"))
	if len(words) == 0 {
		fmt.Fprintln(r.errw, "otrace: a command name follows ':' (:help lists them)")
		return
	}
	c := findCommand(words[0])
	if c == nil {
		var close []string
		for _, c := range commands {
			if strings.HasPrefix(c.name, words[0]) {
				close = append(close, ":"+c.name)
			}
		}
		hint := ":help lists the commands"
		if len(close) > 0 {
			hint = "did you mean " + strings.Join(close, ", ") + "?"
		}
		fmt.Fprintf(r.errw, "otrace: unknown command :%s; %s\n", words[0], hint)
		return
	}
	if err := c.run(r, words[1:]); err != nil {
		fmt.Fprintf(r.errw, "otrace: :%s: %v\n", c.name, err)
	}
}

func usage(name string) error {
	c := findCommand(name)
	return fmt.Errorf("usage: :%s %s", c.name, c.args)
}

func (r *REPL) quitCmd([]string) error {
	r.quit = true
	return nil
}

func (r *REPL) start(args []string) error {
	if len(args) != 0 {
		return usage("start")
	}
	ended, err := r.eng.start()
	if err != nil {
		return err
	}
	if r.cfg.Recording == "" {
		var n int
		r.eng.do(func() {
			for _, ev := range r.eng.sess.Events() {
				if len(ev.Handlers) > 0 {
					n++
				}
			}
		})
		fmt.Fprintf(r.out, "tracing started (%s); :stop ends it\n", plural(n, "probe"))
		return nil
	}
	// A recording plays at full speed: wait for its end, which prints
	// the summary. Ctrl-C stops it.
	fmt.Fprintf(r.out, "playing %s\n", r.cfg.Recording)
	r.waiting.Store(true)
	<-ended
	r.waiting.Store(false)
	return nil
}

func (r *REPL) stop(args []string) error {
	if len(args) != 0 {
		return usage("stop")
	}
	return r.eng.stop(":stop")
}

func (r *REPL) pause(args []string) error {
	if len(args) != 0 {
		return usage("pause")
	}
	var err error
	if derr := r.eng.do(func() { err = r.eng.sess.Pause() }); derr != nil {
		return derr
	}
	if err == nil {
		fmt.Fprintln(r.out, "paused; :resume enables the probes again")
	}
	return err
}

func (r *REPL) resume(args []string) error {
	if len(args) != 0 {
		return usage("resume")
	}
	var err error
	if derr := r.eng.do(func() { err = r.eng.sess.Resume() }); derr != nil {
		return derr
	}
	if err == nil {
		fmt.Fprintln(r.out, "resumed")
	}
	return err
}

func (r *REPL) detach(args []string) error {
	if len(args) != 1 {
		return usage("detach")
	}
	n, err := strconv.Atoi(strings.TrimPrefix(args[0], "#"))
	if err != nil {
		return fmt.Errorf("%q is not a handler number (see :handlers)", args[0])
	}
	var what string
	derr := r.eng.do(func() {
		all := r.eng.sess.Attachments()
		if n < 0 || n >= len(all) || r.eng.sess.Detached(all[n]) {
			err = fmt.Errorf("there is no handler %d (see :handlers)", n)
			return
		}
		what = label(all[n])
		err = r.eng.sess.Detach(all[n])
	})
	if derr != nil {
		return derr
	}
	if err == nil {
		fmt.Fprintf(r.out, "detached %s\n", what)
	}
	return err
}

func (r *REPL) loadCmd(args []string) error {
	if len(args) != 1 {
		return usage("load")
	}
	r.load(args[0])
	return nil
}

// save writes the accepted input as a script, through a temporary file
// renamed over FILE.
func (r *REPL) save(args []string) error {
	if len(args) != 1 {
		return usage("save")
	}
	if len(r.saved) == 0 {
		return errors.New("nothing to save: no input has run yet")
	}
	file := args[0]
	var b strings.Builder
	fmt.Fprintf(&b, "// Saved by otrace repl on %s.\n// Run it with: otrace run [-d DURATION] %s\n\n", time.Now().Format("2006-01-02 15:04"), filepath.Base(file))
	var detached []bool
	r.eng.do(func() {
		for _, in := range r.saved {
			detached = append(detached, allDetached(r.eng.sess, in))
		}
	})
	for i, in := range r.saved {
		if i < len(detached) && detached[i] {
			b.WriteString("// detached in the REPL:\n// " + strings.ReplaceAll(in.src, "\n", "\n// ") + "\n")
			continue
		}
		b.WriteString(in.src)
		b.WriteString("\n")
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.WriteString(b.String())
	if err := tmp.Close(); werr == nil {
		werr = err
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), file)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return werr
	}
	fmt.Fprintf(r.out, "saved %s to %s\n", plural(len(r.saved), "input"), file)
	return nil
}

// allDetached reports whether an input only attached handlers, and all
// of them were detached since.
func allDetached(s *session.Session, in accepted) bool {
	if in.defined || len(in.attached) == 0 {
		return false
	}
	for _, a := range in.attached {
		if !s.Detached(a) {
			return false
		}
	}
	return true
}

// probeNames are the names the source can trace, asked once.
func (r *REPL) probeNames() []string {
	if r.names == nil {
		r.eng.do(func() { r.names = r.eng.src.Catalog().Names() })
		if r.names == nil {
			r.names = []string{}
		}
	}
	return r.names
}

// matchProbes lists the names a :list pattern matches: a glob, or a bare
// word found anywhere in a name.
func matchProbes(names []string, pattern string) ([]string, error) {
	if pattern == "" {
		return names, nil
	}
	if !strings.ContainsAny(pattern, "*?[:") {
		pattern = "*" + pattern + "*"
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("bad glob %q: %v", pattern, err)
	}
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(pattern, n); ok {
			out = append(out, n)
		}
	}
	return out, nil
}

func (r *REPL) list(args []string) error {
	if len(args) > 1 {
		return usage("list")
	}
	pattern := ""
	if len(args) == 1 {
		pattern = args[0]
	}
	names, err := matchProbes(r.probeNames(), pattern)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte('\n')
	}
	if r.cfg.Recording == "" && pattern == "" {
		b.WriteString("profile:hz:N  uprobe:PATH:SYMBOL  uretprobe:PATH:SYMBOL  (see :help probes)\n")
	}
	fmt.Fprintf(&b, "%s\n", plural(len(names), "probe"))
	if len(names) == 0 && pattern != "" {
		return fmt.Errorf("no probe matches %q", pattern)
	}
	r.out.Write([]byte(b.String()))
	return nil
}

// extraMembers are the event object's members besides its payload.
var extraMembers = []string{"fields", "has", "field", "copy", "lost", "stack", "kstack", "ustack", "exe"}

func (r *REPL) fields(args []string) error {
	if len(args) != 1 {
		return usage("fields")
	}
	var evs []*event.Event
	var err error
	if derr := r.eng.do(func() { evs, err = r.eng.sess.Resolve(args[0]) }); derr != nil {
		return derr
	}
	if err != nil {
		return err
	}
	r.out.Write([]byte(describeFields(evs)))
	return nil
}

// describeFields lists each event's payload fields with their C types.
func describeFields(evs []*event.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "%s\n", ev.Name)
		n := 0
		if ev.Format != nil {
			for _, f := range ev.Format.Fields {
				if event.IsCommon(f.Name) {
					continue
				}
				fmt.Fprintf(&b, "    %-28s e.%s\n", f.Type, f.Name)
				n++
			}
		}
		if n == 0 {
			b.WriteString("    (no payload fields)\n")
		}
	}
	fmt.Fprintf(&b, "every event also has e.%s, e.%s\n", strings.Join(eventobj.Builtin, ", e."), strings.Join(extraMembers, ", e."))
	return b.String()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return session.Commas(uint64(n)) + " " + what + "s"
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
