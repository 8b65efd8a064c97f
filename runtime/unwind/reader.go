package unwind

import (
	"encoding/binary"
	"fmt"
)

// FormatError is a malformed CFI table: which section, at which offset,
// and what was wrong.
type FormatError struct {
	Section string
	Off     uint64
	Msg     string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("unwind: %s at offset %#x: %s", e.Section, e.Off, e.Msg)
}

// cursor reads the values CFI is made of from a byte slice. A read past
// the end sets bad and returns zero, so parsers check once per entry
// instead of after every field.
type cursor struct {
	data  []byte
	pos   int
	order binary.ByteOrder
	bad   bool
}

func (c *cursor) left() int { return len(c.data) - c.pos }

func (c *cursor) need(n int) bool {
	if n < 0 || c.left() < n {
		c.bad = true
		c.pos = len(c.data)
		return false
	}
	return true
}

func (c *cursor) u8() uint8 {
	if !c.need(1) {
		return 0
	}
	v := c.data[c.pos]
	c.pos++
	return v
}

func (c *cursor) u16() uint16 {
	if !c.need(2) {
		return 0
	}
	v := c.order.Uint16(c.data[c.pos:])
	c.pos += 2
	return v
}

func (c *cursor) u32() uint32 {
	if !c.need(4) {
		return 0
	}
	v := c.order.Uint32(c.data[c.pos:])
	c.pos += 4
	return v
}

func (c *cursor) u64() uint64 {
	if !c.need(8) {
		return 0
	}
	v := c.order.Uint64(c.data[c.pos:])
	c.pos += 8
	return v
}

func (c *cursor) bytes(n uint64) []byte {
	if n > uint64(c.left()) || !c.need(int(n)) {
		c.bad = true
		c.pos = len(c.data)
		return nil
	}
	b := c.data[c.pos : c.pos+int(n) : c.pos+int(n)]
	c.pos += int(n)
	return b
}

func (c *cursor) uleb() uint64 {
	var v uint64
	var shift uint
	for {
		if !c.need(1) {
			return 0
		}
		b := c.data[c.pos]
		c.pos++
		if shift < 64 {
			v |= uint64(b&0x7f) << shift
		}
		shift += 7
		if b&0x80 == 0 {
			return v
		}
	}
}

func (c *cursor) sleb() int64 {
	var v int64
	var shift uint
	for {
		if !c.need(1) {
			return 0
		}
		b := c.data[c.pos]
		c.pos++
		if shift < 64 {
			v |= int64(b&0x7f) << shift
		}
		shift += 7
		if b&0x80 == 0 {
			if shift < 64 && b&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
}

// cstring reads a NUL-terminated string.
func (c *cursor) cstring() string {
	for i := c.pos; i < len(c.data); i++ {
		if c.data[i] == 0 {
			s := string(c.data[c.pos:i])
			c.pos = i + 1
			return s
		}
	}
	c.bad = true
	c.pos = len(c.data)
	return ""
}

// Pointer encodings (DW_EH_PE_*) of .eh_frame and .eh_frame_hdr.
const (
	peAbsptr  = 0x00
	peUleb128 = 0x01
	peUdata2  = 0x02
	peUdata4  = 0x03
	peUdata8  = 0x04
	peSleb128 = 0x09
	peSdata2  = 0x0a
	peSdata4  = 0x0b
	peSdata8  = 0x0c

	pePcrel    = 0x10
	peTextrel  = 0x20
	peDatarel  = 0x30
	peFuncrel  = 0x40
	peAligned  = 0x50
	peIndirect = 0x80
	peOmit     = 0xff
)

// bases are the addresses an encoded pointer may be relative to.
type bases struct {
	section uint64 // vaddr of data[0]: pcrel adds it plus the position
	data    uint64 // datarel base (.eh_frame_hdr's address in its table)
	text    uint64
	fn      uint64
}

// pointer reads a pointer encoded as enc. Indirect pointers point into
// memory the unwinder does not have (the GOT): they are refused with ok
// false, as are unknown encodings.
func (c *cursor) pointer(enc uint8, ptrSize int, b *bases) (v uint64, ok bool) {
	if enc == peOmit {
		return 0, false
	}
	at := uint64(c.pos)
	switch enc & 0x0f {
	case peAbsptr:
		if ptrSize == 4 {
			v = uint64(c.u32())
		} else {
			v = c.u64()
		}
	case peUleb128:
		v = c.uleb()
	case peUdata2:
		v = uint64(c.u16())
	case peUdata4:
		v = uint64(c.u32())
	case peUdata8:
		v = c.u64()
	case peSleb128:
		v = uint64(c.sleb())
	case peSdata2:
		v = uint64(int64(int16(c.u16())))
	case peSdata4:
		v = uint64(int64(int32(c.u32())))
	case peSdata8:
		v = c.u64()
	default:
		return 0, false
	}
	if c.bad {
		return 0, false
	}
	switch enc & 0x70 {
	case 0:
	case pePcrel:
		v += b.section + at
	case peDatarel:
		v += b.data
	case peTextrel:
		v += b.text
	case peFuncrel:
		v += b.fn
	default:
		return 0, false
	}
	if enc&peIndirect != 0 {
		return 0, false
	}
	return v, true
}
