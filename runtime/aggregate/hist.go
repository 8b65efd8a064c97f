package aggregate

import (
	"fmt"
	"math/bits"
	"strconv"
)

// HistBuckets is the number of hist buckets: negative values, 0, 1, then
// [2^k, 2^(k+1)) for k from 1 to 62, the last ending past the largest
// int64. The layout and the labels are bpftrace's.
const HistBuckets = 65

// histIndex is the hist bucket of v.
func histIndex(v int64) int {
	switch {
	case v < 0:
		return 0
	case v == 0:
		return 1
	}
	// 1 has length 1 and goes to bucket 2; [2, 4) have length 2, bucket 3.
	return bits.Len64(uint64(v)) + 1
}

// histLabel is bucket i's label: "(..., 0)", "[0]", "[1]", "[2, 4)",
// "[1K, 2K)"...
func histLabel(i int) string {
	switch i {
	case 0:
		return "(..., 0)"
	case 1:
		return "[0]"
	case 2:
		return "[1]"
	}
	return "[" + powerLabel(i-2) + ", " + powerLabel(i-1) + ")"
}

// powerLabel is 2^p with a binary suffix: 512, 1K, 2M, 4E.
func powerLabel(p int) string {
	const suffixes = "KMGTPE"
	s := ""
	for k := len(suffixes); k > 0; k-- {
		if p >= 10*k {
			s = suffixes[k-1 : k]
			p -= 10 * k
			break
		}
	}
	return strconv.FormatUint(1<<p, 10) + s
}

// MaxLinearBuckets bounds an lhist's buckets inside its range, as
// bpftrace does.
const MaxLinearBuckets = 1000

// Linear are an lhist's bounds: buckets of Step from Min up to Max, plus
// one for values below Min and one for values from Max up. When Step does
// not divide Max-Min the last bucket inside the range is shorter: it ends
// at Max.
type Linear struct {
	Min, Max, Step int64
}

// Buckets is the number of buckets, the two overflow buckets included, or
// an error saying what is wrong with the bounds.
func (l Linear) Buckets() (int, error) {
	if l.Step < 1 {
		return 0, fmt.Errorf("lhist step must be at least 1, got %d", l.Step)
	}
	if l.Max <= l.Min {
		return 0, fmt.Errorf("lhist max (%d) must be greater than min (%d)", l.Max, l.Min)
	}
	span, step := uint64(l.Max)-uint64(l.Min), uint64(l.Step) // exact: Max > Min
	n := span / step
	if span%step != 0 {
		n++
	}
	if n > MaxLinearBuckets {
		return 0, fmt.Errorf("lhist from %d to %d by %d makes %d buckets; at most %d: raise the step",
			l.Min, l.Max, l.Step, n, MaxLinearBuckets)
	}
	return int(n) + 2, nil
}

// index is v's bucket among n.
func (l Linear) index(v int64, n int) int {
	switch {
	case v < l.Min:
		return 0
	case v >= l.Max:
		return n - 1
	}
	return int((uint64(v)-uint64(l.Min))/uint64(l.Step)) + 1
}

// bound is the start of the i-th bucket inside the range, Min + i*Step,
// or Max when that is past it.
func (l Linear) bound(i int) int64 {
	span := uint64(l.Max) - uint64(l.Min)
	hi, off := bits.Mul64(uint64(i), uint64(l.Step))
	if hi != 0 || off >= span {
		return l.Max
	}
	return int64(uint64(l.Min) + off)
}

// label is bucket i's label among n: "(..., min)", "[lo, hi)", "[max, ...)".
func (l Linear) label(i, n int) string {
	switch i {
	case 0:
		return "(..., " + linearLabel(l.Min) + ")"
	case n - 1:
		return "[" + linearLabel(l.Max) + ", ...)"
	}
	return "[" + linearLabel(l.bound(i-1)) + ", " + linearLabel(l.bound(i)) + ")"
}

// linearLabel is v, in K or M when it is a whole number of them, as
// bpftrace prints lhist bounds.
func linearLabel(v int64) string {
	switch {
	case v == 0:
		return "0"
	case v%(1<<20) == 0:
		return strconv.FormatInt(v/(1<<20), 10) + "M"
	case v%(1<<10) == 0:
		return strconv.FormatInt(v/(1<<10), 10) + "K"
	}
	return strconv.FormatInt(v, 10)
}

// BucketLabel is the label of bucket i of a hist or lhist, as printed:
// "[2, 4)", "(..., 0)", "[100, ...)".
func (a *Agg) BucketLabel(i int) string {
	if a.kind == LHist {
		return a.lin.label(i, a.nbuckets)
	}
	return histLabel(i)
}
