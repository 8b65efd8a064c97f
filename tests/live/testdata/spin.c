/* spin burns SECONDS (default 1) of its own CPU time in a loop that makes
 * no system call but clock_gettime (a vDSO call), then prints its pid and
 * the CPU time it used: "spin pid PID cpu_ns NS". Spinning on CPU time
 * rather than wall time keeps the expected sample count exact on a
 * loaded machine: a sampler at H Hz should see about H * SECONDS samples. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	long long start = cpu_ns(), goal = start + (long long)(seconds * 1e9), now;
	volatile unsigned long x = 0;
	do {
		for (int i = 0; i < 10000; i++)
			x++;
		now = cpu_ns();
	} while (now < goal);
	printf("spin pid %d cpu_ns %lld\n", (int)getpid(), now - start);
	return 0;
}
