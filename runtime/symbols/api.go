package symbols

// This file is the contract between the symbolizer and its callers (the
// bindings that print stacks, the exporters). Implementation lives in the
// other files of the package.

// Frame is one resolved code address. A single address may resolve to
// several frames when functions were inlined into it: innermost first,
// each but the last marked Inlined.
type Frame struct {
	Addr   uint64
	Func   string // demangled function name; "" when unknown
	Offset uint64 // Addr minus the function's start; 0 when unknown
	// Module is the file the address belongs to, as perf names it: the
	// path of the ELF or PE file, "[kernel.kallsyms]", "[MODNAME]" for a
	// kernel module, "[vdso]", "[jit]" (a perf map or a runtime's
	// announced functions), or "[unknown]".
	Module string
	// ModOffset is Addr's offset from the start of its module's image,
	// for modules mapped as one image (PE files: ETW reports where each
	// image was loaded); 0 otherwise. An ELF file is mapped a segment at
	// a time, and its addresses print absolute, as perf prints them.
	ModOffset uint64
	File      string // source file, when debug info tells
	Line      int
	Inlined   bool
}

// Name is how a frame prints in a stack: "func+0x1f" or, unknown,
// "0x7f12345678", or "ntdll.dll+0x1234" inside a PE image (an offset
// in the module can be looked up with the module's PDB; the absolute
// address, different at each load, cannot).
func (f Frame) Name() string { return string(f.AppendName(nil)) }

// AppendName appends the frame's Name to b.
func (f Frame) AppendName(b []byte) []byte {
	if f.Func == "" {
		if f.ModOffset != 0 && f.Module != "" {
			return appendHex(append(append(b, ModuleBase(f.Module)...), '+'), f.ModOffset)
		}
		return appendHex(b, f.Addr)
	}
	b = append(b, f.Func...)
	if f.Offset == 0 {
		return b
	}
	return appendHex(append(b, '+'), f.Offset)
}

func hex(v uint64) string { return string(appendHex(nil, v)) }

// appendHex appends "0x" and v in lower-case hex digits.
func appendHex(b []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	var d [16]byte
	i := len(d)
	for {
		i--
		d[i] = digits[v&15]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return append(append(b, "0x"...), d[i:]...)
}

// Object identifies the file behind a user-space mapping, as recorded when
// it was mapped: enough to find the same bytes later, even after the
// process exited or the file was replaced.
type Object struct {
	PID     int32  // a process that mapped it (for /proc/PID/root and map_files)
	Path    string // as the process saw it
	BuildID []byte // from MMAP2 or the file's note; may be empty
	Start   uint64 // mapping start address
	Pgoff   uint64 // file offset of Start
}
