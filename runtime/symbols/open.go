package symbols

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// openBinary opens the file behind obj, or finds it already open under the
// same identity, and returns its binary. A file that cannot be opened
// still gets a binary: a debug file found by build-id may resolve it.
func (r *Resolver) openBinary(obj Object) *binaryFile {
	f, openedAs := r.openMapped(obj)
	if f == nil {
		// Said when a frame needs it (userFrames), not for every mapping
		// of every process.
		r.stats.Failures++
		return newBinary(nil, obj, "")
	}
	key := "f:" + obj.Path
	if fi, err := f.Stat(); err == nil {
		key = fileKey(obj.Path, fi)
	}
	if b := r.byFile[key]; b != nil {
		f.Close()
		return b
	}
	r.stats.Opened++
	b := newBinary(f, obj, openedAs)
	r.byFile[key] = b
	return b
}

// openMapped opens the file a process mapped, trying in order: Symfs, the
// process's own root (containers), its map_files entry (deleted files),
// and the plain path; a Windows path where windowsCandidates says.
// openedAs is the path that worked, for finding .gnu_debuglink files
// beside it.
func (r *Resolver) openMapped(obj Object) (f *os.File, openedAs string) {
	path := strings.TrimSuffix(obj.Path, " (deleted)")
	try := func(p string) bool {
		var err error
		f, err = os.Open(p)
		if err != nil {
			return false
		}
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			f.Close()
			f = nil
			return false
		}
		openedAs = p
		return true
	}
	if IsWindowsPath(path) {
		// Neither /proc nor the path as written means anything for a
		// file of a Windows process read elsewhere.
		for _, p := range r.windowsCandidates(path) {
			if try(p) {
				return f, openedAs
			}
		}
		return nil, ""
	}
	if r.opts.Symfs != "" && try(filepath.Join(r.opts.Symfs, path)) {
		return f, openedAs
	}
	if obj.PID > 0 {
		pidDir := filepath.Join(r.opts.ProcRoot, strconv.Itoa(int(obj.PID)))
		if try(filepath.Join(pidDir, "root", path)) {
			return f, openedAs
		}
		if mf := findMapFile(pidDir, obj.Start); mf != "" && try(mf) {
			// Keep the debuglink directory pointing at where the file lived.
			openedAs = filepath.Join(pidDir, "root", path)
			return f, openedAs
		}
	}
	if try(path) {
		return f, openedAs
	}
	return nil, ""
}

// findMapFile returns the /proc/PID/map_files entry of the mapping that
// starts at start ("START-END" in lowercase hex), or "".
func findMapFile(pidDir string, start uint64) string {
	dir := filepath.Join(pidDir, "map_files")
	d, err := os.Open(dir)
	if err != nil {
		return ""
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return ""
	}
	prefix := strconv.FormatUint(start, 16) + "-"
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			return filepath.Join(dir, n)
		}
	}
	return ""
}
