// The pieces of `kit verify`'s verdict: Catch2's JUnit report read back, a failure taken apart and trimmed,
// and the pointer into the lesson text.
#include "catch.hpp"

#include "junit.hpp"
#include "repo.hpp"
#include "verdict.hpp"

#include <sstream>

using namespace clusterkit::kit;

TEST_CASE("a Catch2 JUnit report reads back as one result per test case", "[kit][junit]") {
    const auto results = parse_junit_file(KIT_TEST_DATA "/catch2-junit.xml");
    REQUIRE(results.size() == 1);
    CHECK(results[0].name == "under a one-CPU affinity mask the primary starts one worker");
    CHECK_FALSE(results[0].passed);
    CHECK(results[0].seconds == Approx(0.017));
    CHECK(results[0].message.starts_with("FAILED:\n  CHECK( run.events_named(\"fork\").size() == 1 )"));
}

TEST_CASE("a truncated JUnit report is an error, not a pass", "[kit][junit]") {
    std::istringstream half("<?xml version=\"1.0\"?>\n<testsuites>\n  <testsuite name=\"test01\">\n    <testcase name=\"x\"");
    CHECK_THROWS_AS(parse_junit(half), JunitError);
    std::istringstream other("<?xml version=\"1.0\"?>\n<results/>\n");
    CHECK_THROWS_AS(parse_junit(other), JunitError);
}

TEST_CASE("a failure is taken apart into what was expected, what happened and where", "[kit][verdict]") {
    const auto results = parse_junit_file(KIT_TEST_DATA "/catch2-junit.xml");
    const auto failure = parse_failure(results.at(0).message, "/home/student/clusterkit");
    CHECK(failure.assertion == "CHECK( run.events_named(\"fork\").size() == 1 )");
    CHECK(failure.expansion == "0 == 1");
    CHECK(failure.location == "tests/01-fork-per-cpu/test_fork_per_cpu.cpp:43");
    CHECK(failure.more == 0);
    const std::vector<std::string> context{"your program's stdout (pid 8702):", "  primary pid=8702 workers=1", "  done",
                                           "stderr: (nothing)", "status: exited with code 0"};
    CHECK(failure.context == context);
}

TEST_CASE("a long transcript keeps its head and its tail", "[kit][verdict]") {
    std::string text = "FAILED:\n  REQUIRE( run.status_is_code(0) )\nwith expansion:\n  false\nstdout of 5:\n";
    for (int i = 1; i <= 40; ++i) text += "  fork id=" + std::to_string(i) + " pid=" + std::to_string(100 + i) + "\n";
    text += "stderr:\n  lesson03: error: a crash loop\nstatus: exited with code 1\nat /r/tests/x.cpp:9\n"
            "FAILED:\n  CHECK( false )\nat /r/tests/x.cpp:10\n";
    const auto failure = parse_failure(text, "/r");
    CHECK(failure.more == 1);
    CHECK(failure.location == "tests/x.cpp:9");
    REQUIRE(failure.context.size() == 1 + 10 + 1 + 4 + 2 + 1);
    CHECK(failure.context[1] == "  fork id=1 pid=101");
    CHECK(failure.context[11] == "  ... 26 more lines ...");
    CHECK(failure.context[15] == "  fork id=40 pid=140");
    CHECK(failure.context[16] == "stderr:");
    CHECK(failure.context[17] == "  lesson03: error: a crash loop");
}

TEST_CASE("a lesson heading becomes GitHub's anchor", "[kit][verdict]") {
    CHECK(github_anchor("Why one worker per CPU") == "why-one-worker-per-cpu");
    CHECK(github_anchor("Reaping, and `EINTR`") == "reaping-and-eintr");
    CHECK(github_anchor("  fork() and exec()  ") == "fork-and-exec");
}
