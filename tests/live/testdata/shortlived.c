/* shortlived spins MS milliseconds (default 200) of its own CPU time in
 * spinUntilExitForOtrace, then exits: a process that is gone, and whose
 * binary may be deleted, before a trace of it ends. It reads the clock
 * only every million iterations so that nearly all samples land in the
 * named function itself, not in the vDSO. Built with -O0
 * -fno-omit-frame-pointer -g like calltree. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

volatile unsigned long sink;

static long long cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((noinline)) void spinUntilExitForOtrace(long long ns)
{
	long long goal = cpu_ns() + ns;
	do {
		for (int i = 0; i < 1000000; i++)
			sink++;
	} while (cpu_ns() < goal);
}

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 200;
	printf("shortlived pid %d\n", (int)getpid());
	fflush(stdout);
	spinUntilExitForOtrace(ms * 1000000LL);
	return 0;
}
