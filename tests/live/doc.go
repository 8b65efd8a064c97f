// Package live holds end-to-end tests of the otrace binary against the
// running kernel: `otrace run`, `record` and `list` as a user types them.
// Each test starts its own workload (small C, Go and JavaScript programs in testdata/, built
// with gcc when the tests start), waits on the real events it causes, and
// checks their counts and contents.
//
// The tests need root, tracefs and perf events. Without root they are
// skipped; with OTRACE_LIVE=1 (as CI sets it) anything missing — root,
// tracefs, gcc, setpriv — makes them fail instead, so a CI job cannot pass
// by skipping them. Run them with
//
//	sudo go test ./tests/live/ -v
//	OTRACE_LIVE=1 go test ./tests/live/
package live
