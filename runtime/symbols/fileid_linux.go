package symbols

import (
	"os"
	"strconv"
	"syscall"
)

// fileKey identifies a file by path, device and inode, so that one binary
// mapped by many processes is opened and parsed once.
func fileKey(path string, fi os.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "f:" + path
	}
	return "f:" + path + "\x00" + strconv.FormatUint(uint64(st.Dev), 16) + ":" + strconv.FormatUint(st.Ino, 16)
}

// fileOwner returns the uid that owns fi.
func fileOwner(fi os.FileInfo) (uid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
