package etw

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// Sizes of the structures ProcessTrace hands a consumer, on 64-bit
// Windows (amd64 and arm64 share the layout).
const (
	RecordSize  = 112 // EVENT_RECORD
	HeaderSize  = 80  // EVENT_HEADER
	ExtItemSize = 16  // EVENT_HEADER_EXTENDED_DATA_ITEM
)

// EVENT_HEADER.Flags bits.
const (
	FlagExtendedInfo   = 0x0001
	FlagPrivateSession = 0x0002
	FlagStringOnly     = 0x0004
	FlagTraceMessage   = 0x0008
	FlagNoCPUTime      = 0x0010
	Flag32BitHeader    = 0x0020 // the provider ran as a 32-bit process: pointers are 4 bytes
	Flag64BitHeader    = 0x0040
	FlagClassicHeader  = 0x0100 // a classic (MOF) event: Opcode names the event type
	FlagProcessorIndex = 0x0200 // BufferContext holds a 16-bit processor index
)

// Extended data item types (EVENT_HEADER_EXT_TYPE_*).
const (
	ExtRelatedActivityID = 1
	ExtSID               = 2
	ExtTSID              = 3
	ExtInstanceInfo      = 4
	ExtStackTrace32      = 5
	ExtStackTrace64      = 6
	ExtPEBSIndex         = 7
	ExtPMCCounters       = 8
	ExtPSMKey            = 9
	ExtEventKey          = 10
	ExtEventSchemaTL     = 11 // TraceLogging event metadata
	ExtProvTraits        = 12 // TraceLogging provider traits (name)
	ExtProcessStartKey   = 13
	ExtControlGUID       = 14
	ExtQPCDelta          = 15
	ExtContainerID       = 16
	ExtStackKey32        = 17
	ExtStackKey64        = 18
)

// maxExtItems bounds the extended items decoded per record; ETW writes a
// handful at most.
const maxExtItems = 64

// Descriptor is EVENT_DESCRIPTOR: which event of its provider a record is.
type Descriptor struct {
	ID      uint16
	Version uint8
	Channel uint8
	Level   uint8
	Opcode  uint8
	Task    uint16
	Keyword uint64
}

// Header is EVENT_HEADER.
type Header struct {
	Size          uint16
	HeaderType    uint16
	Flags         uint16
	EventProperty uint16
	ThreadID      uint32 // 0xffffffff when the event belongs to no thread
	ProcessID     uint32
	TimeStamp     int64 // in the session's clock units (QPC ticks for otrace's sessions)
	Provider      GUID  // the provider, or for classic kernel events the event class
	Descriptor    Descriptor
	ProcessorTime uint64 // kernel and user time, or the private session's processor time
	ActivityID    GUID
}

// ExtItem is one EVENT_HEADER_EXTENDED_DATA_ITEM with its data.
type ExtItem struct {
	Type    uint16
	Linkage bool // another item of the same kind follows
	Data    []byte
}

// Record is a decoded EVENT_RECORD. Its slices alias the memory the
// record came from and are valid only while that memory is (during the
// ProcessTrace callback, for a live session).
type Record struct {
	Header   Header
	CPU      uint16 // processor number (or index, with FlagProcessorIndex)
	LoggerID uint16
	UserData []byte
	Extended []ExtItem
	// native is the EVENT_RECORD itself while a live callback runs (for
	// TdhGetEventInformation); nil for a capture.
	native unsafe.Pointer
}

// PointerSize is the size of a pointer in the provider's payload.
func (r *Record) PointerSize() int {
	if r.Header.Flags&Flag32BitHeader != 0 {
		return 4
	}
	return 8
}

// Ext returns the data of the first extended item of type t.
func (r *Record) Ext(t uint16) ([]byte, bool) {
	for i := range r.Extended {
		if r.Extended[i].Type == t {
			return r.Extended[i].Data, true
		}
	}
	return nil, false
}

// Memory resolves the pointers an EVENT_RECORD holds (UserData,
// ExtendedData and each item's DataPtr) to bytes. Live, it is the
// process's memory; for a capture or a test it is a flat buffer.
type Memory interface {
	// Bytes returns the n bytes at addr, or false when they are not all
	// readable. addr is never 0.
	Bytes(addr uint64, n int) ([]byte, bool)
}

// FlatMemory is a Memory over one buffer in which pointers are offsets
// from its start: the layout of a flattened record (AppendFlat).
type FlatMemory []byte

// Bytes implements Memory.
func (m FlatMemory) Bytes(addr uint64, n int) ([]byte, bool) {
	if n < 0 || addr > uint64(len(m)) || uint64(n) > uint64(len(m))-addr {
		return nil, false
	}
	return m[addr : addr+uint64(n)], true
}

