package procfs

import "otrace/runtime/session"

// A session.Sink is what Scan feeds in otrace.
var _ Visitor = session.Sink(nil)
