package etw

import "unsafe"

// The structures the controller and consumer pass to advapi32, laid out
// as on 64-bit Windows (evntrace.h, evntcons.h). They are declared here,
// without a build tag, so that their offsets are checked by tests on any
// 64-bit machine; only the _windows.go files use them.

// wnodeHeader is WNODE_HEADER (48 bytes).
type wnodeHeader struct {
	BufferSize        uint32
	ProviderID        uint32
	HistoricalContext uint64
	TimeStamp         int64
	GUID              GUID
	ClientContext     uint32 // 1: QueryPerformanceCounter timestamps
	Flags             uint32 // WNODE_FLAG_TRACED_GUID
}

// eventTraceProperties is EVENT_TRACE_PROPERTIES (120 bytes); the
// session and log file names follow it in the same allocation.
type eventTraceProperties struct {
	Wnode               wnodeHeader
	BufferSize          uint32 // KiB
	MinimumBuffers      uint32
	MaximumBuffers      uint32
	MaximumFileSize     uint32
	LogFileMode         uint32
	FlushTimer          uint32 // seconds
	EnableFlags         uint32
	AgeLimit            int32
	NumberOfBuffers     uint32
	FreeBuffers         uint32
	EventsLost          uint32
	BuffersWritten      uint32
	LogBuffersLost      uint32
	RealTimeBuffersLost uint32
	LoggerThreadID      uintptr
	LogFileNameOffset   uint32
	LoggerNameOffset    uint32
}

// maxSessionName is the room left for a session's name (in UTF-16 units)
// after its properties, as ControlTrace's queries need.
const maxSessionName = 1024

// sessionProperties is EVENT_TRACE_PROPERTIES with room for the names.
type sessionProperties struct {
	eventTraceProperties
	LoggerName  [maxSessionName]uint16
	LogFileName [maxSessionName]uint16
}

// eventTraceHeader is EVENT_TRACE_HEADER (48 bytes).
type eventTraceHeader struct {
	Size          uint16
	FieldTypeFlag uint16
	Version       uint32
	ThreadID      uint32
	ProcessID     uint32
	TimeStamp     int64
	GUID          GUID
	ProcessorTime uint64
}

// eventTrace is EVENT_TRACE (88 bytes).
type eventTrace struct {
	Header           eventTraceHeader
	InstanceID       uint32
	ParentInstanceID uint32
	ParentGUID       GUID
	MofData          unsafe.Pointer
	MofLength        uint32
	BufferContext    uint32
}

// traceLogfileHeader is TRACE_LOGFILE_HEADER (280 bytes).
type traceLogfileHeader struct {
	BufferSize         uint32
	Version            uint32
	ProviderVersion    uint32
	NumberOfProcessors uint32
	EndTime            int64
	TimerResolution    uint32
	MaximumFileSize    uint32
	LogFileMode        uint32
	BuffersWritten     uint32
	LogInstanceGUID    GUID // or StartBuffers, PointerSize, EventsLost, CpuSpeedInMHz
	LoggerName         unsafe.Pointer
	LogFileName        unsafe.Pointer
	TimeZone           [172]byte // TIME_ZONE_INFORMATION
	BootTime           int64
	PerfFreq           int64
	StartTime          int64
	ReservedFlags      uint32
	BuffersLost        uint32
}

// eventTraceLogfile is EVENT_TRACE_LOGFILEW (448 bytes).
type eventTraceLogfile struct {
	LogFileName         *uint16
	LoggerName          *uint16
	CurrentTime         int64
	BuffersRead         uint32
	ProcessTraceMode    uint32
	CurrentEvent        eventTrace
	LogfileHeader       traceLogfileHeader
	BufferCallback      uintptr
	BufferSize          uint32
	Filled              uint32
	EventsLost          uint32
	EventRecordCallback uintptr
	IsKernelTrace       uint32
	Context             uintptr
}

// enableTraceParameters is ENABLE_TRACE_PARAMETERS, version 2 (48 bytes).
type enableTraceParameters struct {
	Version          uint32
	EnableProperty   uint32
	ControlFlags     uint32
	SourceID         GUID
	EnableFilterDesc unsafe.Pointer
	FilterDescCount  uint32
}

// classicEventID is CLASSIC_EVENT_ID (24 bytes): a kernel event for
// TraceStackTracingInfo.
type classicEventID struct {
	EventGUID GUID
	Type      uint8
	Reserved  [7]uint8
}

// traceProfileInterval is TRACE_PROFILE_INTERVAL.
type traceProfileInterval struct {
	Source   uint32
	Interval uint32 // 100 ns units
}
