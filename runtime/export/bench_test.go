package export

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"otrace/runtime/process"
	"otrace/runtime/stacks"
	"otrace/runtime/symbols"
)

func BenchmarkAddSeenStack(b *testing.B) {
	p, f := standard(b)
	stacks := []StackRef{f.kernel(kWrite, kDo, kEntry), f.user(5, aWrite, aMain+0x10, aStart)}
	values := []int64{1, 1000}
	labels := Labels{StringLabel("comm", "app"), NumLabel("pid", 5, ""), NumLabel("tid", 5, "")}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Add(stacks, values, labels); err != nil {
			b.Fatal(err)
		}
	}
}

// benchResolver names every 0x100 bytes of /bin/app and of the kernel a
// function, in O(1), so that the benchmark measures export, not the fake.
type benchResolver struct{ user, kernel []string }

func (r *benchResolver) Prepare(symbols.Object) {}
func (r *benchResolver) User(obj symbols.Object, addr uint64) []symbols.Frame {
	off := addr - obj.Start
	return []symbols.Frame{{Addr: addr, Func: r.user[off>>8%uint64(len(r.user))], Offset: off & 0xff, Module: obj.Path, File: "app.c", Line: int(off >> 8)}}
}
func (r *benchResolver) Kernel(addr uint64) []symbols.Frame {
	off := addr - kbase
	return []symbols.Frame{{Addr: addr, Func: r.kernel[off>>8%uint64(len(r.kernel))], Offset: off & 0xff, Module: "[kernel.kallsyms]"}}
}
func (r *benchResolver) JIT(int32, uint64) ([]symbols.Frame, bool) { return nil, false }

// benchRun is 10k distinct stacks of 20 user frames (a quarter with 6
// kernel frames on top) over 2,000 functions, and which of them each of
// 1M samples took, on one of 8 threads.
type benchRun struct {
	tab     *stacks.Table
	samples [][]StackRef // by stack
	picks   []uint32     // by sample: index into samples
}

func newBenchRun(nStacks, nSamples int) *benchRun {
	res := &benchResolver{}
	for i := range 2000 {
		res.user = append(res.user, fmt.Sprintf("pkg.function%d", i))
	}
	for i := range 200 {
		res.kernel = append(res.kernel, fmt.Sprintf("kernel_function%d", i))
	}
	procs := process.NewTable()
	tab := stacks.New(procs, res)
	m := process.Mmap{Time: 1, PID: 5, Start: appBase, Len: 2000 << 8, Prot: 5, Path: "/bin/app"}
	procs.AddMmap(m)
	tab.Mmap(m)
	rng := rand.New(rand.NewPCG(1, 2))
	r := &benchRun{tab: tab}
	addrs := make([]uint64, 20)
	for i := range nStacks {
		for j := range addrs {
			addrs[j] = appBase + uint64(rng.IntN(2000))<<8 + 0x10 + uint64(rng.IntN(0x80))
		}
		refs := []StackRef{{Table: tab, ID: tab.Intern(false, 5, 2, addrs)}}
		if i%4 == 0 {
			k := make([]uint64, 6)
			for j := range k {
				k[j] = kbase + uint64(rng.IntN(200))<<8 + 0x10
			}
			refs = append(refs, StackRef{Table: tab, ID: tab.Intern(true, 0, 2, k)})
		}
		r.samples = append(r.samples, refs)
	}
	r.picks = make([]uint32, nSamples)
	for i := range r.picks {
		r.picks[i] = uint32(rng.IntN(nStacks))
	}
	return r
}

// fill adds every sample to a new profile.
func (r *benchRun) fill(tb testing.TB) *Profile {
	p, err := NewProfile([]SampleType{{"samples", "count"}, {"cpu", "nanoseconds"}})
	if err != nil {
		tb.Fatal(err)
	}
	labels := Labels{StringLabel("comm", "app"), NumLabel("pid", 5, ""), NumLabel("tid", 0, "")}
	values := []int64{1, 1_001_001}
	for i, s := range r.picks {
		labels[2].Num = int64(5 + i%8)
		if err := p.Add(r.samples[s], values, labels); err != nil {
			tb.Fatal(err)
		}
	}
	return p
}

func BenchmarkWrite1MSamples10kStacks(b *testing.B) {
	for _, w := range []Writer{Pprof{}, Folded{}, JSONLines{}} {
		b.Run(w.Name(), func(b *testing.B) {
			var addTime, writeTime time.Duration
			var allocated uint64
			var size int
			resetPeakRSS()
			for b.Loop() {
				b.StopTimer()
				// A fresh table each time, so stacks are named in every round.
				r := newBenchRun(10_000, 1_000_000)
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				b.StartTimer()

				t0 := time.Now()
				p := r.fill(b)
				t1 := time.Now()
				cw := &countingWriter{w: io.Discard}
				if err := w.Write(cw, p); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()

				b.StopTimer()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				addTime += t1.Sub(t0)
				writeTime += t2.Sub(t1)
				allocated += after.TotalAlloc - before.TotalAlloc
				size = cw.n
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(float64(addTime.Nanoseconds())/n/1e6, "ns/add")
			b.ReportMetric(float64(writeTime.Milliseconds())/n, "write-ms")
			b.ReportMetric(float64(allocated)/n/(1<<20), "alloc-MB")
			b.ReportMetric(float64(size)/(1<<20), "file-MB")
			if rss, ok := peakRSS(); ok {
				b.ReportMetric(rss, "peak-RSS-MB")
			}
		})
	}
}

type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += n
	return n, err
}

// resetPeakRSS starts the peak RSS over where Linux allows it.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS reads the process's peak resident set (VmHWM), in MB, where the
// system reports it.
func peakRSS() (float64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err == nil
		}
	}
	return 0, false
}
