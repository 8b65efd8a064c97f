package symbols

import (
	"bytes"
	"debug/elf"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// findDebugFile looks for b's separate debug file: by build-id in each
// debug directory (DIR/.build-id/xx/rest.debug), then by .gnu_debuglink
// beside the binary, in its .debug/ directory and in DIR/<binary's dir>/,
// checking the link's CRC32. Under Symfs, each place is tried inside Symfs
// first.
func (r *Resolver) findDebugFile(b *binaryFile) (*elf.File, io.ReaderAt) {
	var roots []string
	if r.opts.Symfs != "" {
		roots = append(roots, r.opts.Symfs)
	}
	roots = append(roots, "")
	if len(b.buildID) >= 2 {
		h := fmt.Sprintf("%x", b.buildID)
		for _, root := range roots {
			for _, dir := range r.opts.DebugDirs {
				p := filepath.Join(root, dir, ".build-id", h[:2], h[2:]+".debug")
				if ef, f := r.openDebug(p, b, 0, false); ef != nil {
					return ef, f
				}
			}
		}
	}
	if b.elf == nil {
		return nil, nil
	}
	name, crc, ok := debugLink(b.elf)
	if !ok {
		return nil, nil
	}
	var cands []string
	if b.openedAs != "" {
		dir := filepath.Dir(b.openedAs)
		cands = append(cands, filepath.Join(dir, name), filepath.Join(dir, ".debug", name))
	}
	binDir := filepath.Dir(b.path)
	for _, root := range roots {
		for _, dir := range r.opts.DebugDirs {
			cands = append(cands, filepath.Join(root, dir, binDir, name))
		}
	}
	for _, p := range cands {
		if p == b.openedAs {
			continue
		}
		if ef, f := r.openDebug(p, b, crc, true); ef != nil {
			return ef, f
		}
	}
	return nil, nil
}

// openDebug opens p as b's debug file: an ELF file whose build-id (when
// both have one) matches b's and, for a debuglink, whose CRC32 matches.
func (r *Resolver) openDebug(p string, b *binaryFile, crc uint32, checkCRC bool) (*elf.File, io.ReaderAt) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
	if checkCRC {
		h := crc32.NewIEEE()
		if _, err := io.Copy(h, f); err != nil || h.Sum32() != crc {
			return nil, nil
		}
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		r.stats.Failures++
		return nil, nil
	}
	if id := buildIDOf(ef); len(id) > 0 && len(b.buildID) > 0 && !bytes.Equal(id, b.buildID) {
		return nil, nil
	}
	r.stats.Opened++
	ok = true
	return ef, f
}

// debugLink reads .gnu_debuglink: a NUL-terminated file name, padding to
// 4 bytes, and the CRC32 of the debug file.
func debugLink(ef *elf.File) (name string, crc uint32, ok bool) {
	s := ef.Section(".gnu_debuglink")
	if s == nil || s.Size > 4096 {
		return "", 0, false
	}
	data, err := s.Data()
	if err != nil {
		return "", 0, false
	}
	i := bytes.IndexByte(data, 0)
	if i <= 0 {
		return "", 0, false
	}
	off := int(align4(uint64(i + 1)))
	if off+4 > len(data) {
		return "", 0, false
	}
	name = string(data[:i])
	if filepath.Base(name) != name {
		return "", 0, false // a bare file name, never a path
	}
	return name, ef.ByteOrder.Uint32(data[off:]), true
}
