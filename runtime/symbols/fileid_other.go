//go:build !linux

package symbols

import (
	"os"
	"strconv"
)

// fileKey identifies a file by path, size and modification time where
// device and inode are not at hand.
func fileKey(path string, fi os.FileInfo) string {
	return "f:" + path + "\x00" + strconv.FormatInt(fi.Size(), 16) + ":" + strconv.FormatInt(fi.ModTime().UnixNano(), 16)
}

// fileOwner does not know owners here; perf maps are a Linux thing.
func fileOwner(fi os.FileInfo) (uid int, ok bool) { return 0, false }
