package perfdata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"otrace/collectors/replay"
	"otrace/runtime/process"
	"otrace/runtime/session"
)

func TestInterruptAndCloseEndReading(t *testing.T) {
	r, err := Open(filepath.Join("testdata", "sched.data"))
	if err != nil {
		t.Fatal(err)
	}
	enableAll(t, r)
	s := &recSink{}
	r.Interrupt()
	if err := r.Read(s); !errors.Is(err, session.ErrInterrupted) {
		t.Errorf("Read after Interrupt: %v, want session.ErrInterrupted", err)
	}
	if err := r.Read(s); !errors.Is(err, session.ErrInterrupted) {
		t.Errorf("second Read after Interrupt: %v, want session.ErrInterrupted", err)
	}
	if len(s.items) != 0 {
		t.Errorf("Read after Interrupt delivered %d records", len(s.items))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := r.Read(s); err == nil {
		t.Error("Read after Close succeeded")
	}
}

func TestMetaUsesReplaysKeys(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.file+" has the host, kernel, architecture and CPUs of the machine that recorded it", func(t *testing.T) {
			r, err := Open(filepath.Join("testdata", f.file))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			m := r.Meta()
			for _, k := range []string{replay.MetaHostname, replay.MetaKernelRelease, replay.MetaArch, replay.MetaNumCPU, replay.MetaCommandLine, MetaPerfVersion} {
				if m[k] == "" {
					t.Errorf("Meta()[%q] is empty", k)
				}
			}
			if m[replay.MetaArch] != "amd64" {
				t.Errorf("arch %q, want Go's name amd64 for perf's x86_64", m[replay.MetaArch])
			}
			m[replay.MetaHostname] = "changed"
			if r.Meta()[replay.MetaHostname] == "changed" {
				t.Error("Meta returned the reader's own map")
			}
		})
	}
}

// leaked-buildid.data was recorded (perf record -B -F 999 -g) while another
// process had a perf event with build_id open: the kernel then marks every
// MMAP2 record as carrying a build id, though it holds device numbers
// (perf 6.1 crashes on the file).
func TestBuildIDFlagsTheKernelLeakedAreIgnored(t *testing.T) {
	path := filepath.Join("testdata", "leaked-buildid.data")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flagged := 0
	at, end := le.Uint64(data[40:]), le.Uint64(data[40:])+le.Uint64(data[48:])
	for at < end {
		if le.Uint32(data[at:]) == recMmap2 && le.Uint16(data[at+4:])&miscMmapBuildID != 0 {
			flagged++
		}
		at += uint64(le.Uint16(data[at+6:]))
	}
	if flagged == 0 {
		t.Fatal("the fixture has no MMAP2 record with the build id flag")
	}
	r, s := readFile(t, path, Options{})
	if r.Attrs()[0].BuildID {
		t.Fatal("the fixture's event asked for build ids")
	}
	for _, it := range s.items {
		if m, ok := it.(process.Mmap); ok && m.BuildID != nil {
			t.Errorf("MMAP2 of %s has build id %x, made of its device numbers", m.Path, m.BuildID)
		}
	}
	golden(t, filepath.Join("testdata", "leaked-buildid.summary"), summary(r, s))
}

func TestMmap2BuildIDsAreTakenWhenTheEventAskedForThem(t *testing.T) {
	mmap2 := func(misc uint16, size byte) []byte {
		b := le.AppendUint32(nil, 10) // pid
		b = le.AppendUint32(b, 10)    // tid
		b = le.AppendUint64(b, 0x400000)
		b = le.AppendUint64(b, 0x1000)
		b = le.AppendUint64(b, 0)
		id := make([]byte, 24)
		id[0] = size
		for i := range 20 {
			id[4+i] = byte(0xa0 + i)
		}
		b = append(b, id...)
		b = le.AppendUint32(b, 5) // prot
		b = le.AppendUint32(b, 2) // flags
		b = append(b, "/bin/true\x00"...)
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
		return record(recMmap2, misc, append(b, trailer(1, 1, 0, 10, 10)...))
	}
	tests := []struct {
		name    string
		buildID bool
		misc    uint16
		size    byte
		want    string
	}{
		{"an event that asked gets its build id", true, miscUser | miscMmapBuildID, 20, "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"},
		{"a shorter build id is cut to its size", true, miscUser | miscMmapBuildID, 8, "a0a1a2a3a4a5a6a7"},
		{"an impossible size means none", true, miscUser | miscMmapBuildID, 254, ""},
		{"an event that did not ask gets none, flag or not", false, miscUser | miscMmapBuildID, 20, ""},
		{"a record without the flag has device numbers", true, miscUser, 20, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := synthAttr{typ: typeSoftware, config: 0, period: 999, freq: true, sampleType: synthSampleType &^ sampleRaw, ids: []uint64{1}}
			data := fileBytes([]synthAttr{a}, mmap2(tt.misc, tt.size), nil)
			if tt.buildID {
				// attr.build_id is bit 34 of the flags at byte 40 of the attr.
				attrAt := le.Uint64(data[24:])
				data[attrAt+40+4] |= 1 << 2
			}
			_, s, err := readSynth(t, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.items) != 1 {
				t.Fatalf("delivered %v", s.items)
			}
			if got := fmt.Sprintf("%x", s.items[0].(process.Mmap).BuildID); got != tt.want {
				t.Errorf("build id %q, want %q", got, tt.want)
			}
		})
	}
}
