package repl

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/peterh/liner"
)

// errAborted is Ctrl-C at the prompt.
var errAborted = errors.New("input aborted")

// lineReader reads the user's lines.
type lineReader interface {
	// Prompt shows prompt and returns a line without its newline; io.EOF
	// at the end of input (Ctrl-D), errAborted on Ctrl-C.
	Prompt(prompt string) (string, error)
	// Remember adds a line to the history.
	Remember(line string)
	// Close restores the terminal and saves the history.
	Close() error
}

// IsTerminal reports whether standard input is a terminal liner can edit
// lines on.
func IsTerminal() bool {
	_, err := liner.TerminalMode()
	return err == nil
}

// HistoryPath is where the history is kept: $XDG_STATE_HOME/otrace/history,
// else ~/.local/state/otrace/history; "" when neither is known.
func HistoryPath() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil || home == "" {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "otrace", "history")
}

// terminal is a lineReader on liner: line editing, history, completion.
type terminal struct {
	st      *liner.State
	history string
}

func newTerminal(history string, complete liner.WordCompleter) *terminal {
	st := liner.NewLiner()
	st.SetCtrlCAborts(true)
	st.SetTabCompletionStyle(liner.TabPrints)
	st.SetWordCompleter(complete)
	t := &terminal{st: st, history: history}
	if history != "" {
		if f, err := os.Open(history); err == nil {
			st.ReadHistory(f)
			f.Close()
		}
	}
	return t
}

func (t *terminal) Prompt(prompt string) (string, error) {
	line, err := t.st.Prompt(prompt)
	if errors.Is(err, liner.ErrPromptAborted) {
		return "", errAborted
	}
	return line, err
}

func (t *terminal) Remember(line string) { t.st.AppendHistory(line) }

// Close saves the history (through a temporary file, so a crash cannot
// leave half of it) and restores the terminal.
func (t *terminal) Close() error {
	defer t.st.Close()
	if t.history == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(t.history), 0o700); err != nil {
		return err
	}
	tmp := t.history + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, werr := t.st.WriteHistory(f)
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		os.Remove(tmp)
		return werr
	}
	return os.Rename(tmp, t.history)
}

// plain reads lines from a pipe or file: no prompt, no editing, no
// history, so that a REPL session can be scripted.
type plain struct{ r *bufio.Reader }

func newPlain(r io.Reader) *plain { return &plain{r: bufio.NewReader(r)} }

func (p *plain) Prompt(string) (string, error) {
	line, err := p.r.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (p *plain) Remember(string) {}
func (p *plain) Close() error    { return nil }
