package aggregate

import (
	"bufio"
	"bytes"
	"io"
	"math/bits"
	"strconv"
	"strings"
)

// barWidth is the width of a histogram's bars, bpftrace's.
const barWidth = 52

// Print writes the aggregation as bpftrace prints a map: "@name: 12" for
// the unkeyed value, "@name[key]: 12" per key, smallest value first; a
// histogram per key as ASCII bars; then, if updates were dropped, a line
// saying how many. An empty aggregation prints nothing.
func (a *Agg) Print(w io.Writer) error {
	// Streamed: a count of thousands of stacks prints megabytes, which
	// built whole in memory were a quarter of a run's page faults.
	b := bufio.NewWriterSize(w, 64<<10)
	a.format(b)
	return b.Flush()
}

// textWriter is what format writes to: a bytes.Buffer or a bufio.Writer
// (which keeps the first error for Flush).
type textWriter interface {
	io.Writer
	io.ByteWriter
	io.StringWriter
}

// String is what Print writes.
func (a *Agg) String() string {
	var b bytes.Buffer
	a.format(&b)
	return b.String()
}

func (a *Agg) format(b textWriter) {
	hist := a.kind == Hist || a.kind == LHist
	var line []byte
	for i, e := range a.ByValue() {
		if hist && i > 0 {
			b.WriteByte('\n')
		}
		line = append(line[:0], '@')
		line = append(line, a.name...)
		if e.Key.Kind != NoKey {
			line = append(line, '[')
			line = e.Key.appendText(line)
			line = append(line, ']')
		}
		line = append(line, ':')
		if hist {
			line = append(line, '\n')
			b.Write(line)
			a.formatBuckets(b, e.Value.Buckets)
			continue
		}
		line = append(line, ' ')
		line = append(line, a.valueText(&e.Value)...)
		line = append(line, '\n')
		b.Write(line)
	}
	if a.dropped > 0 {
		if hist && len(a.entries) > 0 {
			b.WriteByte('\n')
		}
		updates := " updates"
		if a.dropped == 1 {
			updates = " update"
		}
		b.WriteString("@" + a.name + ": " + thousands(a.dropped) + updates +
			" of new keys dropped (max_keys " + strconv.Itoa(a.maxKeys) + ")\n")
	}
}

// valueText is a non-histogram value as printed.
func (a *Agg) valueText(v *Value) string {
	switch a.kind {
	case Sum:
		return v.SumText()
	case Min:
		return strconv.FormatInt(v.Min, 10)
	case Max:
		return strconv.FormatInt(v.Max, 10)
	case Avg:
		return v.AvgText()
	case Stats:
		return "count " + strconv.FormatInt(v.Count, 10) + ", average " + v.AvgText() +
			", total " + v.SumText() + ", min " + strconv.FormatInt(v.Min, 10) +
			", max " + strconv.FormatInt(v.Max, 10)
	}
	return strconv.FormatInt(v.Count, 10)
}

// formatBuckets writes one line per bucket from the first non-empty one to
// the last: the label left-aligned in 16 columns, the count right-aligned
// in 8, and a bar scaled to the largest bucket.
func (a *Agg) formatBuckets(b textWriter, buckets []uint64) {
	first, last := -1, -1
	var top uint64
	for i, n := range buckets {
		if n == 0 {
			continue
		}
		if first < 0 {
			first = i
		}
		last = i
		top = max(top, n)
	}
	if first < 0 {
		return
	}
	var line []byte
	for i := first; i <= last; i++ {
		n := buckets[i]
		label := a.BucketLabel(i)
		line = append(line[:0], label...)
		line = pad(line, 16-len(label))
		count := strconv.FormatUint(n, 10)
		line = pad(line, 8-len(count))
		line = append(line, count...)
		line = append(line, " |"...)
		// n*barWidth/top, exactly: the quotient is at most barWidth.
		hi, lo := bits.Mul64(n, barWidth)
		w, _ := bits.Div64(hi, lo, top)
		line = append(line, strings.Repeat("@", int(w))...)
		line = pad(line, barWidth-int(w))
		line = append(line, "|\n"...)
		b.Write(line)
	}
}

func pad(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}

// thousands is n with commas: 1,234,567.
func thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}
