package procfs

import (
	"errors"
	"io/fs"
	"syscall"
)

// readFile reads path into buf (growing it) and returns the contents.
// It costs three system calls, where os.ReadFile costs six (it also
// registers the file with the poller and asks its size, which procfs
// reports as 0). A procfs file made of one record (stat, comm, status)
// arrives whole in one read that does not fill the buffer, so once means
// a short read is the end; maps needs reading to the end.
func readFile(path string, buf []byte, once bool) ([]byte, error) {
	fd, err := openRetry(path)
	if err != nil {
		return buf[:0], &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	if cap(buf) < 4096 {
		buf = make([]byte, 0, 4096)
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return buf, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		short := len(buf)+n < cap(buf)
		buf = buf[:len(buf)+n]
		if n == 0 || once && short {
			return buf, nil
		}
	}
}

func openRetry(path string) (int, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

// vanished reports whether err means the process or thread has exited:
// its directory is gone (ENOENT), or it died while a file was open (ESRCH).
func vanished(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}
