package intern

import "testing"

func TestCopiesShareEqualValuesUpToTheirBound(t *testing.T) {
	c := NewCopies(2)
	buf := []byte("bash")
	a := c.String(buf)
	copy(buf, "zzzz") // the read buffer is reused
	if a != "bash" {
		t.Fatalf("the copy changed with the buffer: %q", a)
	}
	if b := c.String([]byte("bash")); b != a {
		t.Fatalf("got %q", b)
	}
	if n := testing.AllocsPerRun(100, func() { c.String([]byte("bash")) }); n != 0 {
		t.Errorf("a value seen before allocates %v times", n)
	}
	c.String([]byte("ls"))
	c.String([]byte("cat")) // past the bound: copied, not kept
	if len(c.strs) != 2 {
		t.Errorf("%d strings kept, want the bound, 2", len(c.strs))
	}
	if c.String([]byte("cat")) != "cat" {
		t.Error("a value past the bound reads wrong")
	}

	id := []byte{1, 2, 3}
	x := c.Bytes(id)
	id[0] = 9
	if x[0] != 1 {
		t.Fatal("the byte copy changed with the buffer")
	}
	if y := c.Bytes([]byte{1, 2, 3}); &y[0] != &x[0] {
		t.Error("equal bytes gave a second copy")
	}
	if c.Bytes(nil) != nil || c.Bytes([]byte{}) != nil {
		t.Error("empty bytes must be nil")
	}
}
