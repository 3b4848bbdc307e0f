/* gateway.c: the demo "openshell-gateway" that relpack packages in its demo.
 *
 *   openshell-gateway --version   prints the demo version, the Z3 version
 *                                 and where Z3 came from; exits 0
 *   openshell-gateway             prints a usage line; exits 0
 *
 * Built with -DZ3_BUNDLED the Z3 stub is compiled in and the Z3 line says
 * "(bundled)"; otherwise Z3 comes from a shared libz3 and dladdr names the
 * file that answered (glibc before 2.34 needs -ldl for it). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef Z3_BUNDLED
#include <dlfcn.h>
#include <limits.h>
#endif
#include "z3.h"

#define GATEWAY_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f, "usage: openshell-gateway [--version | serve]\n");
}

static void version(void)
{
	unsigned major, minor, build, revision;

	Z3_get_version(&major, &minor, &build, &revision);
	printf("openshell-gateway demo %s\n", GATEWAY_VERSION);
#ifdef Z3_BUNDLED
	printf("z3 %u.%u.%u.%u (bundled)\n", major, minor, build, revision);
#else
	{
		Dl_info info;
		char path[PATH_MAX];
		const char *from = "unknown";

		if (dladdr((void *)Z3_get_version, &info) && info.dli_fname && info.dli_fname[0]) {
			from = info.dli_fname;
			if (realpath(from, path))
				from = path;
		}
		printf("z3 %u.%u.%u.%u from %s\n", major, minor, build, revision, from);
	}
#endif
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		version();
		return 0;
	}
	if (strcmp(argv[1], "serve") == 0) {
		printf("openshell-gateway demo %s: nothing to serve in the demo build\n", GATEWAY_VERSION);
		return 0;
	}
	fprintf(stderr, "openshell-gateway: unknown argument %s\n", argv[1]);
	usage(stderr);
	return 2;
}
