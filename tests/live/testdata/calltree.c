/* calltree has a known call tree, for the stack tests. It is built with
 * -O0 -fno-omit-frame-pointer -g so every function keeps its own frame and
 * frame-pointer unwinding sees each caller.
 *
 * "calltree spin M" spins in two leaves, M million loop iterations a unit:
 *     main -> a -> b     b spins 2 units a round
 *     main -> c          c spins 1 unit a round
 * in 10 interleaved rounds, so a CPU profile finds about 2/3 of its samples
 * in [b a main] and 1/3 in [c main] whatever the CPU's speed does meanwhile.
 *
 * "calltree calls K" calls main -> caller -> target(3i+1) for i < K, for a
 * uprobe on target; it prints "calltree sum S", the sum of the arguments.
 *
 * Either way it first prints "calltree pid PID". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile unsigned long sink;

__attribute__((noinline)) void b(long n)
{
	for (long i = 0; i < n; i++)
		sink++;
}

__attribute__((noinline)) void a(long n)
{
	b(2 * n);
}

__attribute__((noinline)) void c(long n)
{
	for (long i = 0; i < n; i++)
		sink++;
}

__attribute__((noinline)) void target(long v)
{
	sink += v;
}

__attribute__((noinline)) void caller(long k)
{
	for (long i = 0; i < k; i++)
		target(3 * i + 1);
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "spin") != 0 && strcmp(argv[1], "calls") != 0)) {
		fprintf(stderr, "usage: calltree spin MILLIONS | calltree calls K\n");
		return 2;
	}
	printf("calltree pid %d\n", (int)getpid());
	fflush(stdout);
	long n = atol(argv[2]);
	if (strcmp(argv[1], "calls") == 0) {
		caller(n);
		printf("calltree sum %lu\n", sink);
		return 0;
	}
	for (int round = 0; round < 10; round++) {
		a(n * 1000000);
		c(n * 1000000);
	}
	return 0;
}
