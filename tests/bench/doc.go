// Package bench holds the dispatch benchmarks: an in-memory recording read,
// decoded and dispatched to a handler, end to end, as `otrace run --input`
// does it. Run them with
//
//	go test ./tests/bench -run '^$' -bench . -benchmem
//
// Each reports ns/event and allocs/event over a 100,000-switch recording.
package bench
