#!/usr/bin/env bash
# profile.sh: a 999 Hz profile with stacks of a CPU-bound program, otrace
# against perf, side by side.
#
# The program (built here with gcc -O2 -fno-omit-frame-pointer, so that
# frame-pointer stacks are whole for both tools) runs a fixed amount of
# work on two threads, one per CPU, through a few call chains, and prints
# its own wall time from the start of the work to its end and its own CPU
# time. The work is calibrated once to take about DUR seconds untraced.
# Each round runs it, alternating:
#   none          untraced
#   otrace        otrace run: profile:hz:999 {stack: "both"}, a count by
#                 e.stack, every distinct stack printed at the end with its
#                 frames named
#   otrace-pprof  otrace run -o x.pb.gz profile 999: the toolbox profiler,
#                 a pprof file and the top functions
#   perf          perf record -g -F 999 (writes perf.data); then, once the
#                 program has exited, perf report --stdio on it
# Every tool traces the program as its command (-- PROGRAM), so the
# sampling events follow its threads only.
# For each run: the program's wall time and its own CPU time (prog_s),
# and their slowdown against the median untraced run; the tool's own CPU
# (user+sys of the tool minus the program's, which the tool reaps; for
# perf, record and report apart and added up), samples taken and lost,
# and tool CPU per sample. Prints medians and the ratios against otrace.
# wall_x and prog_x are the slowdowns. On a busy machine the wall times
# are noise; prog_s holds up better.
#
# Usage: sudo bench/profile.sh [ROUNDS] [DUR]    (defaults 5, 3)
# Needs: root, Go, gcc, perf (apt-get install linux-perf).
# Debian's perf 6.1 crashes reading MMAP2 records while another process
# holds a perf event with build_id (a running otrace): the tools never
# overlap here, but do not run this beside another otrace.
set -euo pipefail
ROUNDS=${1:-5}
DUR=${2:-3}
HZ=999
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then echo "profile.sh: run as root" >&2; exit 2; fi
PERF=$(command -v perf || true)
if [ -z "$PERF" ]; then echo "profile.sh: perf not found; on Debian: apt-get install linux-perf" >&2; exit 2; fi
if [ ! -x /usr/bin/time ]; then echo "profile.sh: /usr/bin/time not found; on Debian: apt-get install time" >&2; exit 2; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if pgrep -x otrace >/dev/null; then
	echo "profile.sh: warning: another otrace is running (pid $(pgrep -x otrace | tr '\n' ' ')); perf 6.1 may crash or write a broken perf.data beside it" >&2
