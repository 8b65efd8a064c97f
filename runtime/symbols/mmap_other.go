//go:build !unix

package symbols

import "os"

// mapFile reads the file at path (no mapping here).
func mapFile(path string) ([]byte, func(), error) {
	data, err := os.ReadFile(path)
	return data, func() {}, err
}
