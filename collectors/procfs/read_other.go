//go:build !linux

package procfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// readFile reads path into buf (growing it) and returns the contents.
// Only Linux has /proc files with this layout; elsewhere this serves
// tests on copies of such trees.
func readFile(path string, buf []byte, _ bool) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return buf[:0], err
	}
	defer f.Close()
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// vanished reports whether err means the process or thread has exited.
func vanished(err error) bool { return errors.Is(err, fs.ErrNotExist) }
