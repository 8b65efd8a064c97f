//go:build windows && (amd64 || arm64)

package etw

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The ETW controller, consumer and TDH functions x/sys/windows lacks,
// bound lazily so that a missing one (TdhEnumerateManifestProviderEvents
// before Windows 10 1709) fails only where it is used.
var (
	advapi32 = windows.NewLazySystemDLL("advapi32.dll")
	tdh      = windows.NewLazySystemDLL("tdh.dll")
	kernel32 = windows.NewLazySystemDLL("kernel32.dll")

	procStartTraceW            = advapi32.NewProc("StartTraceW")
	procControlTraceW          = advapi32.NewProc("ControlTraceW")
	procEnableTraceEx2         = advapi32.NewProc("EnableTraceEx2")
	procOpenTraceW             = advapi32.NewProc("OpenTraceW")
	procProcessTrace           = advapi32.NewProc("ProcessTrace")
	procCloseTrace             = advapi32.NewProc("CloseTrace")
	procTraceSetInformation    = advapi32.NewProc("TraceSetInformation")
	procTraceQueryInformation  = advapi32.NewProc("TraceQueryInformation")
	procQueryAllTracesW        = advapi32.NewProc("QueryAllTracesW")
	procAdjustTokenPrivileges  = advapi32.NewProc("AdjustTokenPrivileges")
	procTdhGetEventInformation = tdh.NewProc("TdhGetEventInformation")
	procTdhEnumerateProviders  = tdh.NewProc("TdhEnumerateProviders")
	procTdhEnumerateEvents     = tdh.NewProc("TdhEnumerateManifestProviderEvents")
	procTdhGetManifestEvent    = tdh.NewProc("TdhGetManifestEventInformation")
	procQueryPerfCounter       = kernel32.NewProc("QueryPerformanceCounter")
	procQueryPerfFrequency     = kernel32.NewProc("QueryPerformanceFrequency")
)

// ControlTrace codes.
const (
	controlQuery = 0
	controlStop  = 1
	controlFlush = 3
)

// TRACE_INFO_CLASS values.
const (
	traceStackTracingInfo           = 3
	traceSampledProfileIntervalInfo = 5
)

// Logging and processing modes.
const (
	eventTraceRealTimeMode     = 0x00000100
	eventTraceSystemLoggerMode = 0x02000000
	wnodeFlagTracedGUID        = 0x00020000
	processTraceModeRealTime   = 0x00000100
	processTraceModeRawTime    = 0x00001000
	processTraceModeEventRec   = 0x10000000
	eventControlEnableProvider = 1
	enablePropertyStackTrace   = 0x4
	enableTraceParamsVersion2  = 2
	invalidProcessTraceHandle  = ^uint64(0)
	errorCtxClosePending       = syscall.Errno(7007)
	errorWMIInstanceNotFound   = syscall.Errno(4201)
)

// errno turns a Win32 status return into an error.
func errno(r uintptr) error {
	if r == 0 {
		return nil
	}
	return syscall.Errno(r)
}

// call calls a proc, reporting a missing one as an error rather than a
// panic.
func call(p *windows.LazyProc, args ...uintptr) (uintptr, error) {
	if err := p.Find(); err != nil {
		return 0, fmt.Errorf("etw: %s is not available on this Windows: %w", p.Name, err)
	}
	r, _, _ := p.Call(args...)
	return r, nil
}

func startTrace(handle *uint64, name *uint16, props *sessionProperties) error {
	r, err := call(procStartTraceW, uintptr(unsafe.Pointer(handle)), uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(props)))
	if err != nil {
		return err
	}
	return errno(r)
}

func controlTrace(handle uint64, name *uint16, props *sessionProperties, code uint32) error {
	r, err := call(procControlTraceW, uintptr(handle), uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(props)), uintptr(code))
	if err != nil {
		return err
	}
	return errno(r)
}

func enableTraceEx2(handle uint64, provider *GUID, code uint32, level uint8, any, all uint64, timeout uint32, params *enableTraceParameters) error {
	r, err := call(procEnableTraceEx2, uintptr(handle), uintptr(unsafe.Pointer(provider)), uintptr(code), uintptr(level),
		uintptr(any), uintptr(all), uintptr(timeout), uintptr(unsafe.Pointer(params)))
	if err != nil {
		return err
	}
	return errno(r)
}

func openTrace(lf *eventTraceLogfile) (uint64, error) {
	r, err := call(procOpenTraceW, uintptr(unsafe.Pointer(lf)))
	if err != nil {
		return 0, err
	}
	if uint64(r) == invalidProcessTraceHandle {
		return 0, fmt.Errorf("OpenTraceW: %w", windows.GetLastError())
	}
	return uint64(r), nil
}

