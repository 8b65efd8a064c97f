package replay

import (
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestFormatDocExampleIsWhatTheWriterWrites keeps the hex example in
// FORMAT.md true.
func TestFormatDocExampleIsWhatTheWriterWrites(t *testing.T) {
	doc, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	_, example, ok := strings.Cut(string(doc), "An example")
	if !ok {
		t.Fatal("FORMAT.md has no example")
	}
	_, example, _ = strings.Cut(example, "```\n")
	example, _, _ = strings.Cut(example, "```")
	var want []byte
	for _, line := range strings.Split(strings.TrimSpace(example), "\n") {
		hexPart, _, _ := strings.Cut(line[5:], "   ")
		b, err := hex.DecodeString(strings.ReplaceAll(hexPart, " ", ""))
		if err != nil {
			t.Fatalf("example line %q: %v", line, err)
		}
		want = append(want, b...)
	}

	var buf bytes.Buffer
	w, err := NewWriter(&buf, map[string]string{MetaNumCPU: "2"})
	must(t, err)
	must(t, w.DefineEvent(4, "profile:hz:99", "", nil))
	must(t, w.Sample(4, 1_000_000_000, 1, 1234, 1235, 0, []uint64{0x401000, 0x401234}, nil))
	must(t, w.Close())
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("the writer writes\n%s\nFORMAT.md shows\n%s", hex.Dump(buf.Bytes()), hex.Dump(want))
	}
}
