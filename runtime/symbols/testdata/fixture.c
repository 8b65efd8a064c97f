/* A target for the symbols tests: known functions, a static one that only
 * .symtab names, and a call inlined into another function. It prints the
 * addresses the tests look up and its executable mappings, then, given
 * "wait", stays alive until its standard input closes. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef WITH_LIB
int lib_gamma(int x);
#endif

volatile int sink;
void *probe_ra;

__attribute__((noinline, noclone)) void probe(void) {
	probe_ra = __builtin_return_address(0);
	sink++;
}

static inline __attribute__((always_inline)) int inlined_step(int x) {
	probe(); /* LINE:probe */
	return x * 3 + sink;
}

__attribute__((noinline, noclone)) int alpha(int x) {
	sink += x;
	return sink * 2;
}

__attribute__((noinline, noclone)) static int beta(int x) {
	sink -= x;
	return alpha(x) + 1;
}

__attribute__((noinline, noclone)) int outer_with_inline(int x) {
	return inlined_step(x) + 7; /* LINE:call */
}

static void print_maps(void) {
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return;
	while (fgets(line, sizeof line, f))
		if (strstr(line, " r-xp "))
			printf("map %s", line);
	fclose(f);
}

int main(int argc, char **argv) {
	char buf[64];
	beta(1);
	outer_with_inline(2);
	printf("sym alpha %p\n", (void *)alpha);
	printf("sym beta %p\n", (void *)beta);
	printf("sym outer_with_inline %p\n", (void *)outer_with_inline);
	printf("ra probe %p\n", probe_ra);
#ifdef WITH_LIB
	printf("sym lib_gamma %p\n", (void *)lib_gamma);
	sink += lib_gamma(1);
#endif
	print_maps();
	printf("ready\n");
	fflush(stdout);
	if (argc > 1 && strcmp(argv[1], "wait") == 0)
		while (read(0, buf, sizeof buf) > 0)
			;
	return 0;
}
