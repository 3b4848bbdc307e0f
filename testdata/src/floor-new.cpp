// floor-new.cpp: C++ that needs the newest runtime of the glibc it is built
// against. -DUSE_ARC4RANDOM calls arc4random (GLIBC_2.36); -DUSE_STRLCPY calls
// strlcpy (GLIBC_2.38). The std::string, stream and exception need
// libstdc++ and libgcc_s; a vector index under _GLIBCXX_ASSERTIONS calls
// std::__glibcxx_assert_fail (GLIBCXX_3.4.30, GCC 12 on) where the headers
// declare it; -DUSE_TZDB takes the address of std::chrono::current_zone
// (GLIBCXX_3.4.31, GCC 13 on).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(USE_TZDB)
// Declared here, not from <chrono>: the host's GCC 12 headers cannot
// declare it and cannot read GCC 14's. Only its address is taken, so the
// run needs no time zone database.
namespace std { namespace chrono { struct time_zone; const time_zone *current_zone(); } }
static const std::chrono::time_zone *(*volatile zone_fn)() = std::chrono::current_zone;
#endif

int main(int argc, char **argv)
{
	std::vector<int> v(3, 7);
	std::string s = "floor";
#if defined(USE_ARC4RANDOM)
	unsigned r = arc4random() % 1;
	s += " arc4random " + std::to_string(r);
#endif
#if defined(USE_STRLCPY)
	char buf[8];
	size_t n = strlcpy(buf, "strlcpy-ok", sizeof buf);
	s += std::string(" ") + buf + " " + std::to_string(n);
#endif
#if defined(USE_TZDB)
	s += std::string(" current_zone ") + (zone_fn != nullptr ? "linked" : "missing");
#endif
	try {
		if (argc > 1)
			throw std::runtime_error(argv[1]);
		std::cout << s << " " << v[argc - 1] << std::endl;
	} catch (const std::exception &e) {
		std::cout << "caught: " << e.what() << std::endl;
	}
	return 0;
}
