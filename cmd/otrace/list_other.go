//go:build !windows

package main

import "io"

// listTracefs says the system's probes are tracefs tracepoints, software
// events and uprobes.
const listTracefs = true

// platformProbes lists probes only this system has: none here.
func platformProbes(glob string, fields bool, stderr io.Writer) ([]probeInfo, error) {
	return nil, nil
}
