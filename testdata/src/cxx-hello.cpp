// cxx-hello.cpp: std::string, iostream and an exception thrown and caught,
// so the binary needs libstdc++ (GLIBCXX_*, CXXABI_*) and libgcc_s (GCC_*).
// Where the library has floating-point std::to_chars (libstdc++ 11 and
// later, GLIBCXX_3.4.29) it prints a number with it too, so a build with a
// newer libstdc++ needs a newer GLIBCXX than one against libstdc++ 10.
#include <charconv>
#include <iostream>
#include <stdexcept>
#include <string>

static std::string greet(const std::string &who)
{
	if (who.empty())
		throw std::invalid_argument("nobody to greet");
	return "hello, " + who;
}

int main(int argc, char **argv)
{
	std::string who = argc > 1 ? argv[1] : "";
	try {
		std::cout << greet(who) << std::endl;
	} catch (const std::exception &e) {
		std::cout << "caught: " << e.what() << std::endl;
	}
#if defined(__cpp_lib_to_chars)
	char buf[32];
	auto res = std::to_chars(buf, buf + sizeof buf, 0.5 * argc);
	std::cout << "to_chars: " << std::string(buf, res.ptr) << std::endl;
#endif
	return 0;
}
