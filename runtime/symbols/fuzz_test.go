package symbols

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// resolveBytes runs data through the resolver as the ELF file behind a
// mapping and looks up addresses in every segment and function it found,
// so that parsing, symbol tables and DWARF all run.
func resolveBytes(data []byte) (*Resolver, []Frame) {
	r := New(Options{DebugDirs: []string{}})
	obj := Object{Path: "/fuzz/bin", Start: 0x400000}
	b := newBinary(bytes.NewReader(data), obj, "")
	r.byMapping[mappingKey{pid: obj.PID, start: obj.Start, path: obj.Path}] = b
	last := r.User(obj, obj.Start+0x1000)
	var addrs []uint64
	for _, s := range b.loads {
		addrs = append(addrs, obj.Start+s.off, obj.Start+s.off+s.filesz/2)
	}
	for i, fn := range b.funcs.syms {
		if i == 64 {
			break
		}
		for _, s := range b.loads {
			if s.vaddr <= fn.start && fn.start-s.vaddr < s.filesz {
				at := obj.Start + fn.start - s.vaddr + s.off
				addrs = append(addrs, at, at+1)
			}
		}
	}
	for _, a := range addrs {
		last = r.User(obj, a)
	}
	return r, last
}

// FuzzELF's inputs are ELF files of about 10 KB. Minimizing one that
// widened coverage takes the whole -fuzzminimizetime (60 s by default),
// and the execs it makes are not counted: "execs: N (0/sec)" then means
// minimizing, not a hung input (golang/go#48820). FuzzPE's are alike.
// -fuzzminimizetime=0s keeps the fuzzer fuzzing.
func FuzzELF(f *testing.F) {
	tiny, err := os.ReadFile(filepath.Join("testdata", "tiny.elf"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tiny)
	f.Add(tiny[:64])
	f.Add(tiny[:len(tiny)/2])
	f.Add([]byte("\x7fELF"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, fr := resolveBytes(data)
		if len(fr) == 0 {
			t.Fatal("no frame")
		}
	})
}

func TestUserSurvivesBadFiles(t *testing.T) {
	tiny, err := os.ReadFile(filepath.Join("testdata", "tiny.elf"))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(tiny)
	for i := 64; i < len(flipped); i += 97 {
		flipped[i] ^= 0xa5
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"an empty file", nil},
		{"a text file", []byte("#!/bin/sh\necho hi\n")},
		{"an ELF header alone", tiny[:64]},
		{"half an ELF file", tiny[:len(tiny)/2]},
		{"an ELF file with bytes flipped throughout", flipped},
	} {
		t.Run(tc.name+" resolves to unknown frames without panicking", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bin")
			if err := os.WriteFile(path, tc.data, 0o755); err != nil {
				t.Fatal(err)
			}
			r := New(Options{DebugDirs: []string{}})
			defer r.Close()
			obj := Object{Path: path, Start: 0x400000}
			fr := r.User(obj, 0x401000)
			if len(fr) == 0 || fr[0].Addr != 0x401000 || fr[len(fr)-1].Module != path {
				t.Errorf("frames %+v", fr)
			}
		})
	}
	// The intact seed resolves, so the cases above test what they claim.
	r, _ := resolveBytes(tiny)
	if st := r.Stats(); st.Parsed != 1 || st.Lookups-st.Unresolved < 2 {
		t.Errorf("tiny.elf did not resolve: %+v", st)
	}
}

// resolvePEBytes runs data through the resolver as the PE image behind
// a Windows mapping and looks up the start and the next byte of every
// function it found, so that headers, exports, COFF symbols, CodeView
// and DWARF are all read.
func resolvePEBytes(data []byte) []Frame {
	r := New(Options{DebugDirs: []string{}})
	obj := Object{PID: 1, Path: `C:\fuzz\x.dll`, Start: 0x7ff800000000}
	b := newBinary(bytes.NewReader(data), obj, "")
	r.byMapping[mappingKey{pid: obj.PID, start: obj.Start, path: obj.Path}] = b
	last := r.User(obj, obj.Start+0x1000)
	if b.pe == nil {
		return last
	}
	for i, fn := range b.funcs.syms {
		if i == 64 {
			break
		}
		rva := fn.start - b.pe.base
		last = r.User(obj, obj.Start+rva)
		last = r.User(obj, obj.Start+rva+1)
	}
	return last
}

func FuzzPE(f *testing.F) {
	for _, name := range []string{"tiny.dll", "tiny-stripped.dll", "tiny-dwarf.dll"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:0x400])
		f.Add(data[:len(data)/2])
	}
	f.Add([]byte("MZ"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := resolvePEBytes(data)
		if len(fr) == 0 {
			t.Fatal("no frame")
		}
		if last := fr[len(fr)-1]; last.Func == "" && last.Name() != "x.dll+"+hex(last.ModOffset) {
			t.Fatalf("an unnamed PE frame prints %q", last.Name())
		}
		id, _, err := ReadPEIdentity(bytes.NewReader(data))
		if err == nil && id != nil && len(id) != 20 {
			t.Fatalf("identity of %d bytes", len(id))
		}
	})
}

func FuzzPerfMap(f *testing.F) {
	f.Add([]byte(perfMapBody), uint64(0x1055))
	f.Add([]byte("1000 0 a\n1000 0 b\n1000 10 c\n"), uint64(0x1000))
	f.Add([]byte("ffffffffffffff00 1000 wraps\n"), uint64(0xffffffffffffff80))
	f.Add([]byte("0x 0x name\n\n \n"), uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, addr uint64) {
		pm := &perfMap{cache: map[uint64][]Frame{}}
		n, err := pm.readLines(bytes.NewReader(data))
		if err != nil || n > int64(len(data)) {
			t.Fatalf("readLines = %d, %v for %d bytes", n, err, len(data))
		}
		pm.rebuild()
		for i, s := range pm.segs {
			if s.start >= s.end || (i > 0 && pm.segs[i-1].end > s.start) {
				t.Fatalf("segments overlap or are empty: %+v", pm.segs)
			}
		}
		if fr := pm.frame(addr); fr.Func != "" {
			i := segAt(pm.segs, addr)
			if i < 0 || addr < pm.entries[pm.segs[i].entry].start {
				t.Fatalf("%#x resolved to %+v outside its entry", addr, fr)
			}
		}
	})
}

func segAt(segs []jitSeg, addr uint64) int {
	for i, s := range segs {
		if s.start <= addr && addr < s.end {
			return i
		}
	}
	return -1
}

func FuzzKallsyms(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "kallsyms.txt"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, uint64(0xffffffff81001101))
	f.Fuzz(func(t *testing.T, data []byte, addr uint64) {
		syms, _, _ := parseKallsyms(bytes.NewReader(data))
		for i, s := range syms {
			if s.end <= s.start && s.start != ^uint64(0) || (i > 0 && syms[i-1].start >= s.start) {
				t.Fatalf("symbol %d %+v out of order or empty", i, s)
			}
		}
		k := &kallsyms{syms: syms}
		if fr := k.frame(addr); fr.Func != "" && fr.Offset > addr {
			t.Fatalf("offset past the address: %+v", fr)
		}
	})
}
