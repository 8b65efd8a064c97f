package procfs

import (
	"bytes"
	"fmt"
	"os"

	"otrace/runtime/process"
)

// mappings emits the Mmap records of a process.
func (s *scanner) mappings(pid int32) {
	path := s.root + "/" + itoa(pid) + "/maps"
	var err error
	if s.buf, err = readFile(path, s.buf, false); err != nil {
		s.fail(err)
		return
	}
	data := s.buf
	for lineNo := 1; len(data) > 0; lineNo++ {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		if !maybeExecutable(line) {
			continue
		}
		m, err := parseMapsLine(line)
		if err != nil {
			s.fail(fmt.Errorf("procfs: %s line %d: %w", path, lineNo, err))
			continue
		}
		if m.Prot&protExec == 0 || m.anonymous() {
			continue
		}
		rec := process.Mmap{
			Time: s.opts.Time, PID: pid,
			Start: m.Start, Len: m.End - m.Start, Pgoff: m.Offset,
			Prot: m.Prot, Path: m.Path,
		}
		if s.opts.BuildIDs {
			rec.BuildID = s.buildID(pid, &m)
		}
		s.visit.Mmap(rec)
		s.stats.Mappings++
	}
}

// fileKey names a mapped file across mount namespaces.
type fileKey struct {
	major, minor uint32
	inode        uint64
}

// buildID returns the build-id of the file of mapping m of process pid,
// reading it at most once per file. The file is opened through
// /proc/PID/root so that a container's files are found in its own mount
// namespace, or through /proc/PID/map_files when it was unlinked, which
// reaches the mapped file itself rather than whatever now has its name.
func (s *scanner) buildID(pid int32, m *mapsLine) []byte {
	if m.Inode == 0 || len(m.Path) == 0 || m.Path[0] != '/' {
		return nil
	}
	key := fileKey{m.Major, m.Minor, m.Inode}
	if id, ok := s.ids[key]; ok {
		return id
	}
	var path string
	if m.deleted() {
		path = fmt.Sprintf("%s/%d/map_files/%x-%x", s.root, pid, m.Start, m.End)
	} else {
		path = s.root + "/" + itoa(pid) + "/root" + m.Path
	}
	id, err := fileBuildID(path)
	if err != nil {
		if vanished(err) {
			// The process exited or the file is out of reach; another
			// process mapping it may still lead to it.
			return nil
		}
		s.fail(fmt.Errorf("procfs: build-id of %s: %w", path, err))
	}
	if s.ids == nil {
		s.ids = make(map[fileKey][]byte)
	}
	s.ids[key] = id
	if id != nil {
		s.stats.BuildIDs++
	}
	return id
}

func fileBuildID(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readBuildID(f)
}
