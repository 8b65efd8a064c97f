#!/usr/bin/env bash
# dwarf.sh: DWARF stack unwinding, otrace against perf, side by side.
#
# Two workloads built with -O2 -fomit-frame-pointer keep both CPUs busy
# (tests/live/testdata/dwarfchain.c: a qsort with a callback, a 6-deep
# call chain). Each tool profiles them at 999 Hz for DUR seconds with 16 KiB
# user stack copies, unwinds every sample and prints the top functions:
#   otrace   otrace run: profile:hz:999 {stack: "dwarf"}, a count by
#            e.stack, every distinct stack printed at the end with its
#            frames named (unwinding, interning and symbols included)
#   perf     perf record --call-graph dwarf,16384 (writes perf.data), then
#            perf report --stdio (unwinds with libdw/libunwind and sorts)
# For each run: samples, samples lost, the tool's CPU time (user+sys; for
# perf, record and report added up) and CPU per sample, end to end. Each
# tool also runs at 2999 Hz for as long: the extra CPU over the extra
# samples is the marginal cost of a sample, without the costs that go with
# time or happen once (waking up, kallsyms, symbol and line tables).
# Prints medians and the ratios against otrace.
#
# Usage: sudo bench/dwarf.sh [ROUNDS] [DUR]    (defaults 3, 8)
# Needs: root, Go, gcc, perf (apt-get install linux-perf).
set -euo pipefail
ROUNDS=${1:-3}
DUR=${2:-8}
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then echo "dwarf.sh: run as root" >&2; exit 2; fi
PERF=$(command -v perf || true)
if [ -z "$PERF" ]; then echo "dwarf.sh: perf not found; on Debian: apt-get install linux-perf" >&2; exit 2; fi

work=$(mktemp -d)
pids=""
cleanup() { [ -n "$pids" ] && kill $pids 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/otrace" ./cmd/otrace
gcc -O2 -fomit-frame-pointer -o "$work/dwarfchain" tests/live/testdata/dwarfchain.c
cat > "$work/top.tengo" <<'TENGO'
n := 0
stacks := otrace.count()
otrace.on("profile:hz:" + otrace.args[0], {stack: "dwarf"}, func(e) {
	if e.comm != "dwarfchain" { return }
	n++
	stacks.inc(e.stack)
})
otrace.end(func() {
	otrace.printf("samples %d\n", n)
	stacks.print() // every distinct stack, its frames named, as perf report does
})
TENGO

"$work/dwarfchain" qsort 100000 >/dev/null & pids="$!"
"$work/dwarfchain" chain 100000 >/dev/null & pids="$pids $!"
plist=$(echo $pids | tr ' ' ,)
sleep 0.5

# cpu FILE: user+sys seconds from a "%3U %3S" line of bash's time (ms
# resolution: /usr/bin/time's 10 ms were a tenth of otrace's 8 s run).
TIMEFORMAT='%3U %3S'
cpu() { awk 'END { print $1 + $2 }' "$1"; }

run_one() {
	local tool=$1
	case $tool in
	otrace)
		{ time "$work/otrace" run -d "${DUR}s" -p "$plist" "$work/top.tengo" "$HZ" >"$work/out" 2>"$work/err"; } 2>"$work/time"
		local n lost
		n=$(awk '/^samples/ { print $2 }' "$work/out")
		lost=$(sed -n 's/^otrace: [0-9,]* events\{0,1\}, \([0-9,]*\) lost.*/\1/p' "$work/err" | tr -d ,)
		echo "$n ${lost:-?} $(cpu "$work/time")"
		;;
	perf)
		{ time "$PERF" record -q -N -B --call-graph dwarf,16384 -F "$HZ" -p "$plist" -o "$work/perf.data" -- sleep "$DUR" 2>"$work/err" >/dev/null; } 2>"$work/time1"
		if ! { time "$PERF" report -i "$work/perf.data" --stdio --no-children >/dev/null 2>"$work/err2"; } 2>"$work/time2"; then
			echo "dwarf.sh: perf report failed (perf 6.1 crashes on MMAP2 records while another process holds a perf event with build_id open, such as a running otrace):" >&2
			tail -3 "$work/err2" >&2
			echo "0 ? 0"
			return
		fi
		local n lost
		n=$("$PERF" report -i "$work/perf.data" --stats 2>/dev/null | awk '/SAMPLE events:/ { print $3; exit }')
		lost=$("$PERF" report -i "$work/perf.data" --stats 2>/dev/null | awk '/LOST events:/ { print $3; exit }')
		echo "$n ${lost:-0} $(awk -v a="$(cpu "$work/time1")" -v b="$(cpu "$work/time2")" 'BEGIN { print a + b }')"
		;;
	esac
}

printf "%-7s %5s %5s %9s %6s %9s %12s\n" tool round hz samples lost cpu_s us/sample
for round in $(seq 1 "$ROUNDS"); do
	for tool in otrace perf; do
		r1=$(HZ=999 run_one "$tool")
		r3=$(HZ=2999 run_one "$tool")
		for r in "999 $r1" "2999 $r3"; do
			read -r hz n lost secs <<<"$r"
			per=$(awk -v s="$secs" -v n="$n" 'BEGIN { if (n > 0) printf "%.1f", s * 1e6 / n; else print "-" }')
			printf "%-7s %5d %5s %9s %6s %9s %12s\n" "$tool" "$round" "$hz" "$n" "$lost" "$secs" "$per"
		done
		read -r n1 _ c1 <<<"$r1"
		read -r n3 _ c3 <<<"$r3"
		awk -v t="$tool" -v n1="$n1" -v n3="$n3" -v c1="$c1" -v c3="$c3" 'BEGIN {
			if (n1 > 0 && n3 > n1) printf "%s %.1f %.1f\n", t, c1 * 1e6 / n1, (c3 - c1) * 1e6 / (n3 - n1) }' >>"$work/results"
	done
done
median() { awk -v c="$2" -v t="$1" '$1 == t { print $c }' "$work/results" | sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
awk -v ot="$(median otrace 2)" -v pt="$(median perf 2)" -v om="$(median otrace 3)" -v pm="$(median perf 3)" 'BEGIN {
	printf "median CPU per sample at 999 Hz, end to end: otrace %.1f us, perf %.1f us (perf / otrace: %.1fx)\n", ot, pt, (ot > 0 ? pt / ot : 0)
	printf "median marginal CPU per sample:               otrace %.1f us, perf %.1f us (perf / otrace: %.1fx)\n", om, pm, (om > 0 ? pm / om : 0)
}'
