#!/usr/bin/env bash
# storm.sh: a tracepoint storm, otrace against perf, side by side.
#
# Traces raw_syscalls:sys_enter system-wide while
#   dd if=/dev/zero of=/dev/null bs=1 count=$COUNT
# makes 2 x COUNT syscalls, with
#   - otrace running a counting script (a Tengo handler per event), and
#   - perf record -e raw_syscalls:sys_enter -a (writing perf.data),
# alternating A/B for $ROUNDS rounds. For each run it reports the events
# each tool saw, the events lost, and the tool's own CPU time (user+sys of
# the tracer process, not of dd) per event it saw and per event of the
# workload (dd's 2 x COUNT syscalls). perf sees more events than the
# workload makes: it traces its own write()s into perf.data. Prints the
# medians and the ratios otrace/perf.
#
# Usage: sudo bench/storm.sh [ROUNDS] [COUNT]    (defaults 5, 2000000)
# Needs: root, Go, and perf (Debian: apt-get install linux-perf).
set -euo pipefail
ROUNDS=${1:-5}
COUNT=${2:-2000000}
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then echo "storm.sh: run as root" >&2; exit 2; fi
PERF=$(command -v perf || true)
if [ -z "$PERF" ]; then echo "storm.sh: perf not found; on Debian: apt-get install linux-perf" >&2; exit 2; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/otrace" ./cmd/otrace
cat > "$work/count.tengo" <<'TENGO'
n := 0
otrace.on("raw_syscalls:sys_enter", func(e) { n += 1 })
otrace.end(func() { otrace.printf("counted %d\n", n) })
TENGO

# cpu_of PID: user+sys clock ticks of a process, from /proc/PID/stat.
cpu_of() { awk '{ split($0, a, ") "); split(a[2], f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# run_one TOOL: starts the tracer, runs dd, stops the tracer with SIGINT;
# prints "events lost cpu_seconds".
run_one() {
	local tool=$1 pid out="$work/$1.out" err="$work/$1.err"
	case $tool in
	otrace) "$work/otrace" run "$work/count.tengo" >"$out" 2>"$err" & pid=$! ;;
	perf) "$PERF" record -q -e raw_syscalls:sys_enter -a -o "$work/perf.data" >"$out" 2>"$err" & pid=$! ;;
	esac
	sleep 1.5 # both tools are tracing by then
	dd if=/dev/zero of=/dev/null bs=1 count="$COUNT" 2>/dev/null
	sleep 0.2
	local ticks
	ticks=$(cpu_of "$pid")
	kill -INT "$pid"
	wait "$pid" || true
	local events lost
	case $tool in
	otrace)
		events=$(sed -n 's/^otrace: \([0-9,]*\) events\{0,1\}, \([0-9,]*\) lost.*/\1/p' "$err" | tr -d ,)
		lost=$(sed -n 's/^otrace: \([0-9,]*\) events\{0,1\}, \([0-9,]*\) lost.*/\2/p' "$err" | tr -d ,)
		;;
	perf)
		events=$("$PERF" report -i "$work/perf.data" --stats 2>/dev/null | awk '/SAMPLE events:/ { print $3; exit }')
		lost=$("$PERF" report -i "$work/perf.data" --stats 2>/dev/null | awk '/LOST events:/ { print $3; exit }')
		;;
	esac
	echo "${events:-0} ${lost:-0} $(echo "$ticks $TICK" | awk '{ printf "%.3f", $1 / $2 }')"
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "storm: raw_syscalls:sys_enter, dd bs=1 count=$COUNT, $ROUNDS rounds, $(nproc) CPUs, $(uname -r)"
WORK=$((2 * COUNT))
printf "%-7s %5s %12s %8s %8s %10s %12s\n" tool round events lost cpu_s ns/event ns/dd-call
for f in otrace.ns perf.ns otrace.wns perf.wns otrace.lost perf.lost; do : >"$work/$f"; done
for r in $(seq 1 "$ROUNDS"); do
	for tool in otrace perf; do
		read -r events lost cpu < <(run_one "$tool")
		ns=$(echo "$cpu $events" | awk '{ if ($2 > 0) printf "%.0f", $1 * 1e9 / $2; else print 0 }')
		wns=$(echo "$cpu $WORK" | awk '{ printf "%.0f", $1 * 1e9 / $2 }')
		printf "%-7s %5d %12d %8d %8.3f %10s %12s\n" "$tool" "$r" "$events" "$lost" "$cpu" "$ns" "$wns"
		echo "$ns" >>"$work/$tool.ns"
		echo "$wns" >>"$work/$tool.wns"
		echo "$lost" >>"$work/$tool.lost"
	done
done
o=$(median <"$work/otrace.ns"); p=$(median <"$work/perf.ns")
echo "median CPU per event seen: otrace ${o} ns, perf record ${p} ns, ratio otrace/perf $(echo "$o $p" | awk '{ printf "%.2f", $1 / $2 }')"
o=$(median <"$work/otrace.wns"); p=$(median <"$work/perf.wns")
echo "median CPU per dd syscall: otrace ${o} ns, perf record ${p} ns, ratio otrace/perf $(echo "$o $p" | awk '{ printf "%.2f", $1 / $2 }')"
echo "median lost: otrace $(median <"$work/otrace.lost"), perf $(median <"$work/perf.lost")"
