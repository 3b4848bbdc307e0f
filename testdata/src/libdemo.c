/* libdemo.c: a shared library (SONAME libdemo.so.1) that exports
 * demo_describe and uses a few versioned libc functions: memcpy
 * (GLIBC_2.14 on x86_64), clock_gettime and secure_getenv (GLIBC_2.17 on
 * x86_64), snprintf (the base version). Build with -fno-builtin so that
 * memcpy stays a call. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__attribute__((visibility("default")))
int demo_describe(char *buf, size_t len, const char *who)
{
	struct timespec ts;
	const char *home = secure_getenv("HOME");
	char name[64];
	size_t n = strlen(who);

	if (n >= sizeof name)
		n = sizeof name - 1;
	memcpy(name, who, n);
	name[n] = 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return snprintf(buf, len, "%s home=%s t=%ld", name, home ? home : "-", (long)ts.tv_sec);
}
