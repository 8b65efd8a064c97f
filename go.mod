module otrace

go 1.26.0

require (
	github.com/d5/tengo/v2 v2.17.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
