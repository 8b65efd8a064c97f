package tracefs

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// TargetFinder finds the file a uprobe names. A name with a "/" is a path
// and is taken as given. A bare name is looked up the way a user expects
// the dynamic linker and the shell to find it: first as a library in the
// ldconfig cache, then in the library directories, then as an executable on
// the search path. A library name matches a file called NAME, NAME.so or
// NAME.so.*, so "libc", "libc.so" and "libc.so.6" all find libc.so.6. An
// exact match wins over the others; a file that is no ELF library for this
// machine (the linker script libc.so, a 32-bit libc) is passed over; names
// that lead to one file (libssl.so -> libssl.so.3) count once; several
// files left are an error, not a guess.
type TargetFinder struct {
	// Ldconfig returns the text `ldconfig -p` prints: the dynamic
	// linker's cache of libraries. nil skips the cache.
	Ldconfig func() ([]byte, error)
	// LibDirs are searched in order when the cache has no such library.
	LibDirs []string
	// Path is the executable search path, spelled as $PATH is.
	Path string
	// Machine is the ELF machine a library must be built for, so a
	// 32-bit libc beside the 64-bit one is no candidate. EM_NONE takes
	// any.
	Machine elf.Machine
}

// SystemTargets returns the TargetFinder for this machine: the output of
// `ldconfig -p` (run once, when a bare name first needs it), the library
// directories of runtime.GOARCH, and $PATH.
func SystemTargets() *TargetFinder {
	return &TargetFinder{
		Ldconfig: sync.OnceValues(runLdconfig),
		LibDirs:  libDirs(runtime.GOARCH),
		Path:     os.Getenv("PATH"),
		Machine:  elfMachine(runtime.GOARCH),
	}
}

// libDirs lists where libraries for goarch live, most specific first:
// Debian's multiarch directories, the lib64 of Fedora and SUSE, and the
// plain lib of everyone else.
func libDirs(goarch string) []string {
	var dirs []string
	switch goarch {
	case "amd64":
		dirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"}
	case "arm64":
		dirs = []string{"/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu"}
	}
	return append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib")
}

// elfMachine is the ELF machine of goarch's binaries, EM_NONE when otrace
// does not know it.
func elfMachine(goarch string) elf.Machine {
	switch goarch {
	case "amd64":
		return elf.EM_X86_64
	case "arm64":
		return elf.EM_AARCH64
	}
	return elf.EM_NONE
}

// runLdconfig runs `ldconfig -p`. Debian keeps ldconfig in /sbin, which a
// user's PATH may lack.
func runLdconfig() ([]byte, error) {
	cmd := "/sbin/ldconfig"
	if _, err := os.Stat(cmd); err != nil {
		if cmd, err = exec.LookPath("ldconfig"); err != nil {
			return nil, errors.New("no ldconfig in /sbin or on $PATH")
		}
	}
	out, err := exec.Command(cmd, "-p").Output()
	if err != nil {
		return nil, fmt.Errorf("%s -p: %w", cmd, err)
	}
	return out, nil
}

// candidate is a file a bare name may mean.
type candidate struct {
	name string // the library's name in the cache, or the file's in a directory
	path string
}

// Find returns the path of the file name means, or an error that lists the
// candidates when it means several files, or says where it looked when it
// means none.
func (f *TargetFinder) Find(name string) (string, error) {
	if name == "" {
		return "", errors.New("uprobe: no target file given")
	}
	if strings.Contains(name, "/") {
		return name, nil
	}
	var looked, skipped []string
	if f.Ldconfig != nil {
		out, err := f.Ldconfig()
		if err != nil {
			looked = append(looked, fmt.Sprintf("the ldconfig cache (which failed: %v)", err))
		} else {
			looked = append(looked, "the ldconfig cache")
			path, skip, err := f.pick(name, cacheEntries(out, name))
			if path != "" || err != nil {
				return path, err
			}
			skipped = append(skipped, skip...)
		}
	}
	if len(f.LibDirs) > 0 {
		looked = append(looked, strings.Join(f.LibDirs, ", "))
		path, skip, err := f.pick(name, dirEntries(f.LibDirs, name))
		if path != "" || err != nil {
			return path, err
		}
		skipped = append(skipped, skip...)
	}
	if path := lookPath(name, f.Path); path != "" {
		return path, nil
	}
	return "", f.notFound(name, looked, skipped)
}

