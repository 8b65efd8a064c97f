package process

import "testing"

func TestForkedThreadsInheritTheirParentsName(t *testing.T) {
	tb := NewTable()
	tb.AddComm(Comm{Time: 1, PID: 10, TID: 10, Comm: "bash"})
	tb.AddFork(Fork{Time: 2, PID: 11, TID: 11, PPID: 10, PTID: 10})
	tb.AddFork(Fork{Time: 3, PID: 10, TID: 12, PPID: 10, PTID: 10})
	if got := tb.Comm(11, 11); got != "bash" {
		t.Errorf("forked process named %q, want bash", got)
	}
	if got := tb.Comm(10, 12); got != "bash" {
		t.Errorf("new thread named %q, want bash", got)
	}
	if p := tb.Process(11); p == nil || p.PPID != 10 || p.Start != 2 {
		t.Errorf("child process %+v", p)
	}
}

func TestExecRenamesAndRetiresMappings(t *testing.T) {
	tb := NewTable()
	tb.AddComm(Comm{Time: 1, PID: 10, TID: 10, Comm: "bash"})
	tb.AddMmap(Mmap{Time: 1, PID: 10, Start: 0x1000, Len: 0x1000, Path: "/bin/bash"})
	tb.AddFork(Fork{Time: 2, PID: 11, TID: 11, PPID: 10, PTID: 10})
	tb.AddComm(Comm{Time: 3, PID: 11, TID: 11, Comm: "ls", Exec: true})
	tb.AddMmap(Mmap{Time: 3, PID: 11, Start: 0x2000, Len: 0x1000, Path: "/bin/ls"})
	p := tb.Process(11)
	if p.Comm != "ls" || len(p.Maps) != 2 {
		t.Fatalf("after exec: %+v", p)
	}
	if p.Maps[0].Path != "/bin/bash" || p.Maps[0].Unmapped != 3 || p.Maps[1].Unmapped != 0 {
		t.Errorf("the inherited mapping must end at the exec: %+v", p.Maps)
	}
	if tb.Process(10).Maps[0].Unmapped != 0 {
		t.Error("the parent's mapping must stay valid")
	}
}

func TestExitedProcessesStayInTheModel(t *testing.T) {
	tb := NewTable()
	tb.AddComm(Comm{Time: 1, PID: 10, TID: 10, Comm: "short"})
	tb.AddExit(Exit{Time: 5, PID: 10, TID: 10})
	if tb.Comm(10, 10) != "short" || tb.Process(10).Exit != 5 || tb.Thread(10).Exit != 5 {
		t.Errorf("exited process forgotten: %+v %+v", tb.Process(10), tb.Thread(10))
	}
}

func TestUnknownThreadsHaveNoName(t *testing.T) {
	if got := NewTable().Comm(1, 2); got != "" {
		t.Errorf("Comm of an unknown thread = %q", got)
	}
}

func TestMappingAtFollowsTheProcessOverTime(t *testing.T) {
	tb := NewTable()
	tb.AddComm(Comm{Time: 1, PID: 10, TID: 10, Comm: "app"})
	tb.AddMmap(Mmap{Time: 1, PID: 10, Start: 0x1000, Len: 0x1000, Prot: 5, Path: "/bin/app"})
	tb.AddMmap(Mmap{Time: 2, PID: 10, Start: 0x8000, Len: 0x1000, Prot: 5, Path: "/lib/liba.so"})
	// dlclose then dlopen of another library at the same place.
	tb.AddMmap(Mmap{Time: 5, PID: 10, Start: 0x8000, Len: 0x1000, Prot: 5, Path: "/lib/libb.so"})
	tests := []struct {
		name string
		addr uint64
		time uint64
		want string
	}{
		{"an address of the executable", 0x1234, 3, "/bin/app"},
		{"a library address before it was replaced", 0x8010, 4, "/lib/liba.so"},
		{"the same address after", 0x8010, 6, "/lib/libb.so"},
		{"an address nothing maps", 0x5000, 6, ""},
	}
	for _, tt := range tests {
		m := tb.MappingAt(10, tt.addr, tt.time)
		got := ""
		if m != nil {
			got = m.Path
		}
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	if p := tb.Process(10); p.Exe != "/bin/app" {
		t.Errorf("Exe = %q", p.Exe)
	}
	tb.AddComm(Comm{Time: 7, PID: 10, TID: 10, Comm: "other", Exec: true})
	if p := tb.Process(10); p.Execs != 1 || p.Exe != "" || tb.MappingAt(10, 0x1234, 8) != nil {
		t.Errorf("after exec: execs %d exe %q", p.Execs, p.Exe)
	}
	if m := tb.MappingAt(10, 0x1234, 3); m == nil || m.Path != "/bin/app" {
		t.Error("a sample from before the exec must still find the old image")
	}
}
