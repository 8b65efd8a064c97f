package etw

import "fmt"

// InType is a TDH_INTYPE: how one property is encoded in an event's
// payload. TraceLogging's TlgIn values are converted to these.
type InType uint16

// TDH_INTYPE values.
const (
	InNull                        InType = 0
	InUnicodeString               InType = 1 // UTF-16, NUL-terminated unless a length is given
	InAnsiString                  InType = 2 // 8-bit, NUL-terminated unless a length is given
	InInt8                        InType = 3
	InUint8                       InType = 4
	InInt16                       InType = 5
	InUint16                      InType = 6
	InInt32                       InType = 7
	InUint32                      InType = 8
	InInt64                       InType = 9
	InUint64                      InType = 10
	InFloat                       InType = 11
	InDouble                      InType = 12
	InBoolean                     InType = 13 // 4 bytes
	InBinary                      InType = 14 // length from the property's length
	InGUID                        InType = 15
	InPointer                     InType = 16 // the provider's pointer size
	InFiletime                    InType = 17
	InSystemtime                  InType = 18
	InSID                         InType = 19
	InHexInt32                    InType = 20
	InHexInt64                    InType = 21
	InManifestCountedString       InType = 22 // u16 byte count, then UTF-16
	InManifestCountedAnsiString   InType = 23 // u16 byte count, then bytes
	InManifestCountedBinary       InType = 25 // u16 byte count, then bytes
	InCountedString               InType = 300
	InCountedAnsiString           InType = 301
	InReversedCountedString       InType = 302
	InReversedCountedAnsiString   InType = 303
	InNonNullTerminatedString     InType = 304 // UTF-16 to the end of the payload
	InNonNullTerminatedAnsiString InType = 305
	InUnicodeChar                 InType = 306
	InAnsiChar                    InType = 307
	InSizeT                       InType = 308
	InHexDump                     InType = 309 // u32 byte count, then bytes
	InWBEMSID                     InType = 310 // TOKEN_USER (two pointers) then a SID, or a 4-byte 0
)

// Prop is one property of an event: a field of its payload, or a struct
// grouping the properties in Members.
type Prop struct {
	Name string
	In   InType
	Out  uint16
	// Length is a string's length in characters or a binary's in bytes,
	// when fixed; 0 means NUL-terminated (strings) or counted.
	Length int
	// LengthFrom is the slot of an earlier property holding the length,
	// or -1.
	LengthFrom int
	// Count is a fixed element count (1 for a single value); CountFrom is
	// the slot of an earlier property holding it, or -1.
	Count     int
	CountFrom int
	// Array is set when the property holds Count (or CountFrom) elements
	// rather than one value, even when the count is 1.
	Array bool
	// VCount: the element count is a u16 in the payload just before the
	// elements (TraceLogging variable-length arrays).
	VCount bool
	// Struct properties have no data of their own: Members follow.
	Struct  bool
	Members []Prop
	// Slot numbers the property for LengthFrom and CountFrom references:
	// its index in TDH's flat property array.
	Slot int
}

// DecodingSource says where a schema came from (TDH's DECODING_SOURCE,
// plus otrace's own tables).
type DecodingSource uint8

const (
	SourceManifest     DecodingSource = 0 // DecodingSourceXMLFile
	SourceWbem         DecodingSource = 1 // a classic MOF class
	SourceWPP          DecodingSource = 2
	SourceTraceLogging DecodingSource = 3 // DecodingSourceTlg
	SourceKernel       DecodingSource = 100
)

// Schema describes one kind of event: who sends it and its properties in
// payload order.
type Schema struct {
	Provider     GUID
	ProviderName string
	Descriptor   Descriptor
	Source       DecodingSource
	EventName    string // TDH's event name (Windows 10+) or the TraceLogging name
	TaskName     string
	OpcodeName   string
	Props        []Prop
	// Slots is one more than the largest Slot of any property.
	Slots int
}

// Name is what probe names call the event: its event name, else
// Task_Opcode (or the task alone), else the decimal id.
func (s *Schema) Name() string {
	switch {
	case s.EventName != "":
		return s.EventName
	case s.TaskName != "" && s.OpcodeName != "":
		return s.TaskName + "_" + s.OpcodeName
	case s.TaskName != "":
		return s.TaskName
	}
	return fmt.Sprint(s.Descriptor.ID)
}

// numberSlots gives every property a Slot in depth-first order, for
// schemas built by hand or from TraceLogging metadata (no references).
func numberSlots(props []Prop, next *int) {
	for i := range props {
		props[i].Slot = *next
		*next++
		numberSlots(props[i].Members, next)
	}
}

// fixedSize is the encoded size of one element of a fixed-size type, or
// 0 for a variable-size one.
func fixedSize(t InType, ptr int) int {
	switch t {
	case InInt8, InUint8, InAnsiChar:
		return 1
	case InInt16, InUint16, InUnicodeChar:
		return 2
	case InInt32, InUint32, InHexInt32, InBoolean, InFloat:
		return 4
	case InInt64, InUint64, InHexInt64, InDouble, InFiletime:
		return 8
	case InPointer, InSizeT:
		return ptr
	case InGUID, InSystemtime:
		return 16
	}
	return 0
}

// isInt reports whether t decodes to an integer.
func isInt(t InType) bool {
	switch t {
	case InInt8, InUint8, InInt16, InUint16, InInt32, InUint32, InInt64, InUint64,
		InHexInt32, InHexInt64, InBoolean, InPointer, InSizeT, InFiletime, InUnicodeChar, InAnsiChar:
		return true
	}
	return false
}

func isSigned(t InType) bool {
	switch t {
	case InInt8, InInt16, InInt32, InInt64:
		return true
	}
	return false
}

// isString reports whether t is text in the payload.
func isString(t InType) bool {
	switch t {
	case InUnicodeString, InAnsiString, InManifestCountedString, InManifestCountedAnsiString,
		InCountedString, InCountedAnsiString, InReversedCountedString, InReversedCountedAnsiString,
		InNonNullTerminatedString, InNonNullTerminatedAnsiString:
		return true
	}
	return false
}
