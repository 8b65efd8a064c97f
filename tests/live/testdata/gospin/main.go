// Command gospin spins MS milliseconds (default 500) of wall time in
// spinForOtrace, a function the compiler keeps out of line, so a profile
// of it should name main.spinForOtrace called from main.main. It prints
// "gospin pid PID".
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

var sink uint64

//go:noinline
func spinForOtrace(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for i := 0; i < 1000000; i++ {
			sink += uint64(i)
		}
	}
}

func main() {
	ms := 500
	if len(os.Args) > 1 {
		n, err := strconv.Atoi(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "usage: gospin [MS]")
			os.Exit(2)
		}
		ms = n
	}
	spinForOtrace(time.Duration(ms) * time.Millisecond)
	fmt.Printf("gospin pid %d\n", os.Getpid())
}