// notFound is Find's error for a name that means no file: where it
// looked, what it passed over, and what to write instead.
func (f *TargetFinder) notFound(name string, looked, skipped []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "uprobe target %q not found: ", name)
	if len(looked) > 0 {
		fmt.Fprintf(&b, "no library %s, %s.so or %s.so.* in %s; ", name, name, name, strings.Join(looked, ", nor in "))
	}
	fmt.Fprintf(&b, "no executable %s on $PATH (%s)", name, f.Path)
	if len(skipped) > 0 {
		b.WriteString("; passed over " + strings.Join(skipped, ", "))
	}
	if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
		fmt.Fprintf(&b, "; to probe the file %s in the current directory, write ./%s", name, name)
	} else {
		b.WriteString("; give the file's path")
	}
	return errors.New(b.String())
}

// pick chooses among the candidates for name: those that are regular files
// built for f.Machine, the exact matches among them when there are any,
// each file once however many names lead to it. It returns the one left,
// or "" with notes on files of another machine when none is, or an error
// listing them when several are.
func (f *TargetFinder) pick(name string, cands []candidate) (string, []string, error) {
	type usable struct {
		candidate
		fi os.FileInfo
	}
	var ok []usable
	var skipped []string
	exact := false
	for _, c := range cands {
		fi, err := os.Stat(c.path)
		if err != nil || !fi.Mode().IsRegular() {
			continue // a stale cache entry, a directory
		}
		m, isELF := machineOf(c.path)
		if !isELF {
			continue // a linker script such as libc.so
		}
		if f.Machine != elf.EM_NONE && m != f.Machine {
			skipped = append(skipped, fmt.Sprintf("%s (built for %v, not %v)", c.path, m, f.Machine))
			continue
		}
		exact = exact || c.name == name
		ok = append(ok, usable{c, fi})
	}
	var found []usable
	for _, u := range ok {
		if exact && u.name != name {
			continue
		}
		same := false
		for _, g := range found {
			same = same || os.SameFile(g.fi, u.fi)
		}
		if !same {
			found = append(found, u)
		}
	}
	switch len(found) {
	case 0:
		return "", skipped, nil
	case 1:
		return found[0].path, nil, nil
	}
	paths := make([]string, len(found))
	for i, u := range found {
		paths[i] = u.path
	}
	return "", nil, fmt.Errorf("uprobe target %q is ambiguous: it may mean %s; name one of them (such as %s) or give its path",
		name, strings.Join(paths, ", "), filepath.Base(paths[0]))
}

// libraryMatch reports whether a library file or cache entry called entry
// matches the name a user gave, and whether exactly. A name ending in .so
// matches the versions of that file too, as it does for the linker:
// "libc.so" finds libc.so.6.
func libraryMatch(entry, name string) (match, exact bool) {
	if entry == name {
		return true, true
	}
	rest, ok := strings.CutPrefix(entry, strings.TrimSuffix(name, ".so")+".so")
	return ok && (rest == "" || rest[0] == '.'), false
}

// cacheEntries returns the libraries in `ldconfig -p` output that match
// name. An entry reads
//
//	libc.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libc.so.6
//
// the header and footer lines have no "=>" and are skipped.
func cacheEntries(out []byte, name string) []candidate {
	var cands []candidate
	for _, line := range strings.Split(string(out), "\n") {
		left, path, ok := strings.Cut(line, " => ")
		if !ok {
			continue
		}
		lib, _, _ := strings.Cut(strings.TrimSpace(left), " ")
		path = strings.TrimSpace(path)
		if match, _ := libraryMatch(lib, name); match && path != "" {
			cands = append(cands, candidate{lib, path})
		}
	}
	return cands
}

// dirEntries returns the files in dirs that match name, directory by
// directory. A missing directory is skipped.
func dirEntries(dirs []string, name string) []candidate {
	var cands []candidate
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if match, _ := libraryMatch(e.Name(), name); match {
				cands = append(cands, candidate{e.Name(), filepath.Join(dir, e.Name())})
			}
		}
	}
	return cands
}

// lookPath returns the first executable regular file called name in the
// directories of path, or "". Empty and relative entries are skipped, as
// exec.LookPath refuses them: they depend on the directory otrace runs in.
func lookPath(name, path string) string {
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// machineOf reads the machine from the ELF header of the file at path.
// isELF is false for any other file.
func machineOf(path string) (m elf.Machine, isELF bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var h [20]byte // e_ident, e_type, e_machine
	if _, err := io.ReadFull(f, h[:]); err != nil || !bytes.HasPrefix(h[:], []byte(elf.ELFMAG)) {
		return 0, false
	}
	switch elf.Data(h[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		return elf.Machine(binary.LittleEndian.Uint16(h[18:])), true
	case elf.ELFDATA2MSB:
		return elf.Machine(binary.BigEndian.Uint16(h[18:])), true
	}
	return 0, false
}
