// shlibdeps.cpp: a program for the differential test of Debian Depends
// against dpkg-shlibdeps (pkg/deps TestDependsMatchDpkgShlibdepsPerTarget).
// It needs a library of each kind dpkg-shlibdeps treats differently:
//  - libstdc++ (a symbols file; std::filesystem binds GLIBCXX_3.4.26
//    symbols that Debian 11 tags 9, beside others of that node tagged 9.1);
//  - libz (a symbols file with versioned and unversioned, @Base, symbols;
//    its versions carry an epoch, 1:1.2.0);
//  - libz3 and libzstd (no symbols file: the shlibs line decides);
//  - libgcc_s (_Unwind_Resume@GCC_3.0).
// Linked against the fixtures' stub libz3.so.4 and bullseye's libzstd.so.1
// and libz.so.1; the declarations stand in for zstd.h and zlib.h.
#include <filesystem>
#include <iostream>
#include <string>

extern "C" {
#include "z3.h"
unsigned ZSTD_versionNumber(void);
const char *zlibVersion(void);
unsigned long compressBound(unsigned long);
}

int main(int argc, char **argv)
{
	std::filesystem::path p(argc > 1 ? argv[1] : "/usr/lib/x");
	unsigned major, minor, build, revision;

	Z3_get_version(&major, &minor, &build, &revision);
	std::cout << "file " << p.filename().string() << " z3 " << major << "." << minor
		  << " zstd " << ZSTD_versionNumber() / 10000
		  << " zlib " << std::string(zlibVersion()).substr(0, 1)
		  << " bound " << compressBound(100) << std::endl;
	return 0;
}
