//go:build !linux

package perfdata

import "otrace/runtime/process"

// hostKernel reports false: only Linux has a kernel perf can symbolize.
func hostKernel() (process.Mmap, bool) { return process.Mmap{}, false }
