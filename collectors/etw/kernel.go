package etw

import (
	"encoding/binary"

	"otrace/runtime/event"
)

// Classic kernel event classes (the NT Kernel Logger's MOF classes). A
// kernel record's ProviderId is its class and its Opcode the event type.
var (
	SystemTraceControlGUID = mustGUID("{9e814aad-3204-11d2-9a82-006008a86939}")
	PerfInfoGUID           = mustGUID("{ce1dbfb4-137e-4da6-87b0-3f59aa102cbc}")
	StackWalkGUID          = mustGUID("{def2fe46-7bd6-4b80-bd94-f57fe20d0ce3}")
	ThreadGUID             = mustGUID("{3d6fa8d1-fe05-11d0-9dda-00c04fd7ba7c}")
	ProcessGUID            = mustGUID("{3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c}")
	ImageLoadGUID          = mustGUID("{2cb15d1d-5fc1-11d2-abe1-00a0c911f518}")
	EventTraceGUID         = mustGUID("{68fdd900-4a3e-11d1-84f4-0000f80464e3}")
	RTLostEventGUID        = mustGUID("{6a399ae0-4bc6-4de9-870b-3657f8947e7e}")
)

// Event types (opcodes) of those classes.
const (
	opStart          = 1
	opEnd            = 2
	opDCStart        = 3
	opDCEnd          = 4
	opImageLoad      = 10
	opSampledProfile = 46
	opStackWalk      = 32
	opCSwitch        = 36
	opReadyThread    = 50
	// RTLostEvent: events, buffers or the log file a real-time session
	// lost.
	opRTLostEvent  = 32
	opRTLostBuffer = 33
	opRTLostFile   = 34
)

// EVENT_TRACE_FLAG_* bits of EVENT_TRACE_PROPERTIES.EnableFlags.
const (
	FlagProcess    = 0x00000001
	FlagThread     = 0x00000002
	FlagImageLoad  = 0x00000004
	FlagCSwitch    = 0x00000010
	FlagDispatcher = 0x00000800 // ReadyThread
	FlagProfile    = 0x01000000
)

// BaseKernelFlags are always enabled in the kernel session: process,
// thread and image events feed the process model, so that e.comm names
// threads and stacks find their modules.
const BaseKernelFlags = FlagProcess | FlagThread | FlagImageLoad

// kernelEvent is one kernel event otrace names "etw:kernel:NAME".
type kernelEvent struct {
	name    string
	class   GUID
	opcode  uint8
	flags   uint32          // EVENT_TRACE_FLAG_* it needs
	stack   event.StackMode // default stack; stack walks can be enabled for it when set or asked
	help    string
	version func(v uint8) []Prop // the class's layout at version v
}

// kernelEvents lists the kernel events, by probe name.
var kernelEvents = []kernelEvent{
	{name: "profile", class: PerfInfoGUID, opcode: opSampledProfile, flags: FlagProfile, stack: event.BothStacks,
		help: "CPU sample (SampledProfile) on every CPU; profile:hz:N sets the rate", version: sampledProfileProps},
	{name: "cswitch", class: ThreadGUID, opcode: opCSwitch, flags: FlagCSwitch,
		help: "context switch (CSwitch)", version: cswitchProps},
	{name: "readythread", class: ThreadGUID, opcode: opReadyThread, flags: FlagDispatcher,
		help: "a thread made ready to run (ReadyThread)", version: readyThreadProps},
	{name: "process_start", class: ProcessGUID, opcode: opStart, help: "process start", version: processProps},
	{name: "process_end", class: ProcessGUID, opcode: opEnd, help: "process end", version: processProps},
	{name: "process_dcstart", class: ProcessGUID, opcode: opDCStart, help: "process running when tracing started (rundown)", version: processProps},
	{name: "process_dcend", class: ProcessGUID, opcode: opDCEnd, help: "process running when tracing stopped (rundown)", version: processProps},
	{name: "thread_start", class: ThreadGUID, opcode: opStart, help: "thread start", version: threadProps},
	{name: "thread_end", class: ThreadGUID, opcode: opEnd, help: "thread end", version: threadProps},
	{name: "thread_dcstart", class: ThreadGUID, opcode: opDCStart, help: "thread running when tracing started (rundown)", version: threadProps},
	{name: "thread_dcend", class: ThreadGUID, opcode: opDCEnd, help: "thread running when tracing stopped (rundown)", version: threadProps},
	{name: "image_load", class: ImageLoadGUID, opcode: opImageLoad, help: "image (DLL, EXE, driver) mapped", version: imageProps},
	{name: "image_unload", class: ImageLoadGUID, opcode: opEnd, help: "image unmapped", version: imageProps},
	{name: "image_dcstart", class: ImageLoadGUID, opcode: opDCStart, help: "image mapped when tracing started (rundown)", version: imageProps},
	{name: "image_dcend", class: ImageLoadGUID, opcode: opDCEnd, help: "image mapped when tracing stopped (rundown)", version: imageProps},
}

