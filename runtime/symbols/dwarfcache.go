package symbols

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
)

// dwarfCache keeps the DWARF sections of debug files decompressed on
// disk, by build-id, so that a later run reads them instead of inflating
// them again. Distribution debug files compress their DWARF: libc's
// .debug_info, .debug_line and .debug_abbrev took 50-60 ms of a run's CPU
// to inflate, each time, for the few functions a profile names. A
// build-id names the exact bytes, so an entry is never stale; the
// directory can be deleted at any time.
type dwarfCache struct{ dir string }

// DefaultCacheDir is where otrace keeps its caches: $OTRACE_CACHE_DIR,
// else $XDG_CACHE_HOME/otrace, else ~/.cache/otrace; "" when
// OTRACE_CACHE_DIR is "off" or no home is known.
func DefaultCacheDir() string {
	if d, ok := os.LookupEnv("OTRACE_CACHE_DIR"); ok {
		if d == "off" {
			return ""
		}
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "otrace")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "otrace")
	}
	return ""
}

// section returns s's uncompressed bytes: from the cache when s is
// compressed and the cache has it (mapped, not read: release unmaps it),
// else decompressed (and then cached). release is never nil.
func (c *dwarfCache) section(s *elf.Section, buildID []byte) (data []byte, release func(), err error) {
	release = func() {}
	if c == nil || c.dir == "" || len(buildID) == 0 || s.Flags&elf.SHF_COMPRESSED == 0 {
		data, err = s.Data()
		return data, release, err
	}
	path := filepath.Join(c.dir, "dwarf", fmt.Sprintf("%x", buildID), s.Name)
	// debug/elf gives a compressed section's Size as its inflated size.
	if data, unmap, err := mapFile(path); err == nil {
		if uint64(len(data)) == s.Size {
			return data, unmap, nil
		}
		unmap()
	}
	if data, err = s.Data(); err != nil {
		return nil, release, err
	}
	c.store(path, data)
	return data, release, nil
}

// store writes data to path; a cache that cannot be written is no error.
func (c *dwarfCache) store(path string, data []byte) {
	writeCacheFile(path, data, 0o755)
}
