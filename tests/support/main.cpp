// The autograder's main(): Catch2's session, in a process that reaps the orphans of the programs it tests.
#define CATCH_CONFIG_RUNNER  // Catch2 2 compiles its implementation here; Catch2 3 ships it as a library
#include "catch.hpp"

#include "listener.hpp"
#include "processes.hpp"

#include <string_view>
#include <vector>

int main(int argc, char* argv[]) {
    // Orphans of the program under test become our children, so a test can see what was left behind.
    clusterkit::testing::become_subreaper();
    // Each test case's outcome, as data, in the file $CLUSTERKIT_RESULT_FILE names (listener.cpp).
    if (!clusterkit::testing::result_listener_linked()) return 1;
    std::vector<char*> args(argv, argv + argc);
#if CLUSTERKIT_CATCH_MAJOR == 3
    // The kit lists test cases with Catch2 2's flag; Catch2 3 prints the same list with these.
    static char list_tests[] = "--list-tests", verbosity[] = "--verbosity", quiet[] = "quiet";
    for (auto it = args.begin(); it != args.end(); ++it) {
        if (std::string_view(*it) != "--list-test-names-only") continue;
        *it = list_tests;
        args.insert(std::next(it), {verbosity, quiet});
        break;
    }
#endif
    return Catch::Session().run(static_cast<int>(args.size()), args.data());
}
