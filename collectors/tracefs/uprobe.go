package tracefs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"otrace/runtime/event"
)

// maxNameLen is the longest event or group name the kernel takes
// (MAX_EVENT_NAME_LEN less its NUL).
const maxNameLen = 63

// groupPrefix starts the name of every uprobe group otrace creates; the
// creating process's pid follows.
const groupPrefix = "otrace_"

// Uprobe says where to place a user-space probe.
type Uprobe struct {
	// Path is the ELF executable or shared library: a path when it has a
	// "/", else a name TargetFinder.Find resolves ("libc", "libc.so.6",
	// "bash").
	Path   string
	Symbol string // the function; may carry "+N" as probe names write it
	Offset uint64 // bytes into the function, added to any "+N"
	Return bool   // probe the function's returns (a uretprobe), not its entry
}

// UprobeEvent is a uprobe event this process created in uprobe_events.
// Beside the kernel's own fields, its Format holds what AddUprobe fetched:
// the u64 arguments arg0..arg5 (ArgField) on an entry, the u64 retval
// (RetvalField) on a return.
type UprobeEvent struct {
	Uprobe                     // as asked for: Path may be a bare name
	ResolvedPath string        // the absolute path of the file probed ("/lib/x86_64-linux-gnu/libc.so.6")
	System       string        // the group, "otrace_<pid>"
	Name         string        // the event, from the symbol ("main_target")
	ID           uint32        // the tracepoint id perf_event_open takes
	Format       *event.Format // the payload layout, read after creation
	FileOffset   uint64        // where in ResolvedPath the probe sits

	fs      *FS
	removed bool // guarded by fs.probeMu
}

// String is the event's catalogue name, "otrace_<pid>:name".
func (e *UprobeEvent) String() string { return e.System + ":" + e.Name }

// group is this process's uprobe group.
func (t *FS) group() string { return groupPrefix + strconv.Itoa(t.pid) }

// AddUprobe finds u's file (see TargetFinder), resolves its symbol to a
// file offset, creates the uprobe event in this process's group, fetching
// the arguments on entry or the return value on return, and returns it
// with its ID and format. The event exists until Remove, RemoveUprobes, or
// a later otrace's CleanStaleUprobes once this process is gone.
func (t *FS) AddUprobe(u Uprobe) (*UprobeEvent, error) {
	symbol, plus, err := splitSymbol(u.Symbol)
	if err != nil {
		return nil, err
	}
	plus += u.Offset
	found, err := t.targets.Find(u.Path)
	if err != nil {
		return nil, err
	}
	path, err := targetPath(found)
	if err != nil {
		return nil, err
	}
	off, err := resolve(path, symbol, plus)
	if err != nil {
		return nil, err
	}

	t.probeMu.Lock()
	defer t.probeMu.Unlock()
	e := &UprobeEvent{Uprobe: u, ResolvedPath: path, System: t.group(), FileOffset: off, fs: t}
	e.Name, err = t.uniqueName(eventName(symbol, plus, u.Return))
	if err != nil {
		return nil, err
	}
	cmd, err := probeCommand(e, t.goarch)
	if err != nil {
		return nil, err
	}
	if err := t.command(cmd); err != nil {
		return nil, err
	}
	t.forgetCatalogue("")
	e.Format, err = t.Format(e.System, e.Name)
	if err != nil {
		rmErr := t.command("-:" + e.System + "/" + e.Name)
		return nil, errors.Join(fmt.Errorf("tracefs: created uprobe %q but cannot read its format: %w", cmd, err), rmErr)
	}
	e.ID = e.Format.ID
	t.uprobes[e.Name] = e
	return e, nil
}

// targetPath checks the probed file exists and makes its path absolute:
// the kernel resolves a relative one against its writer's directory, and
// the uprobe_events syntax cannot carry whitespace.
func targetPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("uprobe target %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("uprobe target %s does not exist", path)
	case err != nil:
		return "", fmt.Errorf("uprobe target %s: %w", path, err)
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("uprobe target %s is not a regular file", path)
	case strings.ContainsAny(abs, " \t\n"):
		return "", fmt.Errorf("uprobe target %q: uprobe_events cannot name a path with whitespace; probe it through a symlink without any", abs)
	}
	return abs, nil
}

// splitSymbol separates "name+N" (N decimal or 0x hex) into name and N.
func splitSymbol(s string) (string, uint64, error) {
	name, off, ok := strings.Cut(s, "+")
	if name == "" {
		return "", 0, fmt.Errorf("uprobe %q: no function name", s)
	}
	if !ok {
		return name, 0, nil
	}
	n, err := strconv.ParseUint(off, 0, 64)
	if err != nil {
		return "", 0, fmt.Errorf("uprobe %q: offset after + must be a number such as 0x10", s)
	}
	return name, n, nil
}

