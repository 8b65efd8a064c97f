package symbols

import (
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// Windows paths reach the symbolizer from ETW captures and recordings
// (image loads name C:\Windows\System32\ntdll.dll), whatever system
// otrace runs on. On Windows they open as they are; elsewhere only under
// Options.Symfs, where the files were copied.

// IsWindowsPath reports whether p names a file the way Windows does: a
// drive path ("C:\..." or "C:/..."), or a path rooted at a backslash
// (\\?\C:\..., \??\C:\..., \\server\share\..., \Device\HarddiskVolume3\...,
// \SystemRoot\...). Linux paths start with "/" and perf's pseudo-files
// with "[", so neither is ever taken for one.
func IsWindowsPath(p string) bool {
	if len(p) >= 3 && isDriveLetter(p[0]) && p[1] == ':' && (p[2] == '\\' || p[2] == '/') {
		return true
	}
	return len(p) >= 2 && p[0] == '\\'
}

func isDriveLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// ModuleBase is the file name of a frame's module, as stacks print it
// ("ntdll.dll" for C:\Windows\System32\ntdll.dll, "libc.so.6" for
// /usr/lib/x86_64-linux-gnu/libc.so.6); pseudo-modules ("[kernel.kallsyms]")
// stay whole.
func ModuleBase(module string) string {
	if IsWindowsPath(module) {
		return module[strings.LastIndexAny(module, `\/`)+1:]
	}
	return path.Base(module)
}

// windowsParts splits a Windows path into the names of its directories
// and file: the \\?\ and \??\ prefixes dropped, a drive letter kept as a
// directory without its colon ("C:\Windows\x.dll" -> C, Windows, x.dll).
func windowsParts(p string) []string {
	for _, prefix := range []string{`\\?\`, `\??\`} {
		if strings.HasPrefix(p, prefix) {
			p = p[len(prefix):]
			break
		}
	}
	if len(p) >= 2 && isDriveLetter(p[0]) && p[1] == ':' {
		p = p[:1] + p[2:]
	}
	return strings.FieldsFunc(p, func(r rune) bool { return r == '\\' || r == '/' })
}

// windowsCandidates lists where a Windows path may be found for reading,
// most specific first: under Symfs, the path with the drive letter as a
// directory (SYMFS/C/Windows/System32/ntdll.dll), then the file by its
// name alone (SYMFS/ntdll.dll), both matched without regard to case as
// Windows matches names; on Windows, the path itself.
//
// The answer is kept per path: a rundown maps the same DLLs into every
// process, and the case-insensitive search reads directories.
func (r *Resolver) windowsCandidates(p string) []string {
	if out, ok := r.winFiles[p]; ok {
		return out
	}
	out := r.findWindowsFile(p)
	r.winFiles[p] = out
	return out
}

func (r *Resolver) findWindowsFile(p string) []string {
	var out []string
	parts := windowsParts(p)
	if r.opts.Symfs != "" && len(parts) > 0 {
		// "." and ".." would lead out of the symfs: such a path is
		// looked for by its file name only.
		climbs := slices.ContainsFunc(parts, func(s string) bool { return s == "." || s == ".." })
		if !climbs {
			if f := findFold(r.opts.Symfs, parts); f != "" {
				out = append(out, f)
			}
		}
		if base := parts[len(parts)-1]; base != "." && base != ".." {
			if f := findFold(r.opts.Symfs, []string{base}); f != "" {
				out = append(out, f)
			}
		}
	}
	if runtime.GOOS == "windows" {
		switch {
		case strings.HasPrefix(p, `\Device\`):
			// Kernel names of volumes open through the GLOBALROOT link.
			out = append(out, `\\?\GLOBALROOT`+p)
		case strings.HasPrefix(p, `\??\`):
			out = append(out, `\\?\`+p[len(`\??\`):])
		default:
			out = append(out, p)
		}
	}
	return out
}

// findFold returns root/parts..., each part matched exactly or, failing
// that, without regard to case; "" when some part is not there.
func findFold(root string, parts []string) string {
	dir := root
	for _, part := range parts {
		next := filepath.Join(dir, part)
		if _, err := os.Stat(next); err == nil {
			dir = next
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return ""
		}
		found := ""
		for _, e := range entries {
			if strings.EqualFold(e.Name(), part) {
				found = e.Name()
				break
			}
		}
		if found == "" {
			return ""
		}
		dir = filepath.Join(dir, found)
	}
	return dir
}
