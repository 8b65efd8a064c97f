//go:build !linux

package tracefs

// liveChild reports that this test process is no live-test child: live
// tests run only on Linux.
func liveChild() (int, bool) { return 0, false }
