package etw

import "testing"

// ScenarioCapture is the capture of source_test.go's scenario, for the
// script tests of package etw_test.
func ScenarioCapture(t testing.TB) []byte { return scenario(t) }

// Where ProfileCapture loads tiny.dll (runtime/symbols/testdata) and
// compiles its .NET method.
const (
	TinyBase = 0x7ff812340000
	JITBase  = 0x7ff7aa000000
)

// ProfileCapture is a capture of one CPU sample of app.exe (pid 1234)
// whose user stack runs through tiny.dll, loaded from the kernel's path
// of C:\Windows\System32\tiny.dll, and through App.Program.Main, a .NET
// method compiled before the session started (a rundown event names
// it): leaf TinyAdd+5, then a return into Main+0x11, then a return to
// tiny.dll+0x1011, an address no symbol of tiny.dll names.
func ProfileCapture(t testing.TB) []byte {
	return captureBytes(t, nil,
		kernelRec(ProcessGUID, opDCStart, 4, 1010, 0, 1234, 0, processV4Payload(1234, 4, "app.exe", "app.exe")),
		kernelRec(ThreadGUID, opDCStart, 3, 1020, 0, 1234, 5678, threadV3Payload(1234, 5678)),
		kernelRec(ImageLoadGUID, opDCStart, 3, 1030, 0, 1234, 5678,
			imageV3Payload(TinyBase, 0x5000, 1234, `\Device\HarddiskVolume3\Windows\System32\tiny.dll`)),
		providerRec(DotNetRundownGUID, dotnetMethodVerbose, 1, 1040, 0, 1234, 5678,
			methodLoadPayload(1, JITBase, 0x80, "App.Program", "Main", "void  ()")),
		kernelRec(PerfInfoGUID, opSampledProfile, 2, 2000, 1, ^uint32(0), 5678, sampledProfilePayload(TinyBase+0x1025, 5678)),
		kernelRec(StackWalkGUID, opStackWalk, 2, 2001, 1, 1234, 5678,
			stackWalkPayload(2000, 1234, 5678, kAddr1, TinyBase+0x1025, JITBase+0x11, TinyBase+0x1011)),
	)
}
