/* snap is the x86-64 fixture of runtime/unwind: a known call chain
 * main -> f1 -> f2 -> f3 -> f4 -> f5 -> leaf, built with -O2
 * -fomit-frame-pointer, whose leaf snapshots itself as perf would sample
 * it: the registers CFI needs, a copy of the stack from the stack pointer
 * up, and /proc/self/maps. gen.sh builds it and writes snap.state.
 *
 * snap (assembly) records its caller's state just after the call
 * returns: PC = the return address, SP above it, and the callee-saved
 * registers, which are still the caller's. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct state {
	uint64_t rip, rsp, rbp, rbx, r12, r13, r14, r15;
};

void snap(struct state *s);
__asm__(".text\n.globl snap\n.type snap,@function\nsnap:\n"
	".cfi_startproc\n"
	"\tmov (%rsp), %rax\n\tmov %rax, 0(%rdi)\n"
	"\tlea 8(%rsp), %rax\n\tmov %rax, 8(%rdi)\n"
	"\tmov %rbp, 16(%rdi)\n\tmov %rbx, 24(%rdi)\n\tmov %r12, 32(%rdi)\n"
	"\tmov %r13, 40(%rdi)\n\tmov %r14, 48(%rdi)\n\tmov %r15, 56(%rdi)\n"
	"\tret\n.cfi_endproc\n");

/* sigtramp has glibc's x86-64 signal-frame CFI (sysdeps/unix/sysv/linux/
 * x86_64/libc_sigaction.c): the CFA and every register are read from the
 * ucontext at the stack pointer, through DWARF expressions. */
__asm__(".text\n.globl sigtramp\n.type sigtramp,@function\n"
	/* As glibc does, the FDE starts a byte early, so that an unwinder
	 * looking up "return address - 1" still finds it. */
	".cfi_startproc simple\n.cfi_signal_frame\n"
	/* DW_CFA_def_cfa_expression: breg7(rsp)+160; deref */
	".cfi_escape 0x0f,0x04,0x77,0xa0,0x01,0x06\n"
	/* DW_CFA_expression rip: breg7+168; rbp: +120; rbx: +128; rsp: +160 */
	".cfi_escape 0x10,0x10,0x03,0x77,0xa8,0x01\n"
	".cfi_escape 0x10,0x06,0x03,0x77,0xf8,0x00\n"
	".cfi_escape 0x10,0x03,0x03,0x77,0x80,0x01\n"
	".cfi_escape 0x10,0x07,0x03,0x77,0xa0,0x01\n"
	"\tnop\n"
	"sigtramp:\n"
	"\tmov $15, %rax\n\tsyscall\n"
	".cfi_endproc\n");

volatile unsigned long sink;
static struct state st;
static unsigned char copy[16384];

#define NI __attribute__((noinline))

static void dump(void)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	uint64_t top = 0;
	while (maps && fgets(line, sizeof line, maps)) {
		uint64_t lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && st.rsp >= lo && st.rsp < hi)
			top = hi;
	}
	size_t n = top - st.rsp < sizeof copy ? top - st.rsp : sizeof copy;
	memcpy(copy, (void *)st.rsp, n);
	printf("regs %lx %lx %lx %lx %lx %lx %lx %lx\n", st.rip, st.rsp, st.rbp, st.rbx, st.r12, st.r13, st.r14, st.r15);
	printf("stack %zu\n", n);
	fwrite(copy, 1, n, stdout);
	printf("\n");
	rewind(maps);
	while (fgets(line, sizeof line, maps))
		printf("map %s", line);
	fclose(maps);
}

NI void leaf(long n)
{
	for (long i = 0; i < n; i++)
		sink += i * 7;
	snap(&st);
	sink++;
	dump();
}
NI void f5(long n) { leaf(n); sink++; }
NI void f4(long n) { f5(n); sink++; }
NI void f3(long n) { f4(n); sink++; }
NI void f2(long n) { f3(n); sink++; }
NI void f1(long n) { f2(n); sink++; }

int main(int argc, char **argv)
{
	f1(argc * 10);
	return 0;
}
