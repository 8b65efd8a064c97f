// Package scripts holds otrace's script tests: each NAME.tengo here runs
// through the real otrace binary over a recording, and what it prints
// (stdout, then stderr, then the exit status) must match NAME.out.
//
// A script's leading comment lines may hold directives:
//
//	// flags: --max-errors 3 -d 1s     flags given before the script
//	// args: a b                       the script's own arguments
//	// input: other.rec | none         recording in testdata/ (default sched.rec)
//
// Run `go test ./tests/scripts -update` to rewrite the .out files and the
// recordings after a deliberate change, and review the diff.
package scripts
