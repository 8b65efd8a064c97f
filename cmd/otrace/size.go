package main

import (
	"fmt"
	"strconv"
	"strings"

	"otrace/collectors/perf"
)

// parseSize reads "4096", "512K", "4M", "1G" (powers of 1024).
func parseSize(s string) (int, error) {
	mult := 1
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, t[:len(t)-1]
	}
	n, err := strconv.Atoi(t)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

func parseCPUs(s string) ([]int, error) {
	cpus, err := perf.ParseCPUList(s)
	if err != nil {
		return nil, fmt.Errorf("--cpu: %v", err)
	}
	return cpus, nil
}
