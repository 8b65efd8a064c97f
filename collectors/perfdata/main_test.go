package perfdata

import (
	"flag"
	"os"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden summaries in testdata")

// busyEnv makes the test binary a workload for perf record: it spins for
// the duration in the variable and exits.
const busyEnv = "OTRACE_PERFDATA_BUSYLOOP"

func TestMain(m *testing.M) {
	if d := os.Getenv(busyEnv); d != "" {
		dur, err := time.ParseDuration(d)
		if err != nil {
			os.Exit(2)
		}
		busyLoop(dur)
		os.Exit(0)
	}
	code := m.Run()
	removeBenchCapture()
	os.Exit(code)
}

// busyLoop burns CPU through a few frames, so that callchains have some
// depth to compare.
func busyLoop(d time.Duration) {
	end := time.Now().Add(d)
	x := uint64(1)
	for time.Now().Before(end) {
		x = spinOuter(x)
	}
	if x == 42 {
		println(x)
	}
}

//go:noinline
func spinOuter(x uint64) uint64 {
	for range 100 {
		x = spinInner(x)
	}
	return x
}

//go:noinline
func spinInner(x uint64) uint64 {
	for i := range uint64(1000) {
		x = x*6364136223846793005 + i
	}
	return x
}
