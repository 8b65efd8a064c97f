package tracefs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// command writes one line to uprobe_events. The file is opened for
// appending: opened for writing without O_APPEND, tracefs would first
// delete every uprobe event on the system. A refused command's error wraps
// the kernel's errno and quotes the kernel's reason from error_log.
func (t *FS) command(cmd string) error {
	file := filepath.Join(t.root, "uprobe_events")
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Not wrapped: callers read ErrNotExist as "no such event".
		return fmt.Errorf("tracefs: no %s: this kernel has no uprobe events (CONFIG_UPROBE_EVENTS is off)", file)
	case err != nil:
		return t.readError(err)
	}
	_, err = f.WriteString(cmd + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	why := ""
	if log, rerr := os.ReadFile(filepath.Join(t.root, "error_log")); rerr == nil {
		if msg := lastLogError(string(log), cmd); msg != "" {
			why = " (error_log: " + msg + ")"
		}
	}
	return fmt.Errorf("tracefs: kernel refused %q in uprobe_events: %w%s", cmd, err, why)
}

// lastLogError returns the reason of the last entry in tracefs's error_log
// when that entry is about cmd. An entry reads
//
//	[ 1569.259793] trace_uprobe: error: Probe type is different from existing probe
//	  Command: r:otrace_1/malloc /usr/lib/x86_64-linux-gnu/libc.so.6:0x98930
//	           ^
//
// The log keeps old entries, so one about another command is not ours.
func lastLogError(log, cmd string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		_, msg, ok := strings.Cut(lines[i], " error: ")
		if !ok {
			continue
		}
		if i+1 < len(lines) {
			logged, ok := strings.CutPrefix(strings.TrimSpace(lines[i+1]), "Command:")
			if ok && strings.TrimSpace(logged) == cmd {
				return strings.TrimSpace(msg)
			}
		}
		return ""
	}
	return ""
}

// probeLine is one line of uprobe_events: "p:GROUP/EVENT PATH:0xOFFSET".
type probeLine struct {
	group, event string
}

// parseProbeList parses the text of uprobe_events, skipping lines it does
// not understand.
func parseProbeList(text string) []probeLine {
	var out []probeLine
	for _, line := range strings.Split(text, "\n") {
		head, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		kind, name, ok := strings.Cut(head, ":")
		if !ok || kind != "p" && kind != "r" {
			continue
		}
		group, event, ok := strings.Cut(name, "/")
		if !ok || group == "" || event == "" || strings.Contains(event, "/") {
			continue
		}
		out = append(out, probeLine{group, event})
	}
	return out
}
