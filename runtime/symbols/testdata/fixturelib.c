/* A shared library for the symbols tests. */
volatile int lib_sink;

__attribute__((noinline, noclone)) static int lib_delta(int x) {
	lib_sink += x;
	return lib_sink;
}

__attribute__((noinline, noclone)) int lib_gamma(int x) {
	return lib_delta(x) * 5;
}
