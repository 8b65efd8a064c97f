// A Go target for the symbols tests: a method, a function kept out of
// line, and a small function the compiler inlines into it (mark records a
// return address inside the inlined body). It prints the
// addresses the tests look up, what the runtime says about them, and its
// executable mappings.
package main

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
)

type T struct{ n int }

//go:noinline
func (t *T) Method() int { t.n++; return t.n }

var stack [8]uintptr

// mark records the stack of its caller.
//
//go:noinline
func mark() { runtime.Callers(2, stack[:]) }

func small(x int) int {
	mark()
	return x + 1
}

//go:noinline
func outer(x int) int {
	return small(x) * 2
}

func main() {
	outer(3)
	pc := stack[0]
	for _, f := range []any{(*T).Method, outer} {
		p := reflect.ValueOf(f).Pointer()
		fmt.Printf("sym %s %#x\n", runtime.FuncForPC(p).Name(), p)
	}
	fmt.Printf("ra callers %#x\n", pc)
	frames := runtime.CallersFrames(stack[:])
	for {
		f, more := frames.Next()
		if f.Function == "main.main" || !more {
			break
		}
		fmt.Printf("frame %s %s %d\n", f.Function, f.File, f.Line)
	}
	maps, _ := os.ReadFile("/proc/self/maps")
	for _, l := range strings.Split(string(maps), "\n") {
		if strings.Contains(l, " r-xp ") {
			fmt.Printf("map %s\n", l)
		}
	}
}
