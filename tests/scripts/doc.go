// Package scripts holds otrace's script tests: each NAME.tengo here runs
// through the real otrace binary over a recording, and what it prints
// (stdout, then stderr, then the exit status) must match NAME.out.
//
// Directives in a script's leading comments say how it runs (see package
// otrace/tests/scripttest, which `otrace test` shares).
//
// Run `go test ./tests/scripts -update` to rewrite the .out files and the
// recordings after a deliberate change, and review the diff.
package scripts
