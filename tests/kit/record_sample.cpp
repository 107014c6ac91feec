// kit-record-sample: a test binary whose test cases fail on purpose, one way each, so that the kit's own
// tests (test_pipeline.cpp) can run it as `kit verify` runs a lesson's tests and check what the listener
// (tests/support/listener.cpp) recorded. Not a CTest test: its failures are its purpose.
#include "catch.hpp"

#include "program.hpp"

#include <csignal>
#include <stdexcept>
#include <unistd.h>

using namespace clusterkit::testing;

TEST_CASE("a check that passes", "[sample]") { CHECK(1 + 1 == 2); }

TEST_CASE("a failed check names its expression, its expansion and the program run", "[sample]") {
    const auto run = run_to_end("clusterkit-test-child", {.args = {"print-args", "exit-code", "3"}});
    INFO("the child, with its transcript:\n" << run.transcript());
    CHECK(run.status_is_code(0));
    CHECK(run.stdout_lines.size() == 99);
}

TEST_CASE("a failure inside a section names the section", "[sample]") {
    SECTION("the inner part") {
        const int workers = 2;
        CAPTURE(workers);
        REQUIRE(workers == 3);
    }
}

TEST_CASE("an exception escapes the test", "[sample]") { throw std::runtime_error("boom"); }

TEST_CASE("the test binary is killed in the middle of the test", "[sample]") {
    CHECK(true);
    ::kill(::getpid(), SIGKILL);
}

TEST_CASE("a check that gave up waiting says for what, how long and why", "[sample]") {
    const auto run = run_to_end("clusterkit-test-child", {.args = {"forever"}});
    REQUIRE(run.status.has_value());
}

TEST_CASE("a check over generated values fails for each of them", "[sample]") {
    const int value = GENERATE(1, 2, 3);
    CHECK(value == 0);
}
