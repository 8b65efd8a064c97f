package etw

import (
	"encoding/binary"

	"otrace/runtime/session"
)

// Code the .NET runtime compiles at run time lives in memory no image
// load describes, so stacks through it would show bare addresses. The
// runtime says what it compiled where: its MethodLoadVerbose events as
// it compiles, and, for what it compiled before the session started, its
// rundown provider's MethodDCStartVerbose and MethodDCEndVerbose when
// that provider is enabled. The source turns each into a
// session.JITCode, which stacks resolve like perf map entries.

// The providers of the .NET runtime's events (ClrEtwAll.man).
var (
	DotNetRuntimeGUID = mustGUID("{e13c0d23-ccbc-4e12-931b-d9cc2eeb4fb4}") // Microsoft-Windows-DotNETRuntime
	DotNetRundownGUID = mustGUID("{a669021c-c450-4609-a035-5af59af4df18}") // Microsoft-Windows-DotNETRuntimeRundown
)

const (
	// Event ids: on the runtime provider, 143 is MethodLoadVerbose and
	// 144 MethodUnloadVerbose (nothing to do: a later method over the
	// same code replaces it); on the rundown provider, 143 is
	// MethodDCStartVerbose and 144 MethodDCEndVerbose, both a method
	// that exists. All four share one payload.
	dotnetMethodVerbose   = 143
	dotnetMethodDCEndVerb = 144

	// Keywords: JIT for the method events; loader for the module and
	// assembly loads that say which assembly a method's ModuleID is (a
	// script can probe them; names need only the JIT ones); and on the
	// rundown provider the same plus "enumerate what exists now" (the
	// start rundown: on enable, so it does not depend on stopping the
	// session cleanly).
	dotnetLoaderKeyword       = 0x8
	dotnetJITKeyword          = 0x10
	dotnetStartRundownKeyword = 0x40
	// dotnetLevel is TRACE_LEVEL_INFORMATION, the method events' level.
	dotnetLevel = 4
)

// MethodLoad is the payload of MethodLoadVerbose and its rundown twins.
type MethodLoad struct {
	MethodID, ModuleID uint64
	Start              uint64 // MethodStartAddress: 64 bits even in 32-bit processes
	Size               uint32
	Token, Flags       uint32
	// Namespace is the method's full type name
	// ("System.Collections.Generic.List`1[System.__Canon]").
	Namespace, Name, Signature string
	ClrInstanceID              uint16 // version 1 and later
	ReJITID                    uint64 // version 2 and later
}

// FullName is how stacks show the method: "Namespace.Name".
func (m *MethodLoad) FullName() string {
	if m.Namespace == "" {
		return m.Name
	}
	return m.Namespace + "." + m.Name
}

// ParseMethodLoadVerbose decodes the payload of a MethodLoadVerbose,
// MethodDCStartVerbose or MethodDCEndVerbose event of version v:
// MethodID, ModuleID, MethodStartAddress (u64), MethodSize, MethodToken,
// MethodFlags (u32), MethodNamespace, MethodName, MethodSignature
// (NUL-terminated UTF-16), then ClrInstanceID (u16) from version 1 and
// ReJITID (u64) from version 2. Later versions may add fields after
// those; they are ignored.
func ParseMethodLoadVerbose(b []byte, v uint8, m *MethodLoad) error {
	const fixed = 36
	if len(b) < fixed {
		return errAt("MethodLoadVerbose", len(b), "%d bytes, want at least %d", len(b), fixed)
	}
	le := binary.LittleEndian
	*m = MethodLoad{MethodID: le.Uint64(b), ModuleID: le.Uint64(b[8:]), Start: le.Uint64(b[16:]),
		Size: le.Uint32(b[24:]), Token: le.Uint32(b[28:]), Flags: le.Uint32(b[32:])}
	off := fixed
	for _, dst := range []*string{&m.Namespace, &m.Name, &m.Signature} {
		end := utf16End(b[off:])
		if end < 0 {
			return errAt("MethodLoadVerbose", off, "a method name without its terminating NUL")
		}
		*dst = string(appendUTF16(nil, b[off:off+end]))
		off += end + 2
	}
	if v >= 1 {
		if len(b) < off+2 {
			return errAt("MethodLoadVerbose", off, "version %d ends before ClrInstanceID", v)
		}
		m.ClrInstanceID = le.Uint16(b[off:])
		off += 2
	}
	if v >= 2 {
		if len(b) < off+8 {
			return errAt("MethodLoadVerbose", off, "version %d ends before ReJITID", v)
		}
		m.ReJITID = le.Uint64(b[off:])
	}
	return nil
}

// utf16End is the offset of the NUL that ends the UTF-16 string at the
// start of b, or -1.
func utf16End(b []byte) int {
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			return i
		}
	}
	return -1
}

// isMethodLoad reports whether a record announces a compiled method.
func isMethodLoad(h *Header) bool {
	switch h.Provider {
	case DotNetRuntimeGUID:
		return h.Descriptor.ID == dotnetMethodVerbose
	case DotNetRundownGUID:
		return h.Descriptor.ID == dotnetMethodVerbose || h.Descriptor.ID == dotnetMethodDCEndVerb
	}
	return false
}

// dotnetMethod queues the code a method event announces.
func (in *ingestState) dotnetMethod(r *Record, t uint64) {
	h := &r.Header
	if err := ParseMethodLoadVerbose(r.UserData, h.Descriptor.Version, &in.method); err != nil {
		in.fail(err)
		return
	}
	m := &in.method
	if m.Size == 0 || m.Name == "" {
		return // no code, or nothing to call it
	}
	s := in.s
	it := s.newItem(itemJIT, t)
	it.jit = session.JITCode{Time: t, PID: int32(h.ProcessID), Start: m.Start, Len: uint64(m.Size), Name: m.FullName()}
	s.stats.JITMethods++
	s.push(it)
}

// addDotNet enables the .NET method events in a plan whose probes want
// stacks: without them a managed frame is a bare address. It merges
// with what probes on the same providers asked for.
func addDotNet(p *Plan) {
	for _, want := range []ProviderEnable{
		{Provider: DotNetRuntimeGUID, Name: "Microsoft-Windows-DotNETRuntime", Level: dotnetLevel,
			Keywords: dotnetLoaderKeyword | dotnetJITKeyword},
		{Provider: DotNetRundownGUID, Name: "Microsoft-Windows-DotNETRuntimeRundown", Level: dotnetLevel,
			Keywords: dotnetLoaderKeyword | dotnetJITKeyword | dotnetStartRundownKeyword},
	} {
		merged := false
		for i := range p.Providers {
			e := &p.Providers[i]
			if e.Provider == want.Provider {
				e.Level = max(e.Level, want.Level)
				e.Keywords |= want.Keywords
				merged = true
			}
		}
		if !merged {
			p.Providers = append(p.Providers, want)
		}
	}
}