// DecodeError reports bytes that are not the structure they should be.
type DecodeError struct {
	What   string // the structure: "EVENT_RECORD", "TRACE_EVENT_INFO", "SampledProfile"
	Offset int    // where in it the problem is
	Msg    string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("etw: %s at offset %d: %s", e.What, e.Offset, e.Msg)
}

func errAt(what string, off int, format string, args ...any) error {
	return &DecodeError{What: what, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// ParseHeader decodes the 80-byte EVENT_HEADER at the start of b.
func ParseHeader(b []byte, h *Header) error {
	if len(b) < HeaderSize {
		return errAt("EVENT_HEADER", len(b), "%d bytes, want %d", len(b), HeaderSize)
	}
	le := binary.LittleEndian
	h.Size = le.Uint16(b[0:])
	h.HeaderType = le.Uint16(b[2:])
	h.Flags = le.Uint16(b[4:])
	h.EventProperty = le.Uint16(b[6:])
	h.ThreadID = le.Uint32(b[8:])
	h.ProcessID = le.Uint32(b[12:])
	h.TimeStamp = int64(le.Uint64(b[16:]))
	h.Provider = guidAt(b[24:])
	parseDescriptor(b[40:56], &h.Descriptor)
	h.ProcessorTime = le.Uint64(b[56:])
	h.ActivityID = guidAt(b[64:])
	return nil
}

// parseDescriptor decodes the 16-byte EVENT_DESCRIPTOR in b.
func parseDescriptor(b []byte, d *Descriptor) {
	le := binary.LittleEndian
	d.ID = le.Uint16(b[0:])
	d.Version = b[2]
	d.Channel = b[3]
	d.Level = b[4]
	d.Opcode = b[5]
	d.Task = le.Uint16(b[6:])
	d.Keyword = le.Uint64(b[8:])
}

func appendDescriptor(b []byte, d Descriptor) []byte {
	b = binary.LittleEndian.AppendUint16(b, d.ID)
	b = append(b, d.Version, d.Channel, d.Level, d.Opcode)
	b = binary.LittleEndian.AppendUint16(b, d.Task)
	return binary.LittleEndian.AppendUint64(b, d.Keyword)
}

// ParseRecord decodes the 112-byte EVENT_RECORD at the start of b into r,
// reading what its pointers point to through mem. r.Extended is reused.
func ParseRecord(b []byte, mem Memory, r *Record) error {
	const what = "EVENT_RECORD"
	if len(b) < RecordSize {
		return errAt(what, len(b), "%d bytes, want %d", len(b), RecordSize)
	}
	if err := ParseHeader(b, &r.Header); err != nil {
		return err
	}
	le := binary.LittleEndian
	ctx := le.Uint16(b[80:])
	r.LoggerID = le.Uint16(b[82:])
	r.CPU = ctx & 0xff // ProcessorNumber; Alignment is the high byte
	if r.Header.Flags&FlagProcessorIndex != 0 {
		r.CPU = ctx
	}
	extCount := int(le.Uint16(b[84:]))
	userLen := int(le.Uint16(b[86:]))
	extPtr := le.Uint64(b[88:])
	userPtr := le.Uint64(b[96:])

	r.UserData = nil
	if userLen > 0 {
		if userPtr == 0 {
			return errAt(what, 96, "UserData is NULL with UserDataLength %d", userLen)
		}
		d, ok := mem.Bytes(userPtr, userLen)
		if !ok {
			return errAt(what, 96, "UserData %#x+%d is not readable", userPtr, userLen)
		}
		r.UserData = d
	}

	r.Extended = r.Extended[:0]
	if extCount == 0 {
		return nil
	}
	if r.Header.Flags&FlagExtendedInfo == 0 {
		// ETW sets the flag whenever it writes items; a record without it
		// has none whatever the count says.
		return nil
	}
	if extCount > maxExtItems {
		return errAt(what, 84, "%d extended data items, at most %d expected", extCount, maxExtItems)
	}
	if extPtr == 0 {
		return errAt(what, 88, "ExtendedData is NULL with ExtendedDataCount %d", extCount)
	}
	items, ok := mem.Bytes(extPtr, extCount*ExtItemSize)
	if !ok {
		return errAt(what, 88, "ExtendedData %#x (%d items) is not readable", extPtr, extCount)
	}
	for i := 0; i < extCount; i++ {
		it := items[i*ExtItemSize:]
		typ := le.Uint16(it[2:])
		size := int(le.Uint16(it[6:]))
		ptr := le.Uint64(it[8:])
		var data []byte
		if size > 0 {
			if ptr == 0 {
				return errAt("EVENT_HEADER_EXTENDED_DATA_ITEM", i*ExtItemSize+8, "item %d (type %d): DataPtr is NULL with DataSize %d", i, typ, size)
			}
			if data, ok = mem.Bytes(ptr, size); !ok {
				return errAt("EVENT_HEADER_EXTENDED_DATA_ITEM", i*ExtItemSize+8, "item %d (type %d): data %#x+%d is not readable", i, typ, ptr, size)
			}
		}
		r.Extended = append(r.Extended, ExtItem{Type: typ, Linkage: le.Uint16(it[4:])&1 != 0, Data: data})
	}
	return nil
}

// AppendFlat appends r as a flattened EVENT_RECORD: the 112-byte record
// laid out as on 64-bit Windows, followed by its extended item array,
// the items' data and the user data, each 8-byte aligned, every pointer
// written as the offset of its target from the start of the record (0 for
// NULL). ParseRecord(b, FlatMemory(b), ...) reads it back. Captures and
// test fixtures hold records in this form.
func AppendFlat(dst []byte, r *Record) []byte {
	start := len(dst)
	le := binary.LittleEndian
	align := func() {
		for (len(dst)-start)%8 != 0 {
			dst = append(dst, 0)
		}
	}
	dst = appendHeader(dst, &r.Header)
	ctx := r.CPU
	if r.Header.Flags&FlagProcessorIndex == 0 {
		ctx &= 0xff
	}
	dst = le.AppendUint16(dst, ctx)
	dst = le.AppendUint16(dst, r.LoggerID)
	dst = le.AppendUint16(dst, uint16(len(r.Extended)))
	dst = le.AppendUint16(dst, uint16(len(r.UserData)))
	ptrs := len(dst)
	dst = append(dst, make([]byte, 24)...) // ExtendedData, UserData, UserContext

	if len(r.Extended) > 0 {
		items := len(dst) - start
		le.PutUint64(dst[ptrs:], uint64(items))
		dst = append(dst, make([]byte, len(r.Extended)*ExtItemSize)...)
		for i, it := range r.Extended {
			align()
			at := start + items + i*ExtItemSize
			le.PutUint16(dst[at+2:], it.Type)
			if it.Linkage {
				le.PutUint16(dst[at+4:], 1)
			}
			le.PutUint16(dst[at+6:], uint16(len(it.Data)))
			if len(it.Data) > 0 {
				le.PutUint64(dst[at+8:], uint64(len(dst)-start))
				dst = append(dst, it.Data...)
			}
		}
	}
	align()
	if len(r.UserData) > 0 {
		le.PutUint64(dst[ptrs+8:], uint64(len(dst)-start))
		dst = append(dst, r.UserData...)
	}
	align()
	return dst
}

func appendHeader(b []byte, h *Header) []byte {
	le := binary.LittleEndian
	b = le.AppendUint16(b, h.Size)
	b = le.AppendUint16(b, h.HeaderType)
	b = le.AppendUint16(b, h.Flags)
	b = le.AppendUint16(b, h.EventProperty)
	b = le.AppendUint32(b, h.ThreadID)
	b = le.AppendUint32(b, h.ProcessID)
	b = le.AppendUint64(b, uint64(h.TimeStamp))
	b = appendGUID(b, h.Provider)
	b = appendDescriptor(b, h.Descriptor)
	b = le.AppendUint64(b, h.ProcessorTime)
	return appendGUID(b, h.ActivityID)
}

// StackTrace decodes an EVENT_EXTENDED_ITEM_STACK_TRACE64 (or, with
// ptr 4, STACK_TRACE32) item: a 64-bit match id, then return addresses,
// leaf first. It appends the addresses to dst.
func StackTrace(data []byte, ptr int, dst []uint64) (matchID uint64, addrs []uint64, err error) {
	if len(data) < 8 {
		return 0, dst, errAt("STACK_TRACE", len(data), "%d bytes, want at least the 8-byte MatchId", len(data))
	}
	if (len(data)-8)%ptr != 0 {
		return 0, dst, errAt("STACK_TRACE", len(data), "%d bytes of addresses, not a multiple of %d", len(data)-8, ptr)
	}
	le := binary.LittleEndian
	for off := 8; off < len(data); off += ptr {
		if ptr == 4 {
			dst = append(dst, uint64(le.Uint32(data[off:])))
		} else {
			dst = append(dst, le.Uint64(data[off:]))
		}
	}
	return le.Uint64(data), dst, nil
}
