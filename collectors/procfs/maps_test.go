package procfs

import (
	"strings"
	"testing"
)

func TestParseMapsLine(t *testing.T) {
	tests := []struct {
		name      string
		line      string
		want      mapsLine
		anonymous bool
		deleted   bool
		err       string // a substring of the error, "" for none
	}{
		{
			name: "a file mapping gives range, protection, offset, device, inode and path",
			line: "7f7077d43000-7f7077e99000 r-xp 00026000 fe:00 326269                     /usr/lib/x86_64-linux-gnu/libc.so.6",
			want: mapsLine{Start: 0x7f7077d43000, End: 0x7f7077e99000, Prot: protRead | protExec, Offset: 0x26000,
				Major: 0xfe, Minor: 0, Inode: 326269, Path: "/usr/lib/x86_64-linux-gnu/libc.so.6"},
		},
		{
			name: "a path with spaces is kept whole, trailing space included",
			line: "00400000-00401000 r-xp 00000000 08:01 12  /opt/my app/bin/run me ",
			want: mapsLine{Start: 0x400000, End: 0x401000, Prot: 5, Major: 8, Minor: 1, Inode: 12, Path: "/opt/my app/bin/run me "},
		},
		{
			name: "an unlinked file keeps its (deleted) suffix",
			line: "7fe720377000-7fe72044a000 r-xp 0000a000 00:01 1024                       /memfd:sealed-91173221a7ea (deleted)",
			want: mapsLine{Start: 0x7fe720377000, End: 0x7fe72044a000, Prot: 5, Offset: 0xa000, Minor: 1, Inode: 1024,
				Path: "/memfd:sealed-91173221a7ea (deleted)"},
			deleted: true,
		},
		{
			name: "a path with an escaped newline is kept as printed",
			line: "00400000-00401000 r-xp 00000000 08:01 12 /tmp/a\\012b",
			want: mapsLine{Start: 0x400000, End: 0x401000, Prot: 5, Major: 8, Minor: 1, Inode: 12, Path: `/tmp/a\012b`},
		},
		{
			name: "the vdso is a special mapping, not anonymous",
			line: "7ffc8a1f3000-7ffc8a1f5000 r-xp 00000000 00:00 0                          [vdso]",
			want: mapsLine{Start: 0x7ffc8a1f3000, End: 0x7ffc8a1f5000, Prot: 5, Path: "[vdso]"},
		},
		{
			name: "the heap is readable and writable",
			line: "559f9bdda000-559f9bdfb000 rw-p 00000000 00:00 0                          [heap]",
			want: mapsLine{Start: 0x559f9bdda000, End: 0x559f9bdfb000, Prot: protRead | protWrite, Path: "[heap]"},
		},
		{
			name:      "anonymous memory ends after the inode and a space",
			line:      "7f7077c98000-7f7077cba000 rwxp 00000000 00:00 0 ",
			want:      mapsLine{Start: 0x7f7077c98000, End: 0x7f7077cba000, Prot: 7},
			anonymous: true,
		},
		{
			name:      "anonymous memory may end right after the inode",
			line:      "7f7077c98000-7f7077cba000 ---p 00000000 00:00 0",
			want:      mapsLine{Start: 0x7f7077c98000, End: 0x7f7077cba000},
			anonymous: true,
		},
		{
			name:      "named anonymous memory is anonymous",
			line:      "7f0000000000-7f0000001000 r-xp 00000000 00:00 0                          [anon:jit code]",
			want:      mapsLine{Start: 0x7f0000000000, End: 0x7f0000001000, Prot: 5, Path: "[anon:jit code]"},
			anonymous: true,
		},
		{
			name: "a shared mapping says so",
			line: "7f7077f00000-7f7077f07000 r--s 00000000 fe:00 325737                     /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache",
			want: mapsLine{Start: 0x7f7077f00000, End: 0x7f7077f07000, Prot: 1, Shared: true, Major: 0xfe, Inode: 325737,
				Path: "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache"},
		},
		{
			name: "vsyscall sits at the top of the address space",
			line: "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
			want: mapsLine{Start: 0xffffffffff600000, End: 0xffffffffff601000, Prot: protExec, Path: "[vsyscall]"},
		},
		{
			name: "large device numbers are read as hex",
			line: "00400000-00401000 r-xp 00000000 103:0a 7 /a",
			want: mapsLine{Start: 0x400000, End: 0x401000, Prot: 5, Major: 0x103, Minor: 0xa, Inode: 7, Path: "/a"},
		},
		{name: "an empty line is rejected", line: "", err: "no '-'"},
		{name: "a range without '-' is rejected", line: "00400000 r-xp 00000000 08:01 12 /a", err: "no '-'"},
		{name: "a bad start is rejected", line: "0040z000-00401000 r-xp 00000000 08:01 12 /a", err: "bad start"},
		{name: "an end before the start is rejected", line: "00401000-00400000 r-xp 00000000 08:01 12 /a", err: "bad end"},
		{name: "an address of 17 digits is rejected", line: "00400000-10000000000000000 r-xp 00000000 08:01 12 /a", err: "bad end"},
		{name: "short permissions are rejected", line: "00400000-00401000 r-x 00000000 08:01 12 /a", err: "bad permissions"},
		{name: "permissions out of order are rejected", line: "00400000-00401000 xr-p 00000000 08:01 12 /a", err: "bad permissions"},
		{name: "a bad sharing letter is rejected", line: "00400000-00401000 r-xq 00000000 08:01 12 /a", err: "bad permissions"},
		{name: "a missing offset is rejected", line: "00400000-00401000 r-xp", err: "bad offset"},
		{name: "a device without ':' is rejected", line: "00400000-00401000 r-xp 00000000 0801 12 /a", err: "bad device"},
		{name: "a device beyond 32 bits is rejected", line: "00400000-00401000 r-xp 00000000 100000000:01 12 /a", err: "bad device"},
		{name: "a missing inode is rejected", line: "00400000-00401000 r-xp 00000000 08:01", err: "bad inode"},
		{name: "an inode beyond 64 bits is rejected", line: "00400000-00401000 r-xp 00000000 08:01 18446744073709551616 /a", err: "bad inode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMapsLine([]byte(tt.line))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if got.anonymous() != tt.anonymous || got.deleted() != tt.deleted {
				t.Errorf("anonymous %v, deleted %v; want %v, %v", got.anonymous(), got.deleted(), tt.anonymous, tt.deleted)
			}
		})
	}
}

func TestMaybeExecutable(t *testing.T) {
	tests := []struct {
		name string
		line string
		want bool
	}{
		{"an executable mapping is parsed", "00401000-00402000 r-xp 00001000 08:01 12 /a", true},
		{"a writable data mapping is skipped", "00402000-00403000 rw-p 00002000 08:01 12 /a", false},
		{"an inaccessible guard page is skipped", "7f7077c98000-7f7077cba000 ---p 00000000 00:00 0", false},
		{"a garbled line is parsed, to be reported", "this line is garbled", true},
		{"a line without spaces is parsed, to be reported", "00401000-00402000", true},
		{"a line cut inside the permissions is parsed, to be reported", "00401000-00402000 r-", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := maybeExecutable([]byte(tt.line)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
