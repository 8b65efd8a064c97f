package tracefs

import (
	"strings"
	"testing"
)

func TestProbeCommand(t *testing.T) {
	tests := []struct {
		name, goarch string
		ret          bool
		want         string
		wantErr      string
	}{
		{"an amd64 entry fetches the SysV argument registers", "amd64", false,
			"p:otrace_1/target /bin/x:0x1139 arg0=%di:u64 arg1=%si:u64 arg2=%dx:u64 arg3=%cx:u64 arg4=%r8:u64 arg5=%r9:u64", ""},
		{"an arm64 entry fetches x0 to x5", "arm64", false,
			"p:otrace_1/target /bin/x:0x1139 arg0=%x0:u64 arg1=%x1:u64 arg2=%x2:u64 arg3=%x3:u64 arg4=%x4:u64 arg5=%x5:u64", ""},
		{"an amd64 return fetches the return value", "amd64", true,
			"r:otrace_1/target /bin/x:0x1139 retval=$retval:u64", ""},
		{"an arm64 return fetches it the same way", "arm64", true,
			"r:otrace_1/target /bin/x:0x1139 retval=$retval:u64", ""},
		{"a return needs no registers, so any architecture has it", "riscv64", true,
			"r:otrace_1/target /bin/x:0x1139 retval=$retval:u64", ""},
		{"an entry on an unknown architecture is refused, naming it", "riscv64", false,
			"", "not on riscv64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &UprobeEvent{Uprobe: Uprobe{Return: tt.ret}, ResolvedPath: "/bin/x", System: "otrace_1", Name: "target", FileOffset: 0x1139}
			got, err := probeCommand(e, tt.goarch)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("probeCommand on %s = %q, %v; want an error saying %q", tt.goarch, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("probeCommand on %s = %q, %v\nwant %q", tt.goarch, got, err, tt.want)
			}
		})
	}
}

func TestArgField(t *testing.T) {
	if got := ArgField(0); got != "arg0" {
		t.Errorf("ArgField(0) = %q", got)
	}
	if got := ArgField(5); got != "arg5" {
		t.Errorf("ArgField(5) = %q", got)
	}
}
