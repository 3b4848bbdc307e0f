/* debug-hello.c: a C program built with DWARF (-g) for pkg/debugsym: the
 * splitter's fixtures. gdb resolves count_args and its lines from the
 * split debug file. */
#include <stdio.h>

int count_args(int argc)
{
	int n = argc - 1;
	return n;
}

int main(int argc, char **argv)
{
	printf("hello from %s (%d args)\n", argv[0], count_args(argc));
	return 0;
}
