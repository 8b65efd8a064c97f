//go:build !linux

package perfdata

func removeBenchCapture() {}
