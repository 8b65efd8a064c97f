/* dwarfchain is the workload of the DWARF unwinding tests. It is built with
 * -O2 -fomit-frame-pointer, so frame pointers say nothing and only CFI
 * finds the callers. Each mode spends its time in one hot leaf:
 *
 *   dwarfchain chain N    main -> f1 -> f2 -> f3 -> f4 -> f5 -> leaf
 *   dwarfchain qsort N    main -> sorter -> qsort (libc) -> ... -> compare
 *   dwarfchain signal N   main -> spin -> kill (libc), whose return to user
 *                         space runs the SIGUSR1 handler: handler ->
 *                         handler_work, on a signal frame
 *   dwarfchain vdso N     main -> clocks -> clock_gettime (libc) -> the vDSO
 *
 * N is how many rounds of about 100 ms it runs. It first prints
 * "dwarfchain pid PID"; given a third argument, it copies its
 * /proc/self/maps there before it exits, for turning addresses into file
 * offsets. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NI __attribute__((noinline))

volatile unsigned long sink;

NI void leaf(long n)
{
	for (long i = 0; i < n; i++)
		sink += i * 7;
}
/* The sink++ after each call keeps the calls from becoming jumps. */
NI void f5(long n) { leaf(n); sink++; }
NI void f4(long n) { f5(n); sink++; }
NI void f3(long n) { f4(n); sink++; }
NI void f2(long n) { f3(n); sink++; }
NI void f1(long n) { f2(n); sink++; }

NI int compare(const void *a, const void *b)
{
	for (int i = 0; i < 200; i++)
		sink += i;
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

NI void sorter(long *v, long n)
{
	for (long i = 0; i < n; i++)
		v[i] = (i * 7919) % n;
	qsort(v, n, sizeof v[0], compare);
	sink++;
}

NI void handler_work(void)
{
	for (long i = 0; i < 200000; i++)
		sink += i;
}

NI void handler(int sig)
{
	(void)sig;
	handler_work();
	sink++;
}

NI void spin(long n)
{
	for (long i = 0; i < n; i++) {
		sink += i;
		if (i % 300000 == 0)
			kill(getpid(), SIGUSR1);
	}
}

NI void clocks(long n)
{
	struct timespec ts;
	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sink += ts.tv_nsec;
	}
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: dwarfchain chain|qsort|signal|vdso ROUNDS [MAPSFILE]\n");
		return 2;
	}
	printf("dwarfchain pid %d\n", (int)getpid());
	fflush(stdout);
	long rounds = atol(argv[2]);
	if (strcmp(argv[1], "chain") == 0) {
		for (long r = 0; r < rounds; r++)
			f1(50000000);
	} else if (strcmp(argv[1], "qsort") == 0) {
		static long v[20000];
		for (long r = 0; r < rounds; r++)
			sorter(v, 20000);
	} else if (strcmp(argv[1], "signal") == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = handler;
		sigaction(SIGUSR1, &sa, NULL);
		for (long r = 0; r < rounds; r++)
			spin(30000000);
	} else if (strcmp(argv[1], "vdso") == 0) {
		for (long r = 0; r < rounds; r++)
			clocks(5000000);
	} else {
		fprintf(stderr, "dwarfchain: unknown mode %s\n", argv[1]);
		return 2;
	}
	if (argc == 4) {
		FILE *in = fopen("/proc/self/maps", "r"), *out = fopen(argv[3], "w");
		char buf[4096];
		size_t n;
		while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
			fwrite(buf, 1, n, out);
		if (!in || !out || fclose(out) != 0) {
			perror(argv[3]);
			return 1;
		}
	}
	return 0;
}
