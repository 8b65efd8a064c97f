package symbols

import (
	"bytes"
	"debug/dwarf"
	"encoding/binary"
	"fmt"
)

// debugLine is the raw .debug_line section a dwarf.Data reads its line
// tables from, kept to check a unit's line table header before
// dwarf.Data.LineReader reads it.
type debugLine struct {
	data  []byte
	order binary.ByteOrder
}

// Forms a DWARF 5 line table header describes its entries with, as
// dwarf.LineReader reads them.
const (
	formData2    = 0x05
	formData4    = 0x06
	formData8    = 0x07
	formString   = 0x08
	formBlock    = 0x09
	formData1    = 0x0b
	formStrp     = 0x0e
	formUdata    = 0x0f
	formStrx     = 0x1a
	formStrpSup  = 0x1d
	formData16   = 0x1e
	formLineStrp = 0x1f
	formStrx1    = 0x25
	formStrx2    = 0x26
	formStrx3    = 0x27
	formStrx4    = 0x28

	formFlagPresent = 0x19
)

// checkHeader rejects the line table of unit cu when its DWARF 5
// header counts more directories or file names than the unit has bytes
// for. dwarf.LineReader allocates a slice of that many entries, then
// reads each one even after the bytes have run out, and reads entries of
// no bytes at all. In a 10 KB file, a count of 2^28 made one lookup take
// 16 s and 5 GB of memory (36 s and 11 GB for entries of no bytes), and
// a count of 2^36 was a fatal out-of-memory error. Each entry of a
// well-formed table holds its path, so at least one byte. Tables before
// DWARF 5 end with an empty entry instead of a count, so only DWARF 5
// headers are checked.
func (l debugLine) checkHeader(cu *dwarf.Entry) error {
	start, ok := cu.Val(dwarf.AttrStmtList).(int64)
	if !ok || start < 0 || start >= int64(len(l.data)) {
		return nil // no line table, or one LineReader refuses itself
	}
	b := dwarfBuf{data: l.data, off: uint64(start), order: l.order}
	length, dwarf64 := b.initialLength()
	end := uint64(len(l.data))
	if length < end-b.off {
		end = b.off + length
	}
	if b.u16() != 5 || b.err != nil {
		return nil
	}
	b.u8()            // address size
	b.u8()            // segment selector size
	b.offset(dwarf64) // header length
	b.bytes(5)        // instruction length, ops per instruction, is_stmt, line base, line range
	if opcodeBase := b.u8(); opcodeBase > 1 {
		b.bytes(uint64(opcodeBase) - 1) // standard opcode lengths
	}
	for _, table := range []string{"directories", "file names"} {
		forms := make([]uint64, b.u8())
		size := uint64(0) // the fewest bytes an entry takes
		for i := range forms {
			b.uleb() // content type
			forms[i] = b.uleb()
			size += lineFormSize(forms[i], dwarf64)
		}
		count := b.uleb()
		if b.err != nil {
			return nil // truncated: LineReader reads no more than is there
		}
		if count == 0 {
			continue
		}
		if size == 0 {
			return fmt.Errorf("line table at %#x: %d %s of no bytes each", start, count, table)
		}
		if left := end - min(b.off, end); count > left/size {
			return fmt.Errorf("line table at %#x: %d %s of %d bytes or more each in %d bytes", start, count, table, size, left)
		}
		for i := uint64(0); i < count && b.err == nil; i++ {
			for _, form := range forms {
				b.skipLineForm(form, dwarf64)
			}
		}
	}
	return nil
}

// lineFormSize is the fewest bytes a value of form takes. Forms that
// dwarf.LineReader does not know take a byte or more, except the two
// that take none.
func lineFormSize(form uint64, dwarf64 bool) uint64 {
	switch form {
	case formStrp, formLineStrp, formStrpSup:
		if dwarf64 {
			return 8
		}
		return 4
	case formStrx2, formData2:
		return 2
	case formStrx3:
		return 3
	case formStrx4, formData4:
		return 4
	case formData8:
		return 8
	case formData16:
		return 16
	case formFlagPresent, formImplicitCons:
		return 0
	}
	return 1 // a string's NUL, a LEB128 byte, a block's length, data1, strx1
}

// skipLineForm skips a value of form as dwarf.LineReader reads it in a
// directory or file name entry; it reads nothing of other forms.
func (b *dwarfBuf) skipLineForm(form uint64, dwarf64 bool) {
	switch form {
	case formString:
		if b.err == nil {
			if n := bytes.IndexByte(b.data[b.off:], 0); n >= 0 {
				b.bytes(uint64(n) + 1)
				return
			}
		}
		b.err = errDwarfShort
	case formStrp, formLineStrp, formStrpSup:
		b.offset(dwarf64)
	case formStrx, formUdata:
		b.uleb()
	case formStrx1, formData1:
		b.bytes(1)
	case formStrx2, formData2:
		b.bytes(2)
	case formStrx3:
		b.bytes(3)
	case formStrx4, formData4:
		b.bytes(4)
	case formData8:
		b.bytes(8)
	case formData16:
		b.bytes(16)
	case formBlock:
		b.bytes(b.uleb())
	}
}
