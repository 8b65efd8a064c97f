#!/usr/bin/env bash
# storm.sh: a tracepoint storm, otrace against perf and bpftrace, side by side.
#
# Traces raw_syscalls:sys_enter system-wide while
#   dd if=/dev/zero of=/dev/null bs=1 count=$COUNT
# makes 2 x COUNT syscalls, with each tool in turn, alternating, $ROUNDS
# rounds:
#   otrace       a counting script (a Tengo handler per event)
#   perf         perf record -e raw_syscalls:sys_enter -a (writes perf.data)
#   perf-script  perf record -o - | perf script > /dev/null (every event
#                decoded to text, perf's scripting path)
#   bpftrace     tracepoint:raw_syscalls:sys_enter { @ = count(); } (counts
#                in the kernel; nothing is copied out)
# and, named in TOOLS only:
#   syscount     the toolbox's syscount (raw_syscalls:sys_exit counted by
#                syscall and by process in Go, failures again by errno)
#   bpftrace-by  the same in bpftrace: @[args->id] = count(); @p[pid] =
#                count() on raw_syscalls:sys_exit
# For each run: the events the tool saw, events lost, the tracer's own CPU
# time (user+sys of its processes, not dd's), CPU per event it saw and per
# dd syscall, and dd's own elapsed time (what tracing cost the program).
# Prints medians and ratios against the first tool (otrace).
#
# Usage: sudo bench/storm.sh [ROUNDS] [COUNT]    (defaults 5, 2000000)
#        TOOLS="syscount perf bpftrace-by" sudo bench/storm.sh   (any subset)
# Needs: root, Go, perf (apt-get install linux-perf); bpftrace optional
# (apt-get install bpftrace).
set -euo pipefail
ROUNDS=${1:-5}
COUNT=${2:-2000000}
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then echo "storm.sh: run as root" >&2; exit 2; fi
PERF=$(command -v perf || true)
if [ -z "$PERF" ]; then echo "storm.sh: perf not found; on Debian: apt-get install linux-perf" >&2; exit 2; fi
BPFTRACE=$(command -v bpftrace || true)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/otrace" ./cmd/otrace
cat > "$work/count.tengo" <<'TENGO'
n := 0
otrace.on("raw_syscalls:sys_enter", func(e) { n += 1 })
otrace.end(func() { otrace.printf("counted %d\n", n) })
TENGO

# ticks PID...: user+sys clock ticks of processes, from /proc/PID/stat.
ticks() { for p in "$@"; do awk '{ split($0, a, ") "); split(a[2], f, " "); print f[12] + f[13] }' "/proc/$p/stat" 2>/dev/null || echo 0; done | awk '{ s += $1 } END { print s }'; }
TICK=$(getconf CLK_TCK)
WORK=$((2 * COUNT))

