package symbols

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io"
	"os"
)

// atSysinfoEhdr is the auxv key of the vDSO's address.
const atSysinfoEhdr = 33

// maxVDSOSize bounds the image read (it is two pages on x86-64).
const maxVDSOSize = 1 << 20

// vdsoBinary returns the vDSO as a binary. Every process on a kernel maps
// the same vDSO, so the collector's own copy, read from /proc/self/mem at
// the address auxv gives, resolves the target's.
func (r *Resolver) vdsoBinary() *binaryFile {
	if r.vdso != nil {
		return r.vdso
	}
	img, err := readOwnVDSO()
	if err != nil {
		r.stats.Failures++
		r.notice("vdso", "symbols: cannot read the vDSO (%v): [vdso] frames stay unresolved", err)
		r.vdso = newBinary(nil, Object{Path: "[vdso]"}, "")
		return r.vdso
	}
	r.stats.Opened++
	r.vdso = newBinary(bytes.NewReader(img), Object{Path: "[vdso]"}, "")
	return r.vdso
}

func readOwnVDSO() ([]byte, error) {
	auxv, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return nil, err
	}
	var base uint64
	for len(auxv) >= 16 {
		key, val := binary.NativeEndian.Uint64(auxv), binary.NativeEndian.Uint64(auxv[8:])
		auxv = auxv[16:]
		if key == atSysinfoEhdr {
			base = val
			break
		}
	}
	if base == 0 || base > 1<<63-1 {
		return nil, errors.New("no AT_SYSINFO_EHDR in auxv")
	}
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		return nil, err
	}
	defer mem.Close()
	var hdr elf.Header64
	if err := binary.Read(io.NewSectionReader(mem, int64(base), 64), binary.NativeEndian, &hdr); err != nil {
		return nil, err
	}
	if string(hdr.Ident[:4]) != elf.ELFMAG {
		return nil, errors.New("no ELF image at AT_SYSINFO_EHDR")
	}
	size := hdr.Shoff + uint64(hdr.Shnum)*uint64(hdr.Shentsize)
	if ph := hdr.Phoff + uint64(hdr.Phnum)*uint64(hdr.Phentsize); ph > size {
		size = ph
	}
	if size == 0 || size > maxVDSOSize {
		return nil, errors.New("implausible vDSO size")
	}
	img := make([]byte, size)
	if _, err := mem.ReadAt(img, int64(base)); err != nil {
		return nil, err
	}
	return img, nil
}
