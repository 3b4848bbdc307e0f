/* z3stub.c: a stand-in for libz3 exporting only Z3_get_version, with a
 * made-up version so that a run shows which library answered. It calls
 * nothing in libc, so as a shared library it has no glibc version needs.
 * Build with -DZ3_STUB_MAJOR=.. -DZ3_STUB_MINOR=.. -DZ3_STUB_BUILD=..
 * -DZ3_STUB_REVISION=.. (default 4.99.1.0). */
#include "z3.h"

#ifndef Z3_STUB_MAJOR
#define Z3_STUB_MAJOR 4
#endif
#ifndef Z3_STUB_MINOR
#define Z3_STUB_MINOR 99
#endif
#ifndef Z3_STUB_BUILD
#define Z3_STUB_BUILD 1
#endif
#ifndef Z3_STUB_REVISION
#define Z3_STUB_REVISION 0
#endif

__attribute__((visibility("default")))
void Z3_get_version(unsigned *major, unsigned *minor, unsigned *build, unsigned *revision)
{
	*major = Z3_STUB_MAJOR;
	*minor = Z3_STUB_MINOR;
	*build = Z3_STUB_BUILD;
	*revision = Z3_STUB_REVISION;
}