// eventName makes a tracefs event name for a probe on symbol: C-identifier
// characters only (each run of others becomes one "_"), "_0xN" for an
// offset into the function, "__return" for a uretprobe, at most
// maxNameLen bytes with the suffix kept.
func eventName(symbol string, plus uint64, ret bool) string {
	var b strings.Builder
	for i := 0; i < len(symbol); i++ {
		c := symbol[i]
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			b.WriteByte(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
	}
	base := strings.TrimRight(b.String(), "_")
	if base == "" || base[0] >= '0' && base[0] <= '9' {
		base = "f_" + base
	}
	suffix := ""
	if plus != 0 {
		suffix += "_0x" + strconv.FormatUint(plus, 16)
	}
	if ret {
		suffix += "__return"
	}
	return truncate(base, maxNameLen-len(suffix)) + suffix
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// uniqueName returns base, or base_2, base_3..., whichever names no event
// of ours and none in uprobe_events: writing an existing name at another
// place would silently add a second probe to that event. Called with
// probeMu held.
func (t *FS) uniqueName(base string) (string, error) {
	text, err := os.ReadFile(filepath.Join(t.root, "uprobe_events"))
	if err != nil {
		return "", t.readError(err)
	}
	taken := map[string]bool{}
	for _, p := range parseProbeList(string(text)) {
		if p.group == t.group() {
			taken[p.event] = true // a crashed otrace that had our pid left it
		}
	}
	for i := 1; ; i++ {
		name := base
		if i > 1 {
			tag := "_" + strconv.Itoa(i)
			name = truncate(base, maxNameLen-len(tag)) + tag
		}
		if _, ours := t.uprobes[name]; !ours && !taken[name] {
			return name, nil
		}
	}
}

// Remove deletes the event from uprobe_events. The kernel refuses while a
// perf event is open on it (or it is enabled in tracefs): close those
// first. Removing twice is not an error.
func (e *UprobeEvent) Remove() error {
	t := e.fs
	t.probeMu.Lock()
	defer t.probeMu.Unlock()
	if e.removed {
		return nil
	}
	if err := t.removeEvent(e.System, e.Name); err != nil {
		return err
	}
	e.removed = true
	delete(t.uprobes, e.Name)
	return nil
}

// RemoveUprobes removes every uprobe event this FS created, reporting each
// one it could not remove.
func (t *FS) RemoveUprobes() error {
	t.probeMu.Lock()
	events := make([]*UprobeEvent, 0, len(t.uprobes))
	for _, e := range t.uprobes {
		events = append(events, e)
	}
	t.probeMu.Unlock()
	var errs []error
	for _, e := range events {
		errs = append(errs, e.Remove())
	}
	return errors.Join(errs...)
}

// CleanStaleUprobes removes the uprobe events of every otrace_<pid> group
// whose process no longer exists: what an otrace that crashed or was
// killed left behind. It returns how many events it removed.
//
// A pid is checked in this process's pid namespace; an otrace in another
// namespace sharing this tracefs looks dead from here.
func (t *FS) CleanStaleUprobes() (int, error) {
	text, err := os.ReadFile(filepath.Join(t.root, "uprobe_events"))
	if err != nil {
		return 0, t.readError(err)
	}
	t.probeMu.Lock()
	defer t.probeMu.Unlock()
	n := 0
	var errs []error
	for _, p := range parseProbeList(string(text)) {
		pid, ok := groupPID(p.group)
		if !ok || pid == t.pid || t.alive(pid) {
			continue
		}
		if err := t.removeEvent(p.group, p.event); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// removeEvent writes "-:group/event". An event already gone counts as
// removed. Called with probeMu held.
func (t *FS) removeEvent(group, name string) error {
	err := t.command("-:" + group + "/" + name)
	switch {
	case errors.Is(err, syscall.EBUSY):
		return fmt.Errorf("tracefs: cannot remove uprobe event %s:%s: %w: it is in use (a perf event is still open on it, or it is enabled in tracefs); close the perf events first", group, name, syscall.EBUSY)
	case errors.Is(err, fs.ErrNotExist):
		err = nil
	case err != nil:
		return err
	}
	t.forgetCatalogue(group + ":" + name)
	return nil
}

// forgetCatalogue drops the cached event list, and the cached format of
// name when it is not empty, after uprobe_events changed.
func (t *FS) forgetCatalogue(name string) {
	t.mu.Lock()
	t.events = nil
	delete(t.formats, name)
	t.mu.Unlock()
}

// groupPID returns the pid in a group named otrace_<pid>.
func groupPID(group string) (int, bool) {
	s, ok := strings.CutPrefix(group, groupPrefix)
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(s)
	return pid, err == nil && pid > 0 && strconv.Itoa(pid) == s
}
