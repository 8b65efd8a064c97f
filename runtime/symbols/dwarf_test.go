package symbols

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"testing"
	"time"
)

// A unit whose last byte starts an abbreviation code that never ends (a
// LEB128 byte with its continuation bit set): dwarf.Reader.Next then
// returns a null entry without moving, on every call. FuzzELF found it
// (testdata/fuzz/FuzzELF/debug-info-ends-inside-an-abbreviation-code):
// the walk over units never ended.
func TestAUnitEndingInsideAnAbbreviationCodeDoesNotStallTheWalkOverUnits(t *testing.T) {
	data := mustRead(t, "tiny.elf")
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	info := ef.Section(".debug_info")
	last := int(info.Offset + info.Size - 1)
	if data[last] != 0 {
		t.Fatalf("tiny.elf's .debug_info ends in %#x, not the null entry closing its unit", data[last])
	}
	data[last] = 0xfd
	// Without .debug_aranges, units are found by walking them.
	name := bytes.Index(data, []byte(".debug_aranges\x00"))
	if name < 0 {
		t.Fatal("no .debug_aranges in tiny.elf's section names")
	}
	data[name+len(".debug")] = 'W'

	t.Run("the walk ends with the unit read before the stall", func(t *testing.T) {
		ef, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		secs, release, err := readDwarfSections(ef, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		done := make(chan *dwarfLines, 1)
		go func() {
			dl, err := newDwarfLinesFrom(func() (*dwarf.Data, error) { return secs.data(secs.info) }, secs)
			if err != nil {
				t.Error(err)
			}
			done <- dl
		}()
		select {
		case dl := <-done:
			if dl != nil && len(dl.units) != 1 {
				t.Errorf("%d units, want tiny.elf's one", len(dl.units))
			}
		case <-time.After(time.Second):
			t.Fatal("the walk over units did not end within a second")
		}
	})
	t.Run("resolving finishes and names the function", func(t *testing.T) {
		start := time.Now()
		_, fr := resolveBytes(data)
		if d := time.Since(start); d > time.Second {
			t.Errorf("resolving took %v", d)
		}
		if fr[len(fr)-1].Func == "" {
			t.Errorf("frames %+v", fr)
		}
	})
}
