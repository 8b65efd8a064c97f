/* The seed of FuzzELF: a small ELF file with .symtab, DWARF and an
 * inlined call. Rebuild with:
 *   gcc -O1 -g -nostdlib -static -Wl,--build-id -o tiny.elf tiny.c */
static volatile int sink;

static inline __attribute__((always_inline)) int step(int x) {
	sink += x;
	return sink;
}

__attribute__((noinline)) int work(int x) { return step(x) * 2; }

void _start(void) {
	work(1);
	for (;;)
		;
}
