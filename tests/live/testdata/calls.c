/* calls calls target() exactly K times (K is the first argument) and
 * prints the sum of the arguments, so the calls cannot be folded away.
 * target is kept out of line and uncloned so a uprobe on the symbol
 * "target" fires once per call and a uretprobe once per return. */
#include <stdio.h>
#include <stdlib.h>

volatile long sink;

__attribute__((noinline, noclone)) void target(int i)
{
	sink += i;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: calls K\n");
		return 2;
	}
	int k = atoi(argv[1]);
	for (int i = 0; i < k; i++)
		target(i);
	printf("calls sum %ld\n", sink);
	return 0;
}
