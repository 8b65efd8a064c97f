package symbols

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// staleTemp is how old a cache writer's temporary file must be before
// another writer takes it for the leftover of one that was killed.
const staleTemp = time.Hour

// writeCacheFile writes data to path (mode 0600) through a temporary file
// in the same directory and a rename, so that a reader never sees half a
// file and a mapping of the old one stays whole. The directory is made
// with dirMode. Temporary files left by writers killed mid-write are
// removed on the way.
func writeCacheFile(path string, data []byte, dirMode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return err
	}
	removeStaleTemps(dir, time.Now())
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

func removeStaleTemps(dir string, now time.Time) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".tmp-") {
			continue
		}
		if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > staleTemp {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
