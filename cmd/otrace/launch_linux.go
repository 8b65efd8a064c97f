package main

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// nameLauncher names the launcher "otrace-exec" until it execs, so its few
// events are not mistaken for otrace's own or the command's.
func nameLauncher() {
	name := []byte("otrace-exec\x00")
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&name[0])), 0, 0, 0)
}
