package intern

import (
	"math/rand"
	"testing"
)

func TestStringsGiveOneIDPerText(t *testing.T) {
	s := NewStrings()
	a, b := s.ID([]byte("bash")), s.IDOf("nginx")
	if a == b || a == 0 || s.ID([]byte("bash")) != a || s.IDOf("") != 0 {
		t.Fatalf("ids: bash %d nginx %d", a, b)
	}
	if str, ok := s.Str(b); !ok || str != "nginx" {
		t.Errorf("Str(%d) = %q %v", b, str, ok)
	}
	if _, ok := s.Str(99); ok {
		t.Error("Str of an unknown id must say so")
	}
	buf := []byte("bash")
	if n := testing.AllocsPerRun(100, func() { s.ID(buf) }); n != 0 {
		t.Errorf("a hit allocates %v times", n)
	}
}

func TestStacksDeduplicateBySpaceAndAddresses(t *testing.T) {
	s := NewStacks()
	user := Space{PID: 7, Exec: 1}
	a := s.Intern(user, 10, []uint64{1, 2, 3})
	if b := s.Intern(user, 20, []uint64{1, 2, 3}); b != a {
		t.Errorf("the same stack got ids %d and %d", a, b)
	}
	others := []StackID{
		s.Intern(Space{PID: 8, Exec: 1}, 0, []uint64{1, 2, 3}),
		s.Intern(Space{PID: 7, Exec: 2}, 0, []uint64{1, 2, 3}),
		s.Intern(Space{Kernel: true}, 0, []uint64{1, 2, 3}),
		s.Intern(user, 0, []uint64{1, 2}),
		s.Intern(user, 0, []uint64{3, 2, 1}),
	}
	seen := map[StackID]bool{a: true}
	for _, id := range others {
		if seen[id] {
			t.Errorf("a different stack reused id %d", id)
		}
		seen[id] = true
	}
	sp, ts, addrs := s.Stack(a)
	if sp != user || ts != 10 || len(addrs) != 3 || addrs[2] != 3 {
		t.Errorf("Stack(%d) = %v %d %v; the first-seen time must be kept", a, sp, ts, addrs)
	}
	if s.Intern(user, 0, nil) != 0 {
		t.Error("the empty stack must be id 0")
	}
}

func TestStacksSurviveHashCollisions(t *testing.T) {
	s := NewStacks()
	// Force every stack into one chain by giving them the same hash.
	const n = 50
	ids := map[StackID][]uint64{}
	for i := 0; i < n; i++ {
		addrs := []uint64{uint64(i), uint64(i * 7)}
		id := StackID(len(s.meta))
		s.meta = append(s.meta, stackMeta{space: Space{PID: 1}, off: uint32(len(s.arena)), n: 2})
		s.arena = append(s.arena, addrs...)
		s.next = append(s.next, s.first[42])
		s.first[42] = id
		ids[id] = addrs
	}
	for id, addrs := range ids {
		m := s.meta[id]
		if !equal(s.arena[m.off:m.off+m.n], addrs) {
			t.Fatalf("stack %d corrupted", id)
		}
	}
}

func TestManyRandomStacksRoundTrip(t *testing.T) {
	s := NewStacks()
	r := rand.New(rand.NewSource(1))
	want := map[StackID][]uint64{}
	for i := 0; i < 20000; i++ {
		addrs := make([]uint64, 1+r.Intn(30))
		for j := range addrs {
			addrs[j] = uint64(r.Intn(64)) << 12
		}
		id := s.Intern(Space{PID: 1}, 0, addrs)
		if old, ok := want[id]; ok && !equal(old, addrs) {
			t.Fatalf("stacks %v and %v share id %d", old, addrs, id)
		}
		want[id] = addrs
	}
	for id, addrs := range want {
		if _, _, got := s.Stack(id); !equal(got, addrs) {
			t.Fatalf("stack %d: got %v want %v", id, got, addrs)
		}
	}
}

func BenchmarkInternSeen20Frames(b *testing.B) {
	s := NewStacks()
	addrs := make([]uint64, 20)
	for i := range addrs {
		addrs[i] = 0x7f0000001000 + uint64(i)*0x123
	}
	sp := Space{PID: 1234, Exec: 1}
	s.Intern(sp, 0, addrs)
	for i := 0; i < 10000; i++ { // a table with other stacks in it
		addrs[0] = uint64(i)
		s.Intern(sp, 0, addrs)
	}
	addrs[0] = 5
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Intern(sp, 0, addrs)
	}
}
