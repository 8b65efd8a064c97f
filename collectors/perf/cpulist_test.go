package perf

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []int
	}{
		{"a single CPU is a list of one", "0", []int{0}},
		{"ranges and single CPUs combine in order", "0-3,8", []int{0, 1, 2, 3, 8}},
		{"a CPU named twice is listed once", "1,1", []int{1}},
		{"overlapping ranges are merged", "2-4,0-3", []int{0, 1, 2, 3, 4}},
		{"the sysfs file's spaces and newline are trimmed", " 0-1\n", []int{0, 1}},
		{"a one-CPU range is that CPU", "5-5", []int{5}},
		{"an empty element between commas is ignored", "0,,2", []int{0, 2}},
		{"a trailing comma is ignored", "3,", []int{3}},
		{"the kernel's large CPU numbers are fine", "0,255-256", []int{0, 255, 256}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCPUList(tc.in)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("ParseCPUList(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseCPUListRejectsBadLists(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"an empty list", "", "empty CPU list"},
		{"a list of spaces", " \n", "empty CPU list"},
		{"a list of commas", ",,", "empty CPU list"},
		{"a name instead of a number", "cpu0", "not a CPU number"},
		{"a negative CPU", "-1", "not a CPU number"},
		{"a range without an end", "0-", "bad range"},
		{"a range without a start", "-3", "not a CPU number"},
		{"a backwards range", "3-1", "bad range"},
		{"a range of three numbers", "1-2-3", "bad range"},
		{"a hexadecimal number", "0x1", "not a CPU number"},
		{"spaces inside an element", "0, 1", "not a CPU number"},
		{"a range too large to list", "0-100000", "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCPUList(tc.in)
			if err == nil {
				t.Fatalf("ParseCPUList(%q) = %v, want an error", tc.in, got)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), strconv.Quote(tc.in)) {
				t.Errorf("ParseCPUList(%q): %v; want it to quote the list and say %q", tc.in, err, tc.msg)
			}
		})
	}
}
