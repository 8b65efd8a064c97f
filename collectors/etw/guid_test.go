package etw

import (
	"testing"
	"unsafe"
)

func TestGUIDsParseAndPrintAsWindowsWritesThem(t *testing.T) {
	for _, s := range []string{"{ce1dbfb4-137e-4da6-87b0-3f59aa102cbc}", "CE1DBFB4-137E-4DA6-87B0-3F59AA102CBC"} {
		g, err := ParseGUID(s)
		if err != nil {
			t.Fatal(err)
		}
		if g != PerfInfoGUID || g.String() != "{ce1dbfb4-137e-4da6-87b0-3f59aa102cbc}" {
			t.Errorf("ParseGUID(%q) = %v", s, g)
		}
	}
	// Stored little-endian in the first three groups.
	b := appendGUID(nil, PerfInfoGUID)
	if b[0] != 0xb4 || b[3] != 0xce || b[4] != 0x7e || b[8] != 0x87 || guidAt(b) != PerfInfoGUID {
		t.Errorf("bytes % x", b)
	}
	for _, bad := range []string{"", "{ce1dbfb4-137e-4da6-87b0-3f59aa102cbc", "ce1dbfb4x137e-4da6-87b0-3f59aa102cbc", "{ge1dbfb4-137e-4da6-87b0-3f59aa102cbc}"} {
		if _, err := ParseGUID(bad); err == nil {
			t.Errorf("ParseGUID(%q) succeeded", bad)
		}
	}
}

func TestProviderGUIDFromNameMatchesEventSource(t *testing.T) {
	// GUIDs .NET's EventSources register for these names.
	for name, want := range map[string]string{
		"System.Runtime":                         "{49592c0f-5a05-516d-aa4b-a64e02026c89}",
		"Microsoft-Diagnostics-DiagnosticSource": "{adb401e1-5296-51f8-c125-5fda75826144}",
		"microsoft-system-net-http":              "{bdd9a83e-1929-5482-0d73-2fe5e1c0e16d}", // case does not matter
	} {
		if got := ProviderGUIDFromName(name).String(); got != want {
			t.Errorf("ProviderGUIDFromName(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestWindowsStructuresHaveTheirDocumentedLayouts(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layouts are those of 64-bit Windows")
	}
	check := func(what string, got, want uintptr) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, want %d", what, got, want)
		}
	}
	var p eventTraceProperties
	check("sizeof EVENT_TRACE_PROPERTIES", unsafe.Sizeof(p), 120)
	check("WNODE_HEADER.ClientContext", unsafe.Offsetof(p.Wnode.ClientContext), 40)
	check("EVENT_TRACE_PROPERTIES.BufferSize", unsafe.Offsetof(p.BufferSize), 48)
	check("EVENT_TRACE_PROPERTIES.EnableFlags", unsafe.Offsetof(p.EnableFlags), 72)
	check("EVENT_TRACE_PROPERTIES.EventsLost", unsafe.Offsetof(p.EventsLost), 88)
	check("EVENT_TRACE_PROPERTIES.LoggerThreadId", unsafe.Offsetof(p.LoggerThreadID), 104)
	check("EVENT_TRACE_PROPERTIES.LoggerNameOffset", unsafe.Offsetof(p.LoggerNameOffset), 116)
	var lf eventTraceLogfile
	check("sizeof EVENT_TRACE_LOGFILEW", unsafe.Sizeof(lf), 448)
	check("sizeof EVENT_TRACE", unsafe.Sizeof(lf.CurrentEvent), 88)
	check("sizeof TRACE_LOGFILE_HEADER", unsafe.Sizeof(lf.LogfileHeader), 280)
	check("EVENT_TRACE_LOGFILEW.ProcessTraceMode", unsafe.Offsetof(lf.ProcessTraceMode), 28)
	check("EVENT_TRACE_LOGFILEW.LogfileHeader", unsafe.Offsetof(lf.LogfileHeader), 120)
	check("TRACE_LOGFILE_HEADER.PerfFreq", unsafe.Offsetof(lf.LogfileHeader.PerfFreq), 256)
	check("EVENT_TRACE_LOGFILEW.BufferCallback", unsafe.Offsetof(lf.BufferCallback), 400)
	check("EVENT_TRACE_LOGFILEW.EventRecordCallback", unsafe.Offsetof(lf.EventRecordCallback), 424)
	check("EVENT_TRACE_LOGFILEW.Context", unsafe.Offsetof(lf.Context), 440)
	var ep enableTraceParameters
	check("sizeof ENABLE_TRACE_PARAMETERS", unsafe.Sizeof(ep), 48)
	check("ENABLE_TRACE_PARAMETERS.EnableFilterDesc", unsafe.Offsetof(ep.EnableFilterDesc), 32)
	check("sizeof CLASSIC_EVENT_ID", unsafe.Sizeof(classicEventID{}), 24)
	check("sizeof TRACE_PROFILE_INTERVAL", unsafe.Sizeof(traceProfileInterval{}), 8)
	var sp sessionProperties
	check("names after EVENT_TRACE_PROPERTIES", unsafe.Offsetof(sp.LoggerName), 120)
}
