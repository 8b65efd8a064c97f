#!/usr/bin/env bash
# count-cost.sh: what tracing costs the traced program, counting in the
# kernel (otrace.counter) against copying every event to otrace (a
# handler per event), against not tracing at all.
#
# Runs dd if=/dev/zero of=/dev/null bs=1 count=$COUNT (2 x COUNT syscalls)
# $ROUNDS times in each mode, alternating, and reports dd's median wall
# time (as dd measures itself) and the cost per syscall added by each mode.
#
# Usage: sudo bench/count-cost.sh [ROUNDS] [COUNT]    (defaults 5, 2000000)
set -euo pipefail
ROUNDS=${1:-5}
COUNT=${2:-2000000}
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "count-cost.sh: run as root" >&2; exit 2; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/otrace" ./cmd/otrace
cat >"$work/counter.tengo" <<'TENGO'
c := otrace.counter("raw_syscalls:sys_enter")
otrace.end(func() { otrace.printf("%d\n", c.value()) })
TENGO
cat >"$work/ring.tengo" <<'TENGO'
n := 0
otrace.on("raw_syscalls:sys_enter", func(e) { n += 1 })
otrace.end(func() { otrace.printf("%d\n", n) })
TENGO
DD="dd if=/dev/zero of=/dev/null bs=1 count=$COUNT"

# seconds CMD...: the time dd reports for itself ("copied, X s"), so the
# tracer's start and end do not count.
seconds() { "$@" 2>&1 >/dev/null | sed -n 's/.*copied, \([0-9.e-]*\) s.*/\1/p'; }

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "count-cost: dd bs=1 count=$COUNT ($((2 * COUNT)) syscalls), $ROUNDS rounds, $(nproc) CPUs, $(uname -r)"
for m in none counter ring; do : >"$work/$m.t"; done
for r in $(seq 1 "$ROUNDS"); do
	seconds $DD >>"$work/none.t"; echo >>"$work/none.t"
	seconds "$work/otrace" run -q "$work/counter.tengo" -- $DD >>"$work/counter.t"; echo >>"$work/counter.t"
	seconds "$work/otrace" run -q "$work/ring.tengo" -- $DD >>"$work/ring.t"; echo >>"$work/ring.t"
done
base=$(median <"$work/none.t")
printf "%-8s %10s %18s\n" mode "dd s" "added ns/syscall"
for m in none counter ring; do
	t=$(median <"$work/$m.t")
	printf "%-8s %10s %18s\n" "$m" "$t" "$(echo "$t $base $COUNT" | awk '{ printf "%.0f", ($1 - $2) * 1e9 / (2 * $3) }')"
done
