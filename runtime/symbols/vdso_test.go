package symbols

import (
	"bufio"
	"bytes"
	"debug/elf"
	"os"
	"strings"
	"testing"
)

func TestUserResolvesTheVDSO(t *testing.T) {
	needLinux(t)
	// Find our vDSO through /proc/self/maps (the resolver uses auxv) and
	// read its symbols independently.
	maps, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer maps.Close()
	var start, end uint64
	sc := bufio.NewScanner(maps)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 6 && f[5] == "[vdso]" {
			lo, hi, _ := strings.Cut(f[0], "-")
			start, end = parseAddr(t, lo), parseAddr(t, hi)
		}
	}
	if start == 0 {
		skipOrFail(t, "no [vdso] mapping")
	}
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		skipOrFail(t, "cannot read /proc/self/mem: %v", err)
	}
	defer mem.Close()
	img := make([]byte, end-start)
	if _, err := mem.ReadAt(img, int64(start)); err != nil {
		t.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := ef.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	var value uint64
	for _, s := range syms {
		if s.Name == "__vdso_clock_gettime" {
			value = s.Value
		}
	}
	if value == 0 {
		t.Fatal("the vDSO has no __vdso_clock_gettime")
	}
	r := New(Options{})
	obj := Object{PID: int32(os.Getpid()), Path: "[vdso]", Start: start}
	r.Prepare(obj)
	fr := r.User(obj, start+value+3)
	if len(fr) != 1 || fr[0].Func != "__vdso_clock_gettime" || fr[0].Offset != 3 || fr[0].Module != "[vdso]" {
		t.Errorf("__vdso_clock_gettime+3 resolved to %+v", fr)
	}
}
