package unwind

import (
	"encoding/binary"
	"strings"
)

// Section is one CFI section as loaded in memory: its bytes and the
// virtual address they were linked at (pc-relative pointers in .eh_frame
// need it).
type Section struct {
	Name string // ".eh_frame" or ".debug_frame", for errors
	Data []byte
	Addr uint64
	// Debug is true for .debug_frame, whose CIE ids and pointers differ.
	Debug bool
	// Order is the file's byte order; nil means little-endian.
	Order binary.ByteOrder
	// PtrSize is the address size in bytes (8 for 64-bit files).
	PtrSize int
}

func (s *Section) cursor(off uint64) *cursor {
	c := &cursor{data: s.Data, order: s.Order}
	if c.order == nil {
		c.order = binary.LittleEndian
	}
	if off > uint64(len(s.Data)) {
		c.pos, c.bad = len(s.Data), true
	} else {
		c.pos = int(off)
	}
	return c
}

func (s *Section) errorf(off uint64, msg string) *FormatError {
	return &FormatError{Section: s.Name, Off: off, Msg: msg}
}

// CIE is a Common Information Entry: what the FDEs that point at it share.
type CIE struct {
	Off          uint64
	Version      uint8
	Augmentation string
	CodeAlign    uint64
	DataAlign    int64
	RA           uint64 // return-address column
	FDEEncoding  uint8  // pointer encoding of the FDEs' addresses
	LSDAEncoding uint8
	Signal       bool // 'S': frames of this CIE are signal trampolines
	AddrSize     int
	Initial      []byte // initial instructions
}

// FDE is a Frame Description Entry: the rules of one address range.
type FDE struct {
	Off          uint64
	CIE          *CIE
	Start, End   uint64 // [Start, End), link-time virtual addresses
	Instructions []byte
}

// entry is the header of one CIE or FDE.
type entry struct {
	off     uint64 // of the length field
	body    uint64 // of the first byte after the id field
	end     uint64 // of the next entry
	id      uint64 // CIE id field (or CIE pointer of an FDE)
	idAt    uint64 // offset of the id field
	is64    bool
	isCIE   bool
	zeroEnd bool // a zero length: .eh_frame's terminator
}

// readEntry reads the header of the entry at off.
func (s *Section) readEntry(off uint64) (entry, error) {
	c := s.cursor(off)
	e := entry{off: off}
	length := uint64(c.u32())
	if c.bad {
		return e, s.errorf(off, "truncated entry length")
	}
	if length == 0 {
		e.zeroEnd = true
		e.end = off + 4
		return e, nil
	}
	if length == 0xffffffff {
		e.is64 = true
		length = c.u64()
		if c.bad {
			return e, s.errorf(off, "truncated 64-bit entry length")
		}
	}
	start := uint64(c.pos)
	if length > uint64(c.left()) {
		return e, s.errorf(off, "entry runs past the end of the section")
	}
	e.end = start + length
	e.idAt = start
	if e.is64 {
		e.id = c.u64()
	} else {
		e.id = uint64(c.u32())
	}
	if c.bad || uint64(c.pos) > e.end {
		return e, s.errorf(off, "entry too short for its id")
	}
	e.body = uint64(c.pos)
	switch {
	case !s.Debug:
		e.isCIE = e.id == 0
	case e.is64:
		e.isCIE = e.id == ^uint64(0)
	default:
		e.isCIE = e.id == 0xffffffff
	}
	return e, nil
}

