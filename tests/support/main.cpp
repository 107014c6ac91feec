// The autograder's main(): Catch2's session, in a process that reaps the orphans of the programs it tests.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "processes.hpp"

int main(int argc, char* argv[]) {
    // Orphans of the program under test become our children, so a test can see what was left behind.
    clusterkit::testing::become_subreaper();
    return Catch::Session().run(argc, argv);
}
