/* sleeper sleeps COUNT times (default 10) for MS milliseconds (default 50)
 * with nanosleep, so it switches out in TASK_INTERRUPTIBLE COUNT times. */
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 10;
	long ms = argc > 2 ? atol(argv[2]) : 50;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	for (int i = 0; i < count; i++)
		nanosleep(&ts, NULL);
	return 0;
}
