/* getppid makes exactly N getppid system calls (N is the first argument)
 * and no others of that number, so a tracer must count N. It calls the
 * syscall directly so no libc caching can change the number. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: getppid N\n");
		return 2;
	}
	long n = atol(argv[1]);
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	return 0;
}