# run_one TOOL: starts the tracer, runs dd, stops the tracer with SIGINT;
# prints "events lost cpu_seconds dd_seconds".
run_one() {
	local tool=$1 pids out="$work/$1.out" err="$work/$1.err"
	case $tool in
	otrace) "$work/otrace" run "$work/count.tengo" >"$out" 2>"$err" & pids=$! ;;
	perf) "$PERF" record -q -e raw_syscalls:sys_enter -a -o "$work/perf.data" >"$out" 2>"$err" & pids=$! ;;
	perf-script)
		mkfifo "$work/pipe"
		"$PERF" record -q -e raw_syscalls:sys_enter -a -o - >"$work/pipe" 2>"$err" &
		pids=$!
		"$PERF" script -i - <"$work/pipe" 2>/dev/null > >(wc -l >"$out") &
		pids="$pids $!"
		;;
	bpftrace) "$BPFTRACE" -e 'tracepoint:raw_syscalls:sys_enter { @ = count(); }' >"$out" 2>"$err" & pids=$! ;;
	syscount) "$work/otrace" run syscount -t 3 >"$out" 2>"$err" & pids=$! ;;
	bpftrace-by)
		"$BPFTRACE" -e 'tracepoint:raw_syscalls:sys_exit { @[args->id] = count(); @p[pid] = count(); }' >"$out" 2>"$err" &
		pids=$!
		;;
	esac
	sleep 2 # every tool is tracing by then (bpftrace compiles first)
	local t0 dd
	t0=$(ticks $pids)
	dd=$(dd if=/dev/zero of=/dev/null bs=1 count="$COUNT" 2>&1 | sed -n 's/.*copied, \([0-9.e-]*\) s.*/\1/p')
	sleep 0.3
	local t1
	t1=$(ticks $pids)
	kill -INT ${pids%% *} 2>/dev/null || true
	wait 2>/dev/null || true
	sleep 0.2 # the line count of perf script's output lands
	rm -f "$work/pipe"
	local events=0 lost=0
	case $tool in
	otrace | syscount)
		events=$(sed -n 's/^otrace: \([0-9,]*\) events\{0,1\}, \([0-9,]*\) lost.*/\1/p' "$err" | tr -d ,)
		lost=$(sed -n 's/^otrace: \([0-9,]*\) events\{0,1\}, \([0-9,]*\) lost.*/\2/p' "$err" | tr -d ,)
		;;
	perf)
		events=$("$PERF" report -i "$work/perf.data" --stats 2>/dev/null | awk '/SAMPLE events:/ { print $3; exit }')
		lost=$("$PERF" report -i "$work/perf.data" --stats 2>/dev/null | awk '/LOST events:/ { print $3; exit }')
		;;
	perf-script) events=$(cat "$out") ;;
	bpftrace) events=$(sed -n 's/^@: \([0-9]*\)/\1/p' "$out") ;;
	bpftrace-by) events=$(sed -n 's/^@\[[0-9]*\]: \([0-9]*\)/\1/p' "$out" | awk '{ s += $1 } END { print s + 0 }') ;;
	esac
	echo "${events:-0} ${lost:-0} $(echo "$t0 $t1 $TICK" | awk '{ printf "%.3f", ($2 - $1) / $3 }') ${dd:-0}"
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

tools="otrace perf perf-script"
[ -n "$BPFTRACE" ] && tools="$tools bpftrace"
tools=${TOOLS:-$tools}
case " $tools " in *" bpftrace"*) [ -n "$BPFTRACE" ] || { echo "storm.sh: bpftrace not found; on Debian: apt-get install bpftrace" >&2; exit 2; } ;; esac
first=${tools%% *}
echo "storm: raw_syscalls:sys_enter, dd bs=1 count=$COUNT ($WORK syscalls), $ROUNDS rounds, $(nproc) CPUs, $(uname -r)"
printf "%-12s %5s %12s %8s %8s %10s %11s %8s\n" tool round events lost cpu_s ns/event ns/dd-call dd_s
for r in $(seq 1 "$ROUNDS"); do
	for tool in $tools; do
		read -r events lost cpu dd < <(run_one "$tool")
		ns=$(echo "$cpu $events" | awk '{ if ($2 > 0) printf "%.0f", $1 * 1e9 / $2; else print 0 }')
		wns=$(echo "$cpu $WORK" | awk '{ printf "%.0f", $1 * 1e9 / $2 }')
		printf "%-12s %5d %12d %8d %8.3f %10s %11s %8s\n" "$tool" "$r" "$events" "$lost" "$cpu" "$ns" "$wns" "$dd"
		echo "$ns" >>"$work/$tool.ns"
		echo "$wns" >>"$work/$tool.wns"
		echo "$lost" >>"$work/$tool.lost"
		echo "$dd" >>"$work/$tool.dd"
	done
done
echo
printf "%-12s %12s %14s %10s %8s\n" "medians" "ns/event" "ns/dd-call" "lost" "dd_s"
for tool in $tools; do
	printf "%-12s %12s %14s %10s %8s\n" "$tool" "$(median <"$work/$tool.ns")" "$(median <"$work/$tool.wns")" "$(median <"$work/$tool.lost")" "$(median <"$work/$tool.dd")"
done
o=$(median <"$work/$first.wns")
for tool in $tools; do
	[ "$tool" = "$first" ] && continue
	p=$(median <"$work/$tool.wns")
	echo "$first / $tool CPU per dd syscall: $(echo "$o $p" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "n/a" }')"
done
