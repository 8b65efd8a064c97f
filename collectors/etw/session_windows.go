//go:build windows && (amd64 || arm64)

package etw

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

// sessionPrefix starts the name of every session otrace starts:
// otrace-PID-kernel and otrace-PID-user. The PID lets a later run find
// sessions a crashed otrace left behind.
const sessionPrefix = "otrace-"

// kernelLoggerName is the one NT Kernel Logger session, used before
// Windows 8, which has no private system loggers.
const kernelLoggerName = "NT Kernel Logger"

// etwSession is one trace session otrace started.
type etwSession struct {
	name   string
	handle uint64
	props  *sessionProperties
}

// newProperties fills EVENT_TRACE_PROPERTIES for a real-time session
// with QPC timestamps.
func newProperties(name string, guid GUID, mode, flags, bufferKB uint32) (*sessionProperties, error) {
	p := &sessionProperties{}
	p.Wnode.BufferSize = uint32(unsafe.Sizeof(*p))
	p.Wnode.GUID = guid
	p.Wnode.ClientContext = 1 // QueryPerformanceCounter
	p.Wnode.Flags = wnodeFlagTracedGUID
	p.BufferSize = bufferKB
	p.LogFileMode = eventTraceRealTimeMode | mode
	p.FlushTimer = 1
	p.EnableFlags = flags
	p.LoggerNameOffset = uint32(unsafe.Offsetof(p.LoggerName))
	u, err := windows.UTF16FromString(name)
	if err != nil {
		return nil, err
	}
	if len(u) > len(p.LoggerName) {
		return nil, fmt.Errorf("etw: session name %q is too long", name)
	}
	copy(p.LoggerName[:], u)
	return p, nil
}

// queryProperties is room for ControlTrace and QueryAllTraces to write a
// session's properties and names into.
func queryProperties(name string) *sessionProperties {
	p, err := newProperties(name, GUID{}, 0, 0, 0)
	if err != nil {
		p, _ = newProperties("", GUID{}, 0, 0, 0)
	}
	p.LogFileNameOffset = uint32(unsafe.Offsetof(p.LogFileName))
	return p
}

// startSession starts a session, stopping first a leftover one of the
// same name (an otrace session whose owner no longer runs).
func startSession(name string, guid GUID, mode, flags, bufferKB uint32) (*etwSession, error) {
	props, err := newProperties(name, guid, mode, flags, bufferKB)
	if err != nil {
		return nil, err
	}
	name16, _ := windows.UTF16PtrFromString(name)
	var h uint64
	err = startTrace(&h, name16, props)
	if errors.Is(err, windows.ERROR_ALREADY_EXISTS) && name != kernelLoggerName {
		controlTrace(0, name16, queryProperties(name), controlStop)
		props, _ = newProperties(name, guid, mode, flags, bufferKB)
		err = startTrace(&h, name16, props)
	}
	switch {
	case err == nil:
		return &etwSession{name: name, handle: h, props: props}, nil
	case errors.Is(err, windows.ERROR_ACCESS_DENIED):
		return nil, fmt.Errorf("etw: starting session %s: access denied; ETW sessions need an elevated prompt: run otrace as Administrator", name)
	case errors.Is(err, windows.ERROR_ALREADY_EXISTS):
		return nil, fmt.Errorf("etw: the %s is in use by another tool (xperf, WPR, Process Monitor); stop it, or use Windows 8 or later, where otrace runs its own kernel session", name)
	case errors.Is(err, windows.ERROR_NO_SYSTEM_RESOURCES):
		return nil, fmt.Errorf("etw: starting session %s: too many kernel sessions run already (Windows allows 8); stop one with `logman query -ets` and `logman stop NAME -ets`", name)
	}
	return nil, fmt.Errorf("etw: starting session %s: %w", name, err)
}

// stop stops the session; ETW then delivers what it buffered and ends
// ProcessTrace.
func (s *etwSession) stop() error {
	name16, _ := windows.UTF16PtrFromString(s.name)
	err := controlTrace(s.handle, name16, queryProperties(s.name), controlStop)
	if errors.Is(err, errorWMIInstanceNotFound) {
		return nil // stopped already
	}
	return err
}

func (s *etwSession) flush() {
	name16, _ := windows.UTF16PtrFromString(s.name)
	controlTrace(s.handle, name16, queryProperties(s.name), controlFlush)
}

// eventsLost queries how many events the session dropped so far.
func (s *etwSession) eventsLost() (uint32, error) {
	name16, _ := windows.UTF16PtrFromString(s.name)
	props := queryProperties(s.name)
	if err := controlTrace(s.handle, name16, props, controlQuery); err != nil {
		return 0, err
	}
	return props.EventsLost, nil
}