fi
go build -o "$work/otrace" ./cmd/otrace
cat >"$work/burn.c" <<'C'
/* burn ITER: two threads each run ITER rounds of three call chains, then
 * print "wall_s W cpu_s C": the wall time of the work (CLOCK_MONOTONIC)
 * and the process's user+sys time (getrusage, as its parent will see). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static long iters;

__attribute__((noinline, noclone)) static unsigned long mix(unsigned long x, int n)
{
	for (int i = 0; i < n; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	return x;
}
__attribute__((noinline, noclone)) static unsigned long leaf_a(unsigned long x) { return mix(x, 200); }
__attribute__((noinline, noclone)) static unsigned long leaf_b(unsigned long x) { return mix(x ^ 0x5555, 100); }
__attribute__((noinline, noclone)) static unsigned long middle(unsigned long x) { return leaf_a(x) + leaf_b(x); }
__attribute__((noinline, noclone)) static unsigned long top(unsigned long x) { return middle(x) ^ leaf_b(x + 1); }

static void *worker(void *arg)
{
	unsigned long x = (unsigned long)arg;
	for (long i = 0; i < iters; i++)
		x = top(x) + mix(x, 50);
	return (void *)x;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	iters = argc > 1 ? atol(argv[1]) : 100000;
	pthread_t t[2];
	double start = now();
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, (void *)(i + 1));
	unsigned long sum = 0;
	for (int i = 0; i < 2; i++) {
		void *r;
		pthread_join(t[i], &r);
		sum += (unsigned long)r;
	}
	double wall = now() - start;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("wall_s %.4f cpu_s %.4f sum %lu\n", wall, cpu, sum & 1);
	return 0;
}
C
gcc -O2 -fno-omit-frame-pointer -pthread -o "$work/burn" "$work/burn.c"
cat >"$work/stacks.tengo" <<'TENGO'
n := 0
stacks := otrace.count()
otrace.on("profile:hz:" + otrace.args[0], {stack: "both"}, func(e) {
	n++
	stacks.inc(e.stack)
})
otrace.end(func() {
	otrace.printf("samples %d\n", n)
	stacks.print() // every distinct stack, its frames named, as perf report does
})
TENGO

# Calibrate: ITER for about DUR seconds of untraced wall time.
probe=200000
t=$("$work/burn" "$probe" | awk '{ print $2 }')
ITER=$(awk -v p="$probe" -v t="$t" -v d="$DUR" 'BEGIN { printf "%d", p * d / (t > 0 ? t : 0.001) }')

# field FILE KEY: the word after KEY in FILE.
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' "$1"; }
# cpu FILE: user+sys seconds from a /usr/bin/time -f "%U %S" line.
cpu() { awk 'END { print $1 + $2 }' "$1"; }
# minus A B: A - B, not below 0.
minus() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = 0; printf "%.3f", d }'; }
otrace_lost() { sed -n 's/^otrace: [0-9,]* events\{0,1\}, \([0-9,]*\) lost.*/\1/p' "$1" | tr -d ,; }

# failed TOOL: says so with the end of its stderr; the round goes on.
failed() {
	echo "profile.sh: $1 failed:" >&2
	tail -3 "$work/err" >&2
	if [ "$1" != otrace ] && pgrep -x otrace >/dev/null; then echo "profile.sh: (another otrace is running: perf 6.1 breaks beside a perf event with build_id open)" >&2; fi
}

# run_one MODE: prints "wall_s prog_cpu_s tool_cpu_s samples lost
# [record_cpu_s report_cpu_s]".
run_one() {
	local mode=$1 n lost total
	case $mode in
	none)
		"$work/burn" "$ITER" >"$work/out"
		echo "$(field "$work/out" wall_s) $(field "$work/out" cpu_s) 0 0 0"
		;;
	otrace)
		/usr/bin/time -f "%U %S" -o "$work/time" "$work/otrace" run "$work/stacks.tengo" "$HZ" -- "$work/burn" "$ITER" >"$work/out" 2>"$work/err" || failed otrace
		total=$(cpu "$work/time")
		echo "$(field "$work/out" wall_s) $(field "$work/out" cpu_s) $(minus "$total" "$(field "$work/out" cpu_s)") $(field "$work/out" samples) $(otrace_lost "$work/err")"
		;;
	otrace-pprof)
		/usr/bin/time -f "%U %S" -o "$work/time" "$work/otrace" run -o "$work/p.pb.gz" profile "$HZ" -- "$work/burn" "$ITER" >"$work/out" 2>"$work/err" || failed otrace
		total=$(cpu "$work/time")
		n=$(sed -n 's/^otrace: \([0-9,]*\) events\{0,1\}, .*/\1/p' "$work/err" | tr -d ,)
		echo "$(field "$work/out" wall_s) $(field "$work/out" cpu_s) $(minus "$total" "$(field "$work/out" cpu_s)") $n $(otrace_lost "$work/err")"
		;;
	perf)
		/usr/bin/time -f "%U %S" -o "$work/time" "$PERF" record -q -g -F "$HZ" -o "$work/perf.data" -- "$work/burn" "$ITER" >"$work/out" 2>"$work/err" || failed "perf record"
		local rec rep
		rec=$(minus "$(cpu "$work/time")" "$(field "$work/out" cpu_s)")
		if ! /usr/bin/time -f "%U %S" -o "$work/time2" "$PERF" report -i "$work/perf.data" --stdio >/dev/null 2>"$work/err2"; then
			echo "profile.sh: perf report failed (perf 6.1 crashes on MMAP2 records while another process holds a perf event with build_id open, such as a running otrace):" >&2
			tail -3 "$work/err2" >&2
		fi
		rep=$(cpu "$work/time2")
		"$PERF" report -i "$work/perf.data" --stats >"$work/stats" 2>/dev/null || true
		n=$(awk '/SAMPLE events:/ { print $3; exit }' "$work/stats")
		lost=$(awk '/LOST events:/ { print $3; exit }' "$work/stats")
		echo "$(field "$work/out" wall_s) $(field "$work/out" cpu_s) $(awk -v a="$rec" -v b="$rep" 'BEGIN { printf "%.3f", a + b }') ${n:-0} ${lost:-0} $rec $rep"
		;;
	esac
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# ratio A B: A / B as "1.23x".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3fx", a / b; else print "-" }'; }
# per C N: microseconds of C seconds per N samples.
per() { awk -v c="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.1f", c * 1e6 / n; else print "-" }'; }

