// debug-cxx.cpp: a C++ program built with DWARF (-g) for pkg/debugsym: a
// member function in a namespace (relpack::Greeter::greet) that gdb
// resolves by its qualified name from the split debug file.
#include <iostream>
#include <string>

namespace relpack {

class Greeter {
public:
	explicit Greeter(std::string who) : who_(std::move(who)) {}
	std::string greet() const;

private:
	std::string who_;
};

std::string Greeter::greet() const
{
	return "hello, " + who_;
}

} // namespace relpack

int main(int argc, char **argv)
{
	relpack::Greeter g(argc > 1 ? argv[1] : "debug");
	std::cout << g.greet() << std::endl;
	return 0;
}