// enableStacks asks for stack walks after the given kernel events.
func (s *etwSession) enableStacks(ids []ClassicEventID) error {
	if len(ids) == 0 {
		return nil
	}
	raw := make([]classicEventID, len(ids))
	for i, id := range ids {
		raw[i] = classicEventID{EventGUID: id.Class, Type: id.Opcode}
	}
	err := traceSetInformation(s.handle, traceStackTracingInfo, unsafe.Pointer(&raw[0]), uint32(len(raw))*uint32(unsafe.Sizeof(raw[0])))
	if err != nil {
		return fmt.Errorf("etw: enabling stack walks: %w", err)
	}
	return nil
}

// enableProvider enables a user-mode provider on the session.
func (s *etwSession) enableProvider(p ProviderEnable) error {
	params := enableTraceParameters{Version: enableTraceParamsVersion2}
	if p.Stacks {
		params.EnableProperty = enablePropertyStackTrace
	}
	g := p.Provider
	if err := enableTraceEx2(s.handle, &g, eventControlEnableProvider, p.Level, p.Keywords, 0, 0, &params); err != nil {
		return fmt.Errorf("etw: enabling provider %s %v: %w", p.Name, p.Provider, err)
	}
	return nil
}

// setProfileInterval sets the machine's sampling interval and returns
// the previous one, to restore.
func setProfileInterval(interval uint32) (old uint32, err error) {
	var cur traceProfileInterval
	if err := traceQueryInformation(0, traceSampledProfileIntervalInfo, unsafe.Pointer(&cur), uint32(unsafe.Sizeof(cur))); err != nil {
		cur.Interval = 0
	}
	want := traceProfileInterval{Interval: interval}
	if err := traceSetInformation(0, traceSampledProfileIntervalInfo, unsafe.Pointer(&want), uint32(unsafe.Sizeof(want))); err != nil {
		return 0, fmt.Errorf("etw: setting the sampling interval to %d00 ns: %w (it needs SeSystemProfilePrivilege: run otrace as Administrator)", interval, err)
	}
	return cur.Interval, nil
}

func restoreProfileInterval(interval uint32) {
	if interval == 0 {
		return
	}
	v := traceProfileInterval{Interval: interval}
	traceSetInformation(0, traceSampledProfileIntervalInfo, unsafe.Pointer(&v), uint32(unsafe.Sizeof(v)))
}

// enablePrivilege enables a privilege on the process's token.
func enablePrivilege(name string) error {
	var tok windows.Token
	if err := windows.OpenProcessToken(windows.CurrentProcess(), windows.TOKEN_ADJUST_PRIVILEGES|windows.TOKEN_QUERY, &tok); err != nil {
		return err
	}
	defer tok.Close()
	var luid windows.LUID
	n, _ := windows.UTF16PtrFromString(name)
	if err := windows.LookupPrivilegeValue(nil, n, &luid); err != nil {
		return err
	}
	tp := windows.Tokenprivileges{PrivilegeCount: 1}
	tp.Privileges[0] = windows.LUIDAndAttributes{Luid: luid, Attributes: windows.SE_PRIVILEGE_ENABLED}
	// AdjustTokenPrivileges succeeds without assigning what the token
	// lacks and says so in the last error, which must be read from the
	// call itself: the goroutine may run on another thread afterwards.
	r, _, lastErr := procAdjustTokenPrivileges.Call(uintptr(tok), 0, uintptr(unsafe.Pointer(&tp)), 0, 0, 0)
	switch {
	case r == 0:
		return fmt.Errorf("AdjustTokenPrivileges: %w", lastErr)
	case errors.Is(lastErr, windows.ERROR_NOT_ALL_ASSIGNED):
		return fmt.Errorf("%s: not held by this account; run otrace as Administrator", name)
	}
	return nil
}

// stopLeftovers stops otrace sessions whose otrace process no longer
// runs, and says so.
func stopLeftovers(notice func(string)) {
	const slots = 64
	props := make([]*sessionProperties, slots)
	for i := range props {
		props[i] = queryProperties("")
	}
	n, err := queryAllTraces(props)
	if err != nil {
		return
	}
	for _, p := range props[:min(n, slots)] {
		name := windows.UTF16ToString(p.LoggerName[:])
		rest, ok := strings.CutPrefix(name, sessionPrefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.ParseUint(pidText, 10, 32)
		if err != nil || processRuns(uint32(pid)) {
			continue
		}
		s := &etwSession{name: name}
		if err := s.stop(); err == nil && notice != nil {
			notice(fmt.Sprintf("otrace: stopped ETW session %s, left running by otrace process %d, which has exited", name, pid))
		}
	}
}

// processRuns reports whether process pid exists and has not exited.
func processRuns(pid uint32) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		// Access denied means it exists.
		return errors.Is(err, windows.ERROR_ACCESS_DENIED)
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	const stillActive = 259
	return code == stillActive
}

// systemLoggerAvailable reports whether this Windows can run private
// system logger sessions (Windows 8 and later).
func systemLoggerAvailable() bool {
	v := windows.RtlGetVersion()
	return v.MajorVersion > 6 || (v.MajorVersion == 6 && v.MinorVersion >= 2)
}
