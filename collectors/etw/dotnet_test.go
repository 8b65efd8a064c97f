package etw

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"otrace/runtime/event"
	"otrace/runtime/session"
)

func TestMethodLoadVerboseDecodesEveryVersion(t *testing.T) {
	for v := uint8(0); v <= 3; v++ {
		b := methodLoadPayload(min(v, 2), 0x7ff7aa000000, 0x80, "App.Program", "Main", "void  (class System.String[])")
		if v == 3 {
			b = append(b, 1, 2, 3, 4) // a later version's field
		}
		var m MethodLoad
		if err := ParseMethodLoadVerbose(b, v, &m); err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		want := MethodLoad{MethodID: 0x7ff700001000, ModuleID: 0x7ff700002000, Start: 0x7ff7aa000000, Size: 0x80, Token: 0x06000001, Flags: 8,
			Namespace: "App.Program", Name: "Main", Signature: "void  (class System.String[])"}
		if v >= 1 {
			want.ClrInstanceID = 7
		}
		if v >= 2 {
			want.ReJITID = 3
		}
		if m != want {
			t.Errorf("version %d: %+v, want %+v", v, m, want)
		}
		if m.FullName() != "App.Program.Main" {
			t.Errorf("full name %q", m.FullName())
		}
	}
	var m MethodLoad
	if err := ParseMethodLoadVerbose(methodLoadPayload(2, 1, 1, "", "Ünïcode😀", ""), 2, &m); err != nil || m.FullName() != "Ünïcode😀" {
		t.Errorf("no namespace, non-ASCII name: %q, %v", m.FullName(), err)
	}
}

func TestMethodLoadVerboseRefusesTruncatedPayloads(t *testing.T) {
	for v := uint8(0); v <= 2; v++ {
		full := methodLoadPayload(v, 0x7ff7aa000000, 0x80, "App.Program", "Main", "void  ()")
		for n := 0; n < len(full); n++ {
			var m MethodLoad
			err := ParseMethodLoadVerbose(full[:n], v, &m)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("version %d cut to %d of %d bytes: %v, want a DecodeError", v, n, len(full), err)
			}
		}
	}
}

// dotnetCapture holds the .NET runtime's method events of one process,
// the ones that name code and the ones that must not.
func dotnetCapture(t testing.TB) []byte {
	load := methodLoadPayload(2, 0x7ff7aa000000, 0x80, "App.Program", "Main", "void  ()")
	return captureBytes(t, nil,
		providerRec(DotNetRundownGUID, dotnetMethodVerbose, 1, 1100, 0, 1234, 5678, methodLoadPayload(1, 0x7ff7aa001000, 0x40, "App.Old", "Before", "")),
		providerRec(DotNetRundownGUID, dotnetMethodDCEndVerb, 0, 1150, 0, 1234, 5678, methodLoadPayload(0, 0x7ff7aa002000, 0x20, "App.Old", "AtEnd", "")),
		providerRec(DotNetRuntimeGUID, dotnetMethodVerbose, 2, 1200, 1, 1234, 5678, load),
		providerRec(DotNetRuntimeGUID, dotnetMethodDCEndVerb, 2, 1300, 1, 1234, 5678, load), // MethodUnloadVerbose
		providerRec(DotNetRuntimeGUID, dotnetMethodVerbose, 2, 1400, 1, 1234, 5678, methodLoadPayload(2, 0x7ff7aa003000, 0, "App", "NoCode", "")),
		providerRec(DotNetRuntimeGUID, dotnetMethodVerbose, 2, 1500, 1, 1234, 5678, load[:40]),
		providerRec(DotNetRuntimeGUID, 141, 2, 1600, 1, 1234, 5678, load), // MethodLoad, without names
	)
}

func TestDotNetMethodEventsNameJITCode(t *testing.T) {
	src, err := NewCapture(bytes.NewReader(dotnetCapture(t)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sess := session.New(session.Config{Source: src})
	var got []session.JITCode
	sess.OnJIT(func(j session.JITCode) { got = append(got, j) })
	// A probe on the provider still sees its events.
	evs, err := sess.Resolve("etw:{e13c0d23-ccbc-4e12-931b-d9cc2eeb4fb4}")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	sess.Attach(evs, &event.Attachment{Probe: "dotnet", Handler: event.HandlerFunc(func(*event.Record) error { seen++; return nil })})
	if err := sess.Run(); err != nil {
		t.Fatal(err)
	}
	want := []session.JITCode{
		{Time: ns(1100), PID: 1234, Start: 0x7ff7aa001000, Len: 0x40, Name: "App.Old.Before"},
		{Time: ns(1150), PID: 1234, Start: 0x7ff7aa002000, Len: 0x20, Name: "App.Old.AtEnd"},
		{Time: ns(1200), PID: 1234, Start: 0x7ff7aa000000, Len: 0x80, Name: "App.Program.Main"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JIT code %+v, want %+v", got, want)
	}
	st := src.Stats()
	if st.JITMethods != 3 || st.Malformed != 1 || seen != 5 {
		t.Errorf("stats %+v, probe saw %d records", st, seen)
	}
}

func TestDotNetProvidersMergeWithProbesOnThem(t *testing.T) {
	p := &Plan{Providers: []ProviderEnable{{Provider: DotNetRuntimeGUID, Name: "Microsoft-Windows-DotNETRuntime", Level: 5, Keywords: 0x1, Stacks: true}}}
	addDotNet(p)
	want := []ProviderEnable{
		{Provider: DotNetRuntimeGUID, Name: "Microsoft-Windows-DotNETRuntime", Level: 5, Keywords: 0x19, Stacks: true},
		{Provider: DotNetRundownGUID, Name: "Microsoft-Windows-DotNETRuntimeRundown", Level: 4, Keywords: 0x58},
	}
	if !reflect.DeepEqual(p.Providers, want) {
		t.Errorf("providers %+v, want %+v", p.Providers, want)
	}
}
