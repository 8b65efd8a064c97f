//go:build unix && !linux

package main

// nameLauncher: only Linux lets a process rename itself this way.
func nameLauncher() {}
