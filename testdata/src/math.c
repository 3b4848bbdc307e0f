/* math.c: calls the libm functions whose default symbol versions moved to
 * GLIBC_2.29 (log, log2, exp, exp2, pow) and
 * posix_spawn_file_actions_addchdir_np (new in GLIBC_2.29). Arguments come
 * from the command line so nothing is folded at compile time; build with
 * -fno-builtin so every call stays a call. */
#define _GNU_SOURCE
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	double x = argc > 1 ? atof(argv[1]) : 2.5;
	double y = argc > 2 ? atof(argv[2]) : 1.5;
	posix_spawn_file_actions_t fa;
	int rc;

	printf("log %g log2 %g exp %g exp2 %g pow %g\n",
	       log(x), log2(x), exp(x), exp2(x), pow(x, y));

	posix_spawn_file_actions_init(&fa);
	rc = posix_spawn_file_actions_addchdir_np(&fa, argc > 3 ? argv[3] : "/");
	posix_spawn_file_actions_destroy(&fa);
	printf("addchdir_np %d\n", rc);
	return 0;
}