func processTrace(handle *uint64) error {
	r, err := call(procProcessTrace, uintptr(unsafe.Pointer(handle)), 1, 0, 0)
	if err != nil {
		return err
	}
	if e := errno(r); e != nil && !errors.Is(e, windows.ERROR_CANCELLED) {
		return e
	}
	return nil
}

func closeTrace(handle uint64) error {
	r, err := call(procCloseTrace, uintptr(handle))
	if err != nil {
		return err
	}
	if e := errno(r); e != nil && !errors.Is(e, errorCtxClosePending) {
		return e
	}
	return nil
}

func traceSetInformation(handle uint64, class uint32, info unsafe.Pointer, size uint32) error {
	r, err := call(procTraceSetInformation, uintptr(handle), uintptr(class), uintptr(info), uintptr(size))
	if err != nil {
		return err
	}
	return errno(r)
}

func traceQueryInformation(handle uint64, class uint32, info unsafe.Pointer, size uint32) error {
	var ret uint32
	r, err := call(procTraceQueryInformation, uintptr(handle), uintptr(class), uintptr(info), uintptr(size), uintptr(unsafe.Pointer(&ret)))
	if err != nil {
		return err
	}
	return errno(r)
}

func queryAllTraces(props []*sessionProperties) (int, error) {
	var n uint32
	r, err := call(procQueryAllTracesW, uintptr(unsafe.Pointer(&props[0])), uintptr(len(props)), uintptr(unsafe.Pointer(&n)))
	if err != nil {
		return 0, err
	}
	if e := errno(r); e != nil && !errors.Is(e, windows.ERROR_MORE_DATA) {
		return 0, e
	}
	return int(n), nil
}

// growCall calls fn with a buffer until it is big enough
// (ERROR_INSUFFICIENT_BUFFER), as TDH's functions want.
func growCall(p *windows.LazyProc, fn func(buf unsafe.Pointer, size *uint32) uintptr) ([]byte, error) {
	if err := p.Find(); err != nil {
		return nil, fmt.Errorf("etw: %s is not available on this Windows: %w", p.Name, err)
	}
	size := uint32(4096)
	for tries := 0; tries < 8; tries++ {
		buf := make([]byte, size)
		r := fn(unsafe.Pointer(&buf[0]), &size)
		switch e := errno(r); {
		case e == nil:
			return buf[:min(int(size), len(buf))], nil
		case errors.Is(e, windows.ERROR_INSUFFICIENT_BUFFER):
			continue
		default:
			return nil, fmt.Errorf("%s: %w", p.Name, e)
		}
	}
	return nil, fmt.Errorf("%s: the buffer kept growing", p.Name)
}

// tdhEventInformation is TdhGetEventInformation for a live record.
func tdhEventInformation(rec unsafe.Pointer) ([]byte, error) {
	return growCall(procTdhGetEventInformation, func(buf unsafe.Pointer, size *uint32) uintptr {
		r, _, _ := procTdhGetEventInformation.Call(uintptr(rec), 0, 0, uintptr(buf), uintptr(unsafe.Pointer(size)))
		return r
	})
}

func tdhEnumerateProviders() ([]byte, error) {
	return growCall(procTdhEnumerateProviders, func(buf unsafe.Pointer, size *uint32) uintptr {
		r, _, _ := procTdhEnumerateProviders.Call(uintptr(buf), uintptr(unsafe.Pointer(size)))
		return r
	})
}

func tdhManifestEvents(provider *GUID) ([]byte, error) {
	return growCall(procTdhEnumerateEvents, func(buf unsafe.Pointer, size *uint32) uintptr {
		r, _, _ := procTdhEnumerateEvents.Call(uintptr(unsafe.Pointer(provider)), uintptr(buf), uintptr(unsafe.Pointer(size)))
		return r
	})
}

func tdhManifestEventInformation(provider *GUID, desc *[16]byte) ([]byte, error) {
	return growCall(procTdhGetManifestEvent, func(buf unsafe.Pointer, size *uint32) uintptr {
		r, _, _ := procTdhGetManifestEvent.Call(uintptr(unsafe.Pointer(provider)), uintptr(unsafe.Pointer(desc)), uintptr(buf), uintptr(unsafe.Pointer(size)))
		return r
	})
}

func queryPerformanceCounter() int64 {
	var v int64
	procQueryPerfCounter.Call(uintptr(unsafe.Pointer(&v)))
	return v
}

func queryPerformanceFrequency() int64 {
	var v int64
	procQueryPerfFrequency.Call(uintptr(unsafe.Pointer(&v)))
	return v
}

// processMemory reads the memory an EVENT_RECORD's pointers point to:
// ETW's buffers, valid during the callback.
type processMemory struct{}

func (processMemory) Bytes(addr uint64, n int) ([]byte, bool) {
	if addr == 0 || n < 0 {
		return nil, false
	}
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), uintptr(addr))), n), true
}
