package tracefs

import (
	"errors"

	"golang.org/x/sys/unix"
)

// mountTracefs mounts tracefs at dir, as `mount -t tracefs nodev dir` does.
// It passes no options on purpose: tracefs has one superblock per system,
// so options given here (gid=, mode=) would change every mount of it,
// including ones in other mount namespaces.
func mountTracefs(dir string) error {
	return unix.Mount("nodev", dir, "tracefs", 0, "")
}

// processAlive reports whether pid names a live process. EPERM means it
// exists but belongs to someone we may not signal.
func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}