// parseCIE parses the CIE at off.
func (s *Section) parseCIE(off uint64) (*CIE, error) {
	e, err := s.readEntry(off)
	if err != nil {
		return nil, err
	}
	if e.zeroEnd || !e.isCIE {
		return nil, s.errorf(off, "not a CIE")
	}
	c := s.cursor(e.body)
	c.data = c.data[:e.end]
	cie := &CIE{Off: off, FDEEncoding: peAbsptr, LSDAEncoding: peOmit, AddrSize: s.ptrSize()}
	cie.Version = c.u8()
	switch cie.Version {
	case 1, 3, 4:
	default:
		return nil, s.errorf(off, "CIE version "+itoa(int(cie.Version))+" is not 1, 3 or 4")
	}
	cie.Augmentation = c.cstring()
	if strings.HasPrefix(cie.Augmentation, "eh") {
		return nil, s.errorf(off, "the old GCC \"eh\" augmentation is not supported")
	}
	if cie.Version == 4 {
		cie.AddrSize = int(c.u8())
		if seg := c.u8(); seg != 0 {
			return nil, s.errorf(off, "segmented addresses are not supported")
		}
		if cie.AddrSize != 4 && cie.AddrSize != 8 {
			return nil, s.errorf(off, "address size "+itoa(cie.AddrSize))
		}
	}
	cie.CodeAlign = c.uleb()
	cie.DataAlign = c.sleb()
	if cie.Version == 1 {
		cie.RA = uint64(c.u8())
	} else {
		cie.RA = c.uleb()
	}
	if c.bad {
		return nil, s.errorf(off, "truncated CIE")
	}
	if strings.HasPrefix(cie.Augmentation, "z") {
		n := c.uleb()
		aug := c.bytes(n)
		if c.bad {
			return nil, s.errorf(off, "augmentation data runs past the CIE")
		}
		a := &cursor{data: aug, order: c.order}
		b := bases{section: s.Addr + uint64(c.pos-len(aug))}
		for _, ch := range cie.Augmentation[1:] {
			switch ch {
			case 'L':
				cie.LSDAEncoding = a.u8()
			case 'R':
				cie.FDEEncoding = a.u8()
			case 'P':
				enc := a.u8()
				a.pointer(enc, cie.AddrSize, &b) // the personality: unused
			case 'S':
				cie.Signal = true
			case 'B', 'G':
				// arm64: B-key return address signing, MTE tagged
				// frames; neither changes the rules.
			default:
				// Unknown letters are fine: 'z' gave the data's length.
			}
		}
	} else {
		for _, ch := range cie.Augmentation {
			switch ch {
			case 'S':
				cie.Signal = true
			case 'B', 'G':
			default:
				return nil, s.errorf(off, "augmentation "+cie.Augmentation+" without 'z' cannot be skipped")
			}
		}
	}
	cie.Initial = c.data[c.pos:e.end:e.end]
	return cie, nil
}

func (s *Section) ptrSize() int {
	if s.PtrSize == 4 {
		return 4
	}
	return 8
}

// cieOf returns the CIE an FDE entry points at.
func (s *Section) cieOf(e entry, cies map[uint64]*CIE) (*CIE, error) {
	var at uint64
	if s.Debug {
		at = e.id
	} else {
		if e.id > e.idAt {
			return nil, s.errorf(e.off, "CIE pointer before the section")
		}
		at = e.idAt - e.id
	}
	if c, ok := cies[at]; ok {
		if c == nil {
			return nil, s.errorf(e.off, "bad CIE")
		}
		return c, nil
	}
	c, err := s.parseCIE(at)
	if cies != nil {
		cies[at] = c
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// parseFDE parses the FDE at off; CIEs are looked up (and remembered) in
// cies, which may be nil.
func (s *Section) parseFDE(off uint64, cies map[uint64]*CIE) (*FDE, error) {
	e, err := s.readEntry(off)
	if err != nil {
		return nil, err
	}
	if e.zeroEnd || e.isCIE {
		return nil, s.errorf(off, "not an FDE")
	}
	return s.fdeOf(e, cies)
}

func (s *Section) fdeOf(e entry, cies map[uint64]*CIE) (*FDE, error) {
	cie, err := s.cieOf(e, cies)
	if err != nil {
		return nil, err
	}
	c := s.cursor(e.body)
	c.data = c.data[:e.end]
	f := &FDE{Off: e.off, CIE: cie}
	b := bases{section: s.Addr}
	if s.Debug {
		f.Start, _ = c.pointer(peAbsptr, cie.AddrSize, &b)
		n, _ := c.pointer(peAbsptr, cie.AddrSize, &b)
		f.End = f.Start + n
	} else {
		var ok bool
		f.Start, ok = c.pointer(cie.FDEEncoding, cie.AddrSize, &b)
		if !ok && !c.bad {
			return nil, s.errorf(e.off, "FDE address encoding is not supported")
		}
		n, _ := c.pointer(cie.FDEEncoding&0x0f, cie.AddrSize, &b)
		f.End = f.Start + n
		if strings.HasPrefix(cie.Augmentation, "z") {
			n := c.uleb()
			c.bytes(n) // the LSDA pointer
		}
	}
	if c.bad {
		return nil, s.errorf(e.off, "truncated FDE")
	}
	if f.End < f.Start {
		return nil, s.errorf(e.off, "FDE address range wraps")
	}
	f.Instructions = c.data[c.pos:e.end:e.end]
	return f, nil
}

// Entries calls fn for every FDE of the section in order, and returns the
// first error that stopped the walk (entries before it were delivered).
func (s *Section) Entries(fn func(*FDE)) error {
	cies := map[uint64]*CIE{}
	off := uint64(0)
	for off < uint64(len(s.Data)) {
		e, err := s.readEntry(off)
		if err != nil {
			return err
		}
		if e.zeroEnd && !s.Debug {
			return nil // .eh_frame's terminator
		}
		if !e.zeroEnd && !e.isCIE {
			f, err := s.fdeOf(e, cies)
			if err != nil {
				return err
			}
			fn(f)
		}
		off = e.end
	}
	return nil
}
