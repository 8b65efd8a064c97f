package aggregate

import (
	"strings"
	"testing"
)

func TestHistPutsEachValueInItsPowerOfTwoBucket(t *testing.T) {
	tests := []struct {
		name  string
		v     int64
		label string
	}{
		{"zero has a bucket of its own", 0, "[0]"},
		{"one has a bucket of its own", 1, "[1]"},
		{"two starts the first range", 2, "[2, 4)"},
		{"three ends the first range", 3, "[2, 4)"},
		{"four starts the next range", 4, "[4, 8)"},
		{"1023 is below 1K", 1023, "[512, 1K)"},
		{"1024 is 1K", 1024, "[1K, 2K)"},
		{"2047 is still 1K", 2047, "[1K, 2K)"},
		{"a mebibyte is 1M", 1 << 20, "[1M, 2M)"},
		{"a gibibyte is 1G", 1 << 30, "[1G, 2G)"},
		{"2^40 is 1T", 1 << 40, "[1T, 2T)"},
		{"2^50 is 1P", 1 << 50, "[1P, 2P)"},
		{"2^61 is 2E", 1 << 61, "[2E, 4E)"},
		{"just below 2^62 is 2E", 1<<62 - 1, "[2E, 4E)"},
		{"2^62 is 4E", 1 << 62, "[4E, 8E)"},
		{"the largest int64 is in the last bucket", maxInt, "[4E, 8E)"},
		{"minus one is negative", -1, "(..., 0)"},
		{"the smallest int64 is negative", minInt, "(..., 0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := histIndex(tt.v)
			if i < 0 || i >= HistBuckets {
				t.Fatalf("histIndex(%d) = %d, out of [0, %d)", tt.v, i, HistBuckets)
			}
			if got := histLabel(i); got != tt.label {
				t.Errorf("hist(%d) is in %s, want %s", tt.v, got, tt.label)
			}
		})
	}
}

func TestLHistPutsEachValueInItsLinearBucket(t *testing.T) {
	tens := Linear{0, 100, 10}
	tests := []struct {
		name  string
		lin   Linear
		v     int64
		label string
	}{
		{"below min is underflow", tens, -1, "(..., 0)"},
		{"the smallest int64 is underflow", tens, minInt, "(..., 0)"},
		{"min starts the first bucket", tens, 0, "[0, 10)"},
		{"step minus one ends the first bucket", tens, 9, "[0, 10)"},
		{"step starts the second bucket", tens, 10, "[10, 20)"},
		{"just below max is in the last bucket", tens, 99, "[90, 100)"},
		{"max is overflow", tens, 100, "[100, ...)"},
		{"the largest int64 is overflow", tens, maxInt, "[100, ...)"},
		{"an uneven step makes a short last bucket", Linear{0, 10, 3}, 9, "[9, 10)"},
		{"an uneven step still overflows at max", Linear{0, 10, 3}, 10, "[10, ...)"},
		{"whole kibibytes print as K", Linear{0, 8192, 1024}, 1024, "[1K, 2K)"},
		{"whole mebibytes print as M", Linear{0, 4 << 20, 1 << 20}, 3 << 20, "[3M, 4M)"},
		{"other bounds print whole", Linear{0, 3072, 512}, 1536, "[1536, 2K)"},
		{"negative ranges work", Linear{-2048, 2048, 1024}, -1025, "[-2K, -1K)"},
		{"negative underflow names min", Linear{-2048, 2048, 1024}, -2049, "(..., -2K)"},
		{"a step of one gives one value per bucket", Linear{-1, 2, 1}, 0, "[0, 1)"},
		{"the full int64 range splits without overflow", Linear{minInt, maxInt, maxInt}, -1, "[-1, 9223372036854775806)"},
		{"the full int64 range ends at max", Linear{minInt, maxInt, maxInt}, maxInt - 1, "[9223372036854775806, 9223372036854775807)"},
		{"the full int64 range starts at min", Linear{minInt, maxInt, maxInt}, minInt, "[-8796093022208M, -1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := tt.lin.Buckets()
			if err != nil {
				t.Fatal(err)
			}
			i := tt.lin.index(tt.v, n)
			if got := tt.lin.label(i, n); got != tt.label {
				t.Errorf("lhist%v of %d is in %s, want %s", tt.lin, tt.v, got, tt.label)
			}
		})
	}
}

func TestLHistCountsItsBuckets(t *testing.T) {
	tests := []struct {
		name string
		lin  Linear
		want int
	}{
		{"an even range has span/step buckets and two more", Linear{0, 100, 10}, 12},
		{"an uneven range rounds up", Linear{0, 10, 3}, 6},
		{"a single bucket", Linear{5, 6, 10}, 3},
		{"the full int64 range by the largest step", Linear{minInt, maxInt, maxInt}, 5},
		{"the bucket limit is allowed", Linear{0, MaxLinearBuckets, 1}, MaxLinearBuckets + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := tt.lin.Buckets()
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.want {
				t.Errorf("%+v has %d buckets, want %d", tt.lin, n, tt.want)
			}
		})
	}
}

func TestLHistRejectsBoundsThatMakeNoBuckets(t *testing.T) {
	tests := []struct {
		name string
		lin  Linear
		want string
	}{
		{"a zero step", Linear{0, 10, 0}, "step must be at least 1, got 0"},
		{"a negative step", Linear{0, 10, -1}, "step must be at least 1, got -1"},
		{"max equal to min", Linear{10, 10, 1}, "max (10) must be greater than min (10)"},
		{"max below min", Linear{10, 0, 1}, "max (0) must be greater than min (10)"},
		{"too many buckets", Linear{0, MaxLinearBuckets + 1, 1}, "makes 1001 buckets; at most 1000"},
		{"the full range by one", Linear{minInt, maxInt, 1}, "at most 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(LHist, "x", Options{Linear: tt.lin})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(lhist %+v) error = %v, want one containing %q", tt.lin, err, tt.want)
			}
		})
	}
}
