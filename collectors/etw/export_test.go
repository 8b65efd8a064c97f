package etw

import "testing"

// ScenarioCapture is the capture of source_test.go's scenario, for the
// script tests of package etw_test.
func ScenarioCapture(t testing.TB) []byte { return scenario(t) }
