package perf

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ring is one CPU's mmapped perf buffer. Records are read in place between
// the kernel's head and otrace's tail; a record that wraps around the end
// is stitched into scratch. The tail is published only after a batch was
// delivered, so the kernel never overwrites a record a handler is reading.
type ring struct {
	cpu  int
	fd   int
	mem  []byte
	meta *unix.PerfEventMmapPage
	data []byte
	mask uint64

	head, tail uint64
	scratch    []uint64 // 8-byte aligned, for wrapped records

	// The record at tail, when loaded.
	cur     []byte
	curTime uint64
	loaded  bool
}

// mapRing maps fd's ring: one metadata page and size bytes of data
// (a power-of-two number of pages).
func mapRing(fd, cpu, size int) (*ring, error) {
	page := unix.Getpagesize()
	mem, err := unix.Mmap(fd, 0, page+size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	r := &ring{cpu: cpu, fd: fd, mem: mem}
	r.meta = (*unix.PerfEventMmapPage)(unsafe.Pointer(&mem[0]))
	off, n := uint64(page), uint64(size)
	if r.meta.Data_offset != 0 {
		off, n = r.meta.Data_offset, r.meta.Data_size
	}
	if n == 0 || n&(n-1) != 0 || off+n > uint64(len(mem)) {
		unix.Munmap(mem)
		return nil, fmt.Errorf("perf ring of cpu %d has an unexpected layout (offset %d, size %d)", cpu, off, n)
	}
	r.data = mem[off : off+n]
	r.mask = n - 1
	r.tail = atomic.LoadUint64(&r.meta.Data_tail)
	return r, nil
}

func (r *ring) close() {
	if r.mem != nil {
		unix.Munmap(r.mem)
		r.mem, r.data, r.meta = nil, nil, nil
	}
}

// refresh reads the kernel's head (an acquire load: records before it are
// complete).
func (r *ring) refresh() { r.head = atomic.LoadUint64(&r.meta.Data_head) }

// atWatermark reports whether the records not read yet reach the wake-up
// watermark, at which the kernel wakes the reader.
func (r *ring) atWatermark() bool {
	return atomic.LoadUint64(&r.meta.Data_head)-r.tail >= uint64(len(r.data))/watermarkDiv
}

// peek returns the record at tail, or nil when the ring is empty or its
// next record is inconsistent (counted by the caller as corruption).
func (r *ring) peek() ([]byte, bool) {
	avail := r.head - r.tail
	if avail < 8 {
		return nil, avail == 0
	}
	off := r.tail & r.mask
	size := uint64(le.Uint16(r.data[off+6:]))
	if size < 8 || size > avail || size&7 != 0 {
		return nil, false
	}
	if off+size <= uint64(len(r.data)) {
		return r.data[off : off+size], true
	}
	words := int(size / 8)
	if cap(r.scratch) < words {
		r.scratch = make([]uint64, words)
	}
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&r.scratch[:words][0])), size)
	first := copy(buf, r.data[off:])
	copy(buf[first:], r.data[:size-uint64(first)])
	return buf, true
}

// skipAll drops everything up to head (after corruption).
func (r *ring) skipAll() { r.tail = r.head }

// commit tells the kernel the space up to tail is free again (a release
// store after the records were used).
func (r *ring) commit() { atomic.StoreUint64(&r.meta.Data_tail, r.tail) }
