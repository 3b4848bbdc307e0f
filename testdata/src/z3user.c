/* z3user.c: a program that needs libz3 (DT_NEEDED) and prints the version
 * the loaded library reports. */
#include <stdio.h>
#include "z3.h"

int main(void)
{
	unsigned major, minor, build, revision;

	Z3_get_version(&major, &minor, &build, &revision);
	printf("z3 %u.%u.%u.%u\n", major, minor, build, revision);
	return 0;
}
