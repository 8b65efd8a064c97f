package perfdata

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

	"otrace/runtime/process"
)

// hostKernel returns the mapping of this machine's kernel text as perf
// record synthesizes it: "[kernel.kallsyms]_text" from _text to _etext,
// with _text's address as its offset (perf relocates kernel symbols by
// it) and the kernel's build id. It reports false when /proc/kallsyms
// hides the addresses (kernel.kptr_restrict), as perf then does.
func hostKernel() (process.Mmap, bool) {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return process.Mmap{}, false
	}
	defer f.Close()
	var text, stext, etext uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() && (text == 0 || etext == 0) {
		// "ffffffff81000000 T _text", and modules' symbols with [module].
		addr, rest, ok := bytes.Cut(sc.Bytes(), []byte(" "))
		if !ok || len(rest) < 3 {
			continue
		}
		var dst *uint64
		switch string(rest[2:]) {
		case "_text":
			dst = &text
		case "_stext":
			dst = &stext
		case "_etext":
			dst = &etext
		default:
			continue
		}
		*dst, _ = strconv.ParseUint(string(addr), 16, 64)
	}
	if text == 0 {
		text = stext
	}
	if text == 0 {
		return process.Mmap{}, false
	}
	end := etext
	if end <= text {
		end = ^uint64(0)
	}
	m := process.Mmap{PID: -1, Start: text, Len: end - text, Pgoff: text, Prot: protRead | protExec,
		Path: kernelDSO + "_text"}
	if notes, err := os.ReadFile("/sys/kernel/notes"); err == nil {
		m.BuildID = gnuBuildIDNote(notes)
	}
	return m, true
}

// gnuBuildIDNote finds the NT_GNU_BUILD_ID note among ELF notes: per note
// a name size, a descriptor size and a type, then the name and the
// descriptor, each padded to 4 bytes.
func gnuBuildIDNote(b []byte) []byte {
	const ntGNUBuildID = 3
	for len(b) >= 12 {
		namesz, descsz, typ := uint64(le.Uint32(b)), uint64(le.Uint32(b[4:])), le.Uint32(b[8:])
		name := (namesz + 3) &^ 3
		desc := (descsz + 3) &^ 3
		if 12+name+desc > uint64(len(b)) {
			return nil
		}
		if typ == ntGNUBuildID && namesz == 4 && string(b[12:16]) == "GNU\x00" && descsz > 0 && descsz <= maxBuildID {
			return bytes.Clone(b[12+name : 12+name+descsz])
		}
		b = b[12+name+desc:]
	}
	return nil
}
