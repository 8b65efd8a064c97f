//go:build unix

package symbols

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the file at path read-only. Lookups touch a few pages of a
// DWARF section of megabytes: mapped, the rest is never read or copied
// into the heap. The caller unmaps with the returned func. Only for files
// that are replaced by rename, never rewritten in place (a truncated
// mapping faults).
func mapFile(path string) ([]byte, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() == 0 {
		return []byte{}, func() {}, nil
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, func() { unix.Munmap(data) }, nil
}