// latestVersion stands for the newest class version otrace knows.
const latestVersion = 255

// formatSchema is the schema that defines a kernel event's format: the
// newest layout, then the properties only older versions had (Thread V2's
// StartAddr). Records of every version decode into it by field name.
func formatSchema(k *kernelEvent) *Schema {
	s := kernelSchema(k, latestVersion)
	seen := map[string]bool{}
	for _, p := range s.Props {
		seen[p.Name] = true
	}
	for v := uint8(0); v < 5; v++ {
		for _, p := range k.version(v) {
			if !seen[p.Name] {
				seen[p.Name] = true
				s.Props = append(s.Props, p)
			}
		}
	}
	s.Slots = 0
	numberSlots(s.Props, &s.Slots)
	return s
}

func kernelEventNamed(name string) *kernelEvent {
	for i := range kernelEvents {
		if kernelEvents[i].name == name {
			return &kernelEvents[i]
		}
	}
	return nil
}

// kernelSchema is the schema of kernel event k at class version v.
func kernelSchema(k *kernelEvent, v uint8) *Schema {
	s := &Schema{Provider: k.class, ProviderName: "kernel", Source: SourceKernel, EventName: k.name,
		Descriptor: Descriptor{Opcode: k.opcode, Version: v}, Props: k.version(v)}
	numberSlots(s.Props, &s.Slots)
	return s
}

func scalar(name string, t InType) Prop {
	return Prop{Name: name, In: t, Count: 1, LengthFrom: -1, CountFrom: -1}
}

// SampledProfile (PerfInfo, type 46):
// InstructionPointer ptr, ThreadId u32, Count u16, Reserved u16.
func sampledProfileProps(uint8) []Prop {
	return []Prop{scalar("InstructionPointer", InPointer), scalar("ThreadId", InUint32),
		scalar("Count", InUint16), scalar("Reserved", InUint16)}
}

// CSwitch (Thread, type 36), versions 2 to 4.
func cswitchProps(uint8) []Prop {
	return []Prop{
		scalar("NewThreadId", InUint32), scalar("OldThreadId", InUint32),
		scalar("NewThreadPriority", InInt8), scalar("OldThreadPriority", InInt8),
		scalar("PreviousCState", InUint8), scalar("SpareByte", InInt8),
		scalar("OldThreadWaitReason", InInt8), scalar("OldThreadWaitMode", InInt8),
		scalar("OldThreadState", InInt8), scalar("OldThreadWaitIdealProcessor", InInt8),
		scalar("NewThreadWaitTime", InUint32), scalar("Reserved", InUint32),
	}
}

// ReadyThread (Thread, type 50).
func readyThreadProps(uint8) []Prop {
	return []Prop{scalar("TThreadId", InUint32), scalar("AdjustReason", InInt8),
		scalar("AdjustIncrement", InInt8), scalar("Flag", InInt8), scalar("Reserved", InInt8)}
}

// Process_V2..V4 (types 1-4, 39). V3 added DirectoryTableBase, V4 Flags,
// PackageFullName and ApplicationId.
func processProps(v uint8) []Prop {
	p := []Prop{scalar("UniqueProcessKey", InPointer), scalar("ProcessId", InUint32),
		scalar("ParentId", InUint32), scalar("SessionId", InUint32), scalar("ExitStatus", InInt32)}
	if v >= 3 {
		p = append(p, scalar("DirectoryTableBase", InPointer))
	}
	if v >= 4 {
		p = append(p, scalar("Flags", InUint32))
	}
	p = append(p, scalar("UserSID", InWBEMSID), scalar("ImageFileName", InAnsiString), scalar("CommandLine", InUnicodeString))
	if v >= 4 {
		p = append(p, scalar("PackageFullName", InUnicodeString), scalar("ApplicationId", InUnicodeString))
	}
	return p
}

