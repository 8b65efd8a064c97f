module otrace

go 1.26.0

require (
	github.com/d5/tengo/v2 v2.17.0
	github.com/ianlancetaylor/demangle v0.0.0-20260724033716-83e58baca724
	golang.org/x/sys v0.50.0
)
