package tracefs

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenWithARoot(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(root string)
		wantErr string
	}{
		{"a root with an events directory opens",
			func(root string) { addFakeEvent(t, root, "sched:sched_switch", 1) }, ""},
		{"an empty root is refused, naming it",
			func(root string) {}, "is not a tracefs"},
		{"a root whose events is a file is refused",
			func(root string) { writeFile(t, filepath.Join(root, "events"), "") }, "events is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			tt.setup(root)
			var notices []string
			fs, err := Open(Options{Root: root, Notice: func(s string) { notices = append(notices, s) }})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if fs.Root() != root {
					t.Errorf("Root() = %q, want %q", fs.Root(), root)
				}
				if len(notices) != 0 {
					t.Errorf("notices for a given root: %q", notices)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), root) {
				t.Fatalf("err = %v, want one naming %s and saying %q", err, root, tt.wantErr)
			}
		})
	}
}