// Thread_V2 and V3 (types 1-4). V3 replaced StartAddr with Affinity and
// added priorities; V4 appended the thread's name.
func threadProps(v uint8) []Prop {
	p := []Prop{scalar("ProcessId", InUint32), scalar("TThreadId", InUint32),
		scalar("StackBase", InPointer), scalar("StackLimit", InPointer),
		scalar("UserStackBase", InPointer), scalar("UserStackLimit", InPointer)}
	if v < 3 {
		return append(p, scalar("StartAddr", InPointer), scalar("Win32StartAddr", InPointer),
			scalar("TebBase", InPointer), scalar("SubProcessTag", InUint32))
	}
	p = append(p, scalar("Affinity", InPointer), scalar("Win32StartAddr", InPointer),
		scalar("TebBase", InPointer), scalar("SubProcessTag", InUint32),
		scalar("BasePriority", InUint8), scalar("PagePriority", InUint8),
		scalar("IoPriority", InUint8), scalar("ThreadFlags", InUint8))
	if v >= 4 {
		p = append(p, scalar("ThreadName", InUnicodeString))
	}
	return p
}

// Image_Load (types 10, 2, 3, 4), versions 2 and 3; version 1 had only
// base, size, process and name.
func imageProps(v uint8) []Prop {
	p := []Prop{scalar("ImageBase", InPointer), scalar("ImageSize", InPointer), scalar("ProcessId", InUint32)}
	if v < 2 {
		return append(p, scalar("FileName", InUnicodeString))
	}
	p = append(p, scalar("ImageCheckSum", InUint32), scalar("TimeDateStamp", InUint32))
	if v >= 3 {
		p = append(p, scalar("SignatureLevel", InUint8), scalar("SignatureType", InUint8), scalar("Reserved0", InUint16))
	} else {
		p = append(p, scalar("Reserved0", InUint32))
	}
	return append(p, scalar("DefaultBase", InPointer), scalar("Reserved1", InUint32), scalar("Reserved2", InUint32),
		scalar("Reserved3", InUint32), scalar("Reserved4", InUint32), scalar("FileName", InUnicodeString))
}

// StackWalk is a decoded StackWalk_Event (type 32): the stack of the
// event stamped EventTimeStamp on StackThread, leaf first.
type StackWalk struct {
	EventTimeStamp int64
	StackProcess   uint32
	StackThread    uint32
	Stack          []uint64
}

// ParseStackWalk decodes a StackWalk_Event payload: EventTimeStamp u64,
// StackProcess u32, StackThread u32, then addresses of ptr bytes to the
// end. Addresses are appended to w.Stack (reused).
func ParseStackWalk(b []byte, ptr int, w *StackWalk) error {
	if len(b) < 16 {
		return errAt("StackWalk", len(b), "%d bytes, want at least 16", len(b))
	}
	if (len(b)-16)%ptr != 0 {
		return errAt("StackWalk", 16, "%d bytes of addresses, not a multiple of %d", len(b)-16, ptr)
	}
	le := binary.LittleEndian
	w.EventTimeStamp = int64(le.Uint64(b))
	w.StackProcess = le.Uint32(b[8:])
	w.StackThread = le.Uint32(b[12:])
	w.Stack = w.Stack[:0]
	for off := 16; off < len(b); off += ptr {
		if ptr == 4 {
			w.Stack = append(w.Stack, uint64(le.Uint32(b[off:])))
		} else {
			w.Stack = append(w.Stack, le.Uint64(b[off:]))
		}
	}
	return nil
}

// isKernelAddress reports whether a stack address is in kernel space:
// the upper half on 64-bit Windows, above 2 GiB for a 32-bit stack.
func isKernelAddress(a uint64, ptr int) bool {
	if ptr == 4 {
		return a >= 0x80000000
	}
	return a >= 1<<63
}
