package event

import (
	"slices"
	"testing"
)

func TestSplitCallchain(t *testing.T) {
	k1, k2 := uint64(0xffffffff81000010), uint64(0xffffffff81000020)
	u1, u2 := uint64(0x401000), uint64(0x7f0000001000)
	const guest = ^uint64(0) - 2048 + 1
	tests := []struct {
		name         string
		chain        []uint64
		kernel, user []uint64
	}{
		{"an empty chain has no parts", nil, nil, nil},
		{"kernel then user split at the markers", []uint64{ContextKernel, k1, k2, ContextUser, u1, u2}, []uint64{k1, k2}, []uint64{u1, u2}},
		{"a user-only chain has no kernel part", []uint64{ContextUser, u1}, nil, []uint64{u1}},
		{"a kernel-only chain has no user part", []uint64{ContextKernel, k1}, []uint64{k1}, nil},
		{"a guest part is dropped", []uint64{ContextKernel, k1, guest, 5, ContextUser, u1}, []uint64{k1}, []uint64{u1}},
		{"a chain without markers splits by address", []uint64{k1, k2, u1}, []uint64{k1, k2}, []uint64{u1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, u := SplitCallchain(tt.chain)
			if !slices.Equal(k, tt.kernel) || !slices.Equal(u, tt.user) {
				t.Errorf("got kernel %x user %x", k, u)
			}
		})
	}
	chain := []uint64{ContextKernel, k1, ContextUser, u1}
	if n := testing.AllocsPerRun(100, func() { SplitCallchain(chain) }); n != 0 {
		t.Errorf("SplitCallchain allocates %v times", n)
	}
}

func TestParseStackMode(t *testing.T) {
	for s, want := range map[string]StackMode{"kernel": KernelStack, "user": UserStack, "both": BothStacks, "none": NoStack} {
		if m, ok := ParseStackMode(s); !ok || m != want || (s != "none" && m.String() != s) {
			t.Errorf("ParseStackMode(%q) = %v %v", s, m, ok)
		}
	}
	if _, ok := ParseStackMode("all"); ok {
		t.Error("an unknown mode must be refused")
	}
}
