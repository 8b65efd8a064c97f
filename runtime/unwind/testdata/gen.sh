#!/bin/sh
# Regenerates the CFI fixtures of runtime/unwind (go test -update then
# rewrites the golden rule dumps). Needs gcc on x86-64 and binutils for
# aarch64 (apt-get install binutils-aarch64-linux-gnu).
set -eu
cd "$(dirname "$0")"
# .eh_frame with .eh_frame_hdr, a PLT and a hand-written signal frame.
gcc -O2 -fomit-frame-pointer -o snap snap.c
# The same code with its CFI in .debug_frame (the C runtime keeps .eh_frame).
gcc -O2 -fomit-frame-pointer -g1 -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-exceptions \
	-Wl,--no-eh-frame-hdr -o snap-debugframe snap.c
strip --keep-section=.debug_frame -g snap-debugframe 2>/dev/null || true
# A snapshot of snap's leaf: registers, stack copy and mappings.
# A clean environment: the copy reaches the top of the stack, where the
# environment strings are.
env -i ./snap > snap.state
# arm64: hand-written functions with pointer authentication.
aarch64-linux-gnu-as -o arm64.o arm64.s
aarch64-linux-gnu-ld --eh-frame-hdr -e main -o arm64 arm64.o
rm -f arm64.o
