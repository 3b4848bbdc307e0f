/* hello.c: the smallest C program; its floor is whatever the C runtime
 * start code and printf need on the libc it is linked against. */
#include <stdio.h>

int main(int argc, char **argv)
{
	printf("hello from %s (%d args)\n", argv[0], argc - 1);
	return 0;
}
