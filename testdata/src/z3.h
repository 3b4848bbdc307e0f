/* z3.h: the one Z3 entry point the fixtures use (same signature as Z3's). */
#ifndef RELPACK_Z3_H
#define RELPACK_Z3_H

void Z3_get_version(unsigned *major, unsigned *minor, unsigned *build, unsigned *revision);

#endif
