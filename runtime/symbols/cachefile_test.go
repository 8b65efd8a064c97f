package symbols

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteCacheFileReplacesWholeAndSweepsStaleTemps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub")
	path := filepath.Join(dir, "entry")
	if err := writeCacheFile(path, []byte("first"), 0o700); err != nil {
		t.Fatal(err)
	}
	stale, fresh := filepath.Join(dir, ".tmp-123"), filepath.Join(dir, ".tmp-456")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTemp)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if err := writeCacheFile(path, []byte("second"), 0o700); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != "second" {
		t.Errorf("entry = %q, %v; want the second write", data, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("entry mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a temporary file two hours old was left: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a temporary file another writer may still use was removed: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 { // entry and the fresh temp
		t.Errorf("%d files left in the directory, want 2", len(ents))
	}
}
