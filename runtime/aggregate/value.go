package aggregate

import (
	"cmp"
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// int128 is a two's-complement 128-bit integer. Sums are kept in it so a
// sum, an average or a merge of int64 values is exact: overflowing it would
// take 2^64 additions of the largest int64.
type int128 struct {
	hi int64
	lo uint64
}

func (s *int128) add(v int64) {
	lo, carry := bits.Add64(s.lo, uint64(v), 0)
	s.hi += v>>63 + int64(carry) // v>>63 is v's sign extension: 0 or -1
	s.lo = lo
}

func (s *int128) addWide(o int128) {
	lo, carry := bits.Add64(s.lo, o.lo, 0)
	s.hi += o.hi + int64(carry)
	s.lo = lo
}

// int64 is s when it fits in an int64.
func (s int128) int64() (int64, bool) {
	v := int64(s.lo)
	return v, s.hi == v>>63
}

func (s int128) cmp(o int128) int {
	if c := cmp.Compare(s.hi, o.hi); c != 0 {
		return c
	}
	return cmp.Compare(s.lo, o.lo)
}

// abs is |s| as an unsigned 128-bit number.
func (s int128) abs() (hi, lo uint64) {
	hi, lo = uint64(s.hi), s.lo
	if s.hi < 0 {
		var borrow uint64
		lo, borrow = bits.Sub64(0, lo, 0)
		hi, _ = bits.Sub64(0, hi, borrow)
	}
	return hi, lo
}

func (s int128) String() string {
	if v, ok := s.int64(); ok {
		return strconv.FormatInt(v, 10)
	}
	hi, lo := s.abs()
	b := new(big.Int).SetUint64(hi)
	b.Lsh(b, 64).Or(b, new(big.Int).SetUint64(lo))
	if s.hi < 0 {
		b.Neg(b)
	}
	return b.String()
}

func (s int128) float() float64 {
	if v, ok := s.int64(); ok {
		return float64(v)
	}
	hi, lo := s.abs()
	f := float64(hi)*0x1p64 + float64(lo)
	if s.hi < 0 {
		return -f
	}
	return f
}

// Value is the state of one key. Which fields mean something depends on
// the aggregation's kind:
//
//	count                  Count
//	sum, avg               Count (values added), Sum, Avg
//	min, max               Count, Min or Max
//	stats                  Count, Sum, Avg, Min, Max
//	hist, lhist            Count, Buckets (see Agg.BucketLabel)
//
// Every field combines exactly across partial results (Agg.Merge).
type Value struct {
	// Count is the count for a count aggregation, and for the others how
	// many values were added.
	Count int64
	// Min and Max are the extremes of the values added, when Count > 0.
	Min, Max int64
	// Buckets are per-bucket counts: hist has HistBuckets of them, lhist
	// Agg.Linear's bucket count.
	Buckets []uint64

	sum int128
}

// Sum is the total of the values added, and whether it fits in an int64
// (it is kept exactly, in 128 bits; SumText prints it whole).
func (v *Value) Sum() (int64, bool) { return v.sum.int64() }

// SumFloat is the total as a float, for totals beyond int64.
func (v *Value) SumFloat() float64 { return v.sum.float() }

// SumText is the total in decimal, exact even beyond int64.
func (v *Value) SumText() string { return v.sum.String() }

// Avg is the mean of the values added, 0 when there are none.
func (v *Value) Avg() float64 {
	if v.Count == 0 {
		return 0
	}
	neg, q, r := v.divide()
	f := float64(q) + float64(r)/float64(v.Count)
	if neg {
		return -f
	}
	return f
}

// divide is |sum| / Count: quotient and remainder, and the sign. The mean
// of int64 values is within int64, so the quotient fits in 64 bits.
func (v *Value) divide() (neg bool, q, r uint64) {
	hi, lo := v.sum.abs()
	n := uint64(v.Count)
	q, r = bits.Div64(hi%n, lo, n)
	return v.sum.hi < 0, q, r
}

// AvgText is the mean as printed: its exact integer part and up to two
// decimals ("2", "-1.5", "3.33").
func (v *Value) AvgText() string {
	if v.Count == 0 {
		return "0"
	}
	neg, q, r := v.divide()
	cents := uint64(math.Round(float64(r) / float64(v.Count) * 100))
	if cents == 100 {
		q, cents = q+1, 0
	}
	var b []byte
	if neg && (q != 0 || cents != 0) {
		b = append(b, '-')
	}
	b = strconv.AppendUint(b, q, 10)
	if cents != 0 {
		b = append(b, '.', byte('0'+cents/10))
		if cents%10 != 0 {
			b = append(b, byte('0'+cents%10))
		}
	}
	return string(b)
}

// merge adds o's state into v.
func (v *Value) merge(o *Value) {
	if o.Count > 0 {
		if v.Count == 0 {
			v.Min, v.Max = o.Min, o.Max
		} else {
			v.Min, v.Max = min(v.Min, o.Min), max(v.Max, o.Max)
		}
	}
	v.Count += o.Count
	v.sum.addWide(o.sum)
	for i, n := range o.Buckets {
		v.Buckets[i] += n
	}
}
