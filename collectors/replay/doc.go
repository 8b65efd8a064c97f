// Package replay owns otrace's own recording format: a Writer that records
// events, process records and loss as otrace saw them, and a Reader that
// plays a recording back as a session.Source, so a script runs on a
// recording exactly as it ran live. FORMAT.md in this directory specifies
// the bytes.
//
// It does not collect events (the live collectors do), order records from
// several sources (the session does) or know about perf.data files (package
// perfdata does). WriteSchedFixture writes a small synthetic recording for
// other packages' tests.
package replay
