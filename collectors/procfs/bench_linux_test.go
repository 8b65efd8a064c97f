package procfs

import (
	"os/exec"
	"strings"
	"testing"
)

// BenchmarkScan scans this machine, first brought to at least 200
// processes with sleeping children, the size the scan is budgeted for.
func BenchmarkScan(b *testing.B) {
	liveProc(b)
	fillProcesses(b, 200)
	for _, mode := range scanModes {
		b.Run(strings.ReplaceAll(mode.name, " ", "-"), func(b *testing.B) {
			var stats Stats
			for b.Loop() {
				var err error
				if stats, err = Scan(mode.opts, nopVisitor{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(stats.Processes), "procs")
			b.ReportMetric(float64(stats.Threads), "threads")
			b.ReportMetric(float64(stats.Mappings), "mmaps")
		})
	}
}

// fillProcesses starts `sleep` children until the machine has n
// processes; they are killed when the benchmark ends.
func fillProcesses(b *testing.B, n int) {
	names, err := readDirNames("/proc")
	if err != nil {
		b.Fatal(err)
	}
	have := 0
	for _, name := range names {
		if pid, ok := parseDec([]byte(name)); ok && pid > 0 {
			have++
		}
	}
	for ; have < n; have++ {
		cmd := exec.Command("sleep", "600")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
	}
}
