module otrace

go 1.26.0

require (
	github.com/d5/tengo/v2 v2.17.0
	github.com/google/pprof v0.0.0-20261105003125-4bf881d7fb0b
	github.com/ianlancetaylor/demangle v0.0.0-20260724033716-83e58baca724
	github.com/peterh/liner v1.2.2
	golang.org/x/sys v0.50.0
)

require github.com/mattn/go-runewidth v0.0.3 // indirect