modes="none otrace otrace-pprof perf"
echo "profile: $HZ Hz with stacks, 2 threads x $ITER rounds (~${DUR}s untraced), $ROUNDS rounds, $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1 /proc/loadavg)"
printf "%-13s %5s %8s %8s %9s %8s %6s %7s %13s\n" mode round wall_s prog_s tool_cpu_s samples lost us/smp "record+report"
for r in $(seq 1 "$ROUNDS"); do
	for m in $modes; do
		read -r wall prog c n lost rec rep < <(run_one "$m")
		split=""
		[ "$m" = perf ] && split="$rec+$rep"
		printf "%-13s %5d %8s %8s %9s %8s %6s %7s %13s\n" "$m" "$r" "$wall" "$prog" "$c" "$n" "${lost:-?}" "$(per "$c" "$n")" "$split"
		echo "$wall" >>"$work/$m.wall"
		echo "$prog" >>"$work/$m.prog"
		echo "$c" >>"$work/$m.cpu"
		echo "$n" >>"$work/$m.n"
		echo "${lost:-0}" >>"$work/$m.lost"
		[ "$m" = perf ] && echo "$rec" >>"$work/perf-record.cpu" && echo "$rep" >>"$work/perf-report.cpu"
	done
done

# The program's slowdown: its wall time for the work against untraced
# (what a user waits; noisy on a busy machine), and its own CPU time
# (steadier: sampling interrupts and their stack walks are charged to it).
wall0=$(median <"$work/none.wall")
prog0=$(median <"$work/none.prog")
echo
printf "%-22s %8s %9s %8s %9s %10s %8s %6s %7s\n" medians wall_s wall_x prog_s prog_x tool_cpu_s samples lost us/smp
row() { # row LABEL MODE CPUFILE
	local w p c n
	w=$(median <"$work/$2.wall")
	p=$(median <"$work/$2.prog")
	c=$(median <"$3")
	n=$(median <"$work/$2.n")
	printf "%-22s %8s %9s %8s %9s %10s %8s %6s %7s\n" "$1" "$w" "$(ratio "$w" "$wall0")" "$p" "$(ratio "$p" "$prog0")" "$c" "$n" "$(median <"$work/$2.lost")" "$(per "$c" "$n")"
}
row "none" none "$work/none.cpu"
row "otrace" otrace "$work/otrace.cpu"
row "otrace-pprof" otrace-pprof "$work/otrace-pprof.cpu"
row "perf record" perf "$work/perf-record.cpu"
row "perf record + report" perf "$work/perf.cpu"
o=$(median <"$work/otrace.cpu")
for x in "perf record:perf-record" "perf record + report:perf" "otrace-pprof:otrace-pprof"; do
	echo "${x%%:*} / otrace, tool CPU: $(ratio "$(median <"$work/${x#*:}.cpu")" "$o")"
done
