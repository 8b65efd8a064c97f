#!/usr/bin/env bash
# startup.sh: start-up latency to the first event, and time to exit after
# Ctrl-C, otrace against perf record and bpftrace, side by side.
#
# A marker program calls getppid() every ~0.1 ms. Each tool in turn,
# alternating, $ROUNDS rounds, is launched to trace
# syscalls:sys_enter_getppid of the marker:
#   otrace    otrace run -p MARKER: a handler keeps the first e.time
#   perf      perf record -k CLOCK_MONOTONIC -e syscalls:sys_enter_getppid
#             -p MARKER; the first sample's time read back with perf script
#   bpftrace  tracepoint:syscalls:sys_enter_getppid /pid == MARKER/,
#             printing nsecs once
# All three stamp events with CLOCK_MONOTONIC (otrace's e.time, perf's -k
# CLOCK_MONOTONIC, bpftrace's nsecs). A small launcher takes
# clock_gettime(CLOCK_MONOTONIC) and then execs the tool, so
#   start-up = first event's time - launch time
# covers exec, the tool's initialisation (bpftrace compiles its program),
# opening and enabling the events, and up to one marker period (~0.1 ms).
# After WAIT seconds the tool gets SIGINT; the time until it has exited is
# the exit time (end handlers, summaries, perf's build-id pass, closing the
# events). Prints both per run, then medians.
#
# Usage: sudo bench/startup.sh [ROUNDS] [WAIT]    (defaults 5, 3)
# Needs: root, Go, gcc, perf (apt-get install linux-perf); bpftrace
# optional (apt-get install bpftrace).
set -euo pipefail
ROUNDS=${1:-5}
WAIT=${2:-3}
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then echo "startup.sh: run as root" >&2; exit 2; fi
PERF=$(command -v perf || true)
if [ -z "$PERF" ]; then echo "startup.sh: perf not found; on Debian: apt-get install linux-perf" >&2; exit 2; fi
BPFTRACE=$(command -v bpftrace || true)

work=$(mktemp -d)
marker=""
cleanup() { [ -n "$marker" ] && kill "$marker" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
if pgrep -x otrace >/dev/null; then
	echo "startup.sh: warning: another otrace is running (pid $(pgrep -x otrace | tr '\n' ' ')); perf 6.1 may crash or write a broken perf.data beside it" >&2
fi
go build -o "$work/otrace" ./cmd/otrace

cat >"$work/launch.c" <<'C'
/* launch FILE CMD ARGS...: writes CLOCK_MONOTONIC in ns to FILE, then
 * execs CMD in this process. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: launch FILE CMD [ARGS...]\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(f, "%lld\n", ts.tv_sec * 1000000000LL + ts.tv_nsec);
	fclose(f);
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}
C
cat >"$work/marker.c" <<'C'
/* marker: getppid() every ~0.1 ms until killed. */
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec d = {0, 100000};
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	for (;;) {
		getppid();
		nanosleep(&d, NULL);
	}
}
C
gcc -O2 -o "$work/launch" "$work/launch.c"
gcc -O2 -o "$work/marker" "$work/marker.c"
cat >"$work/first.tengo" <<'TENGO'
first := 0
otrace.on("syscalls:sys_enter_getppid", func(e) {
	if first == 0 { first = e.time }
})
otrace.end(func() { otrace.printf("first %d\n", first) })
TENGO

"$work/marker" &
marker=$!

# now_us: wall-clock microseconds, without a fork (bash 5's EPOCHREALTIME).
now_us() { echo "${EPOCHREALTIME/./}"; }

# catches_int PID: whether PID has a SIGINT handler (bit 2 of SigCgt).
catches_int() {
	local m
	m=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$m" ] && (((16#$m & 2) != 0))
}

# ms A B: the microseconds from A to B in ms, or - without B.
ms() { if [ -n "$2" ]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e3 }'; else echo -; fi; }

# run_one TOOL: prints "startup_ms exit_ms".
run_one() {
	local tool=$1 pid first=0 t0 t1 t2
	rm -f "$work/perf.data"
	case $tool in
	otrace) "$work/launch" "$work/t0" "$work/otrace" run -p "$marker" "$work/first.tengo" >"$work/out" 2>"$work/err" & ;;
	perf) "$work/launch" "$work/t0" "$PERF" record -q -k CLOCK_MONOTONIC -e syscalls:sys_enter_getppid -p "$marker" -o "$work/perf.data" >"$work/out" 2>"$work/err" & ;;
	bpftrace) "$work/launch" "$work/t0" "$BPFTRACE" -e "tracepoint:syscalls:sys_enter_getppid /pid == $marker && @seen == 0/ { @seen = 1; printf(\"first %llu\\n\", nsecs); } END { clear(@seen); }" >"$work/out" 2>"$work/err" & ;;
	esac
	pid=$!
	sleep "$WAIT"
	# A script's background jobs start with SIGINT ignored: a SIGINT sent
	# before the tool catches it would be lost. Wait for its handler.
	for _ in $(seq 1 100); do catches_int "$pid" && break; sleep 0.1; done
	t1=$(now_us)
	kill -INT "$pid" 2>/dev/null || true
	# A tool that does not end within 30 s is killed, its exit not counted.
	(
		trap 'kill $s; exit' TERM
		sleep 30 &
		s=$!
		wait $s
		kill -0 "$pid" && touch "$work/killed" && kill -KILL "$pid"
	) >/dev/null 2>&1 &
	local dog=$!
	wait "$pid" 2>/dev/null || true
	t2=$(now_us)
	kill "$dog" 2>/dev/null || true
	if [ -e "$work/killed" ]; then
		rm -f "$work/killed"
		echo "startup.sh: $tool did not end within 30 s of SIGINT and was killed" >&2
		t2=""
	fi
	case $tool in
	otrace | bpftrace) first=$(awk '$1 == "first" { print $2; exit }' "$work/out") ;;
	perf) first=$("$PERF" script -i "$work/perf.data" -F time --ns 2>/dev/null | awk 'NR == 1 { sub(":", "", $1); split($1, a, "."); print a[1] a[2] }' || true) ;;
	esac
	t0=$(cat "$work/t0")
	if [ -z "$first" ] || [ "$first" = 0 ]; then
		echo "startup.sh: $tool saw no event in ${WAIT}s (a longer WAIT may help):" >&2
		tail -3 "$work/err" >&2
		echo "- $(ms "$t1" "$t2")"
		return
	fi
	echo "$(awk -v f="$first" -v t0="$t0" 'BEGIN { printf "%.1f", (f - t0) / 1e6 }') $(ms "$t1" "$t2")"
}

median() { grep -v '^-$' | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

tools="otrace perf"
[ -n "$BPFTRACE" ] && tools="$tools bpftrace"
echo "startup: first syscalls:sys_enter_getppid of a marker after launch, and exit after SIGINT; $ROUNDS rounds, $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1 /proc/loadavg)"
printf "%-9s %5s %12s %10s\n" tool round startup_ms exit_ms
for r in $(seq 1 "$ROUNDS"); do
	for tool in $tools; do
		read -r s e < <(run_one "$tool")
		printf "%-9s %5d %12s %10s\n" "$tool" "$r" "$s" "$e"
		echo "$s" >>"$work/$tool.start"
		echo "$e" >>"$work/$tool.exit"
	done
done
echo
printf "%-9s %12s %10s\n" medians startup_ms exit_ms
for tool in $tools; do
	printf "%-9s %12s %10s\n" "$tool" "$(median <"$work/$tool.start")" "$(median <"$work/$tool.exit")"
done
