package perfdata

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// benchCapture is the large capture BenchmarkReadLargeCapture reads, made
// once per test binary and removed by TestMain.
var benchCapture struct {
	once sync.Once
	dir  string
	file string
	// perfScript is how long perf script took to read it into /dev/null.
	perfScript time.Duration
	err        error
}

// largeCapture records raw_syscalls:sys_enter system-wide while dd makes
// about 1.4 million system calls: a capture of about 250 MB.
func largeCapture(b *testing.B) (string, time.Duration) {
	benchCapture.once.Do(func() {
		perf, err := exec.LookPath("perf")
		if err != nil {
			benchCapture.err = err
			return
		}
		dir, err := os.MkdirTemp("", "otrace-perfdata-bench")
		if err != nil {
			benchCapture.err = err
			return
		}
		benchCapture.dir = dir
		file := filepath.Join(dir, "perf.data")
		out, err := exec.Command(perf, "record", "-q", "-N", "-m", "16M", "-e", "raw_syscalls:sys_enter", "-a", "-o", file, "--",
			"dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=700000").CombinedOutput()
		if err != nil {
			benchCapture.err = &exec.Error{Name: "perf record: " + string(out), Err: err}
			return
		}
		cmd := exec.Command(perf, "script", "-i", file)
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			benchCapture.err = err
			return
		}
		defer devnull.Close()
		cmd.Stdout = devnull
		start := time.Now()
		err = cmd.Run()
		benchCapture.perfScript = time.Since(start)
		benchCapture.file, benchCapture.err = file, err
	})
	if benchCapture.err != nil {
		b.Fatal(benchCapture.err)
	}
	return benchCapture.file, benchCapture.perfScript
}

// removeBenchCapture is called by TestMain after the run.
func removeBenchCapture() {
	if benchCapture.dir != "" {
		os.RemoveAll(benchCapture.dir)
	}
}

// BenchmarkReadLargeCapture reads a system-wide raw_syscalls:sys_enter
// capture of about 250 MB through a sink that does nothing, and compares
// the time with perf script's on the same file. It needs root and perf;
// set OTRACE_BENCH_PERFDATA=1 to run it.
func BenchmarkReadLargeCapture(b *testing.B) {
	if os.Getenv("OTRACE_BENCH_PERFDATA") != "1" {
		b.Skip("set OTRACE_BENCH_PERFDATA=1 (as root, with perf installed) to record and read a 250 MB capture")
	}
	file, perfScript := largeCapture(b)
	st, err := os.Stat(file)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	var records, samples uint64
	for range b.N {
		r, err := Open(file)
		if err != nil {
			b.Fatal(err)
		}
		enableAll(b, r)
		if err := drain(b, r, &nopSink{}, int(st.Size())); err != nil {
			b.Fatal(err)
		}
		records += r.Stats().Records
		samples += r.Stats().Samples
		r.Close()
	}
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(samples)/float64(b.N), "samples/op")
	b.ReportMetric(perfScript.Seconds(), "perf-script-s")
	b.ReportMetric(perfScript.Seconds()/per.Seconds(), "x-faster-than-perf-script")
}
