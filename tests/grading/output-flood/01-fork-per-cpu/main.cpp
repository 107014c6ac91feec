// Hostile submission: a flood of output on stdout and stderr, as fast as it can, forever. The tests keep
// a bounded part of it, the sandbox caps what it keeps of the tests' reports, and neither memory nor disk
// fills up.
#include <cstdio>
#include <string>

int main() {
    const std::string line(200, 'x');
    for (;;) {
        std::fputs(line.c_str(), stdout);
        std::fputc('\n', stdout);
        std::fputs(line.c_str(), stderr);
    }
}
