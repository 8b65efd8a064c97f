package etw

import (
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"otrace/runtime/symbols"
)

// LiveOptions configures a live ETW source (NewLive).
type LiveOptions struct {
	Options
	// BufferKB is the size of each ETW buffer in KiB; 0 means 1024. ETW
	// keeps a few buffers per CPU.
	BufferKB uint32
	// Capture, when set, receives every raw record and the TDH schemas
	// that decoded them, for NewCapture to replay elsewhere.
	Capture io.Writer
}

// devicePaths turns kernel device paths into drive paths, given what
// QueryDosDevice says each drive is ("C:" -> \Device\HarddiskVolume3).
// \SystemRoot\ becomes root.
func devicePaths(drives map[string]string, root string) func(string) string {
	type dev struct{ device, drive string }
	var devs []dev
	for drive, device := range drives {
		devs = append(devs, dev{strings.TrimSuffix(device, `\`), drive})
	}
	// Longest device first: \Device\HarddiskVolume1 is a prefix of
	// \Device\HarddiskVolume10.
	sort.Slice(devs, func(i, j int) bool { return len(devs[i].device) > len(devs[j].device) })
	return func(p string) string {
		for _, d := range devs {
			if len(p) > len(d.device) && strings.EqualFold(p[:len(d.device)], d.device) && p[len(d.device)] == '\\' {
				return d.drive + p[len(d.device):]
			}
		}
		if root != "" && len(p) > len(`\SystemRoot\`) && strings.EqualFold(p[:len(`\SystemRoot\`)], `\SystemRoot\`) {
			return strings.TrimSuffix(root, `\`) + p[len(`\SystemRoot`):]
		}
		return p
	}
}

// imageIDs returns an Options.ImageID that reads each image's CodeView
// identity once per path (the rundown names the same DLLs for every
// process). open opens a path for reading; an image it cannot open, or
// that has no CodeView record, gets none.
func imageIDs(open func(string) (*os.File, error)) func(string) []byte {
	var mu sync.Mutex
	ids := map[string][]byte{}
	return func(path string) []byte {
		key := strings.ToLower(path) // Windows paths ignore case
		mu.Lock()
		defer mu.Unlock()
		if id, ok := ids[key]; ok {
			return id
		}
		var id []byte
		if f, err := open(path); err == nil {
			id, _, _ = symbols.ReadPEIdentity(f)
			f.Close()
		}
		ids[key] = id
		return id
	}
}
