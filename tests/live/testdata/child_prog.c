/* child_prog does nothing: it exists to be forked, exec'd and to exit
 * under a shell so a tracer sees its whole life. */
int main(void)
{
	return 0;
}
