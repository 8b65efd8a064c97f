package export

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// WriteFile writes data (a *Profile or a *Timeline) to path in format w,
// or, when w is nil, in the format path's ending selects (ForPath). It
// writes a temporary file beside path and renames it over path, so path
// holds either what it held before or the whole export, never part of
// it; on failure the temporary file is removed.
func WriteFile(path string, w Writer, data any) error {
	if w == nil {
		var err error
		if w, err = ForPath(path, data); err != nil {
			return err
		}
	} else if !w.Accepts(data) {
		return &FormatError{Format: w.Name(), Err: fmt.Errorf("cannot write a %s", kindOf(data))}
	}
	write := writeAtomically
	if special(path) {
		write = writeInPlace
	}
	if err := write(path, w, data); err != nil {
		return &FileError{Path: path, Kind: kindOf(data), Err: err}
	}
	return nil
}

// special reports whether path exists and is not a regular file (a
// terminal, /dev/stdout, a pipe): renaming over it would replace the
// device, so it is written in place.
func special(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.Mode().IsRegular()
}

// writeInPlace writes to an existing non-regular file.
func writeInPlace(path string, w Writer, data any) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := w.Write(f, data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeAtomically(path string, w Writer, data any) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	tmp, open, done := f.Name(), true, false
	// Also on a panic in w, which leaves err nil.
	defer func() {
		if !done {
			if open {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()
	if err = w.Write(f, data); err != nil {
		return err
	}
	// Synced before the rename, so a crash cannot leave path empty.
	if err = f.Sync(); err != nil {
		return err
	}
	open = false
	if err = f.Close(); err != nil {
		return err
	}
	// CreateTemp makes the file private; an export is for people to open.
	if err = os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		// Systems say "file exists" or "access denied" for this; say what
		// is wrong.
		if fi, serr := os.Stat(path); serr == nil && fi.IsDir() {
			return &fs.PathError{Op: "rename", Path: path, Err: syscall.EISDIR}
		}
		return err
	}
	done = true
	return nil
}

// FileError is a failed WriteFile. Its message names the file the user
// asked for, not the temporary one, and says the data was not lost:
// "export: writing out.pb.gz: no space left on device; the profile is
// still in memory".
type FileError struct {
	Path string
	Kind string // "profile", "timeline"
	Err  error
}

func (e *FileError) Error() string {
	return "export: writing " + e.Path + ": " + cause(e.Err) + "; the " + e.Kind + " is still in memory"
}

func (e *FileError) Unwrap() error { return e.Err }

// cause is the part of err worth showing: the system's reason without
// the temporary file's name, or a format's complaint.
func cause(err error) string {
	var fe *FormatError
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &fe):
		return fe.Format + ": " + fe.Err.Error()
	case errors.As(err, &pe):
		return pe.Err.Error()
	case errors.As(err, &le):
		return le.Err.Error()
	}
	return err.Error()
}
