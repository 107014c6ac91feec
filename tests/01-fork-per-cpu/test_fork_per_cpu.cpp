// Lesson 01's autograder: the contract of `lesson01 [--workers N]` (lessons/01-fork-per-cpu/README.md).
#include "catch.hpp"

#include "checks.hpp"
#include "program.hpp"

#include <algorithm>
#include <sched.h>
#include <set>
#include <unistd.h>

using namespace clusterkit::testing;
using clusterkit::Event;

namespace {

// The CPUs the test itself may run on; the program inherits this mask unless a test narrows it.
std::vector<int> test_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    REQUIRE(::sched_getaffinity(0, sizeof set, &set) == 0);
    std::vector<int> cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    return cpus;
}

std::set<long long> pids_of(const std::vector<Event>& events) {
    std::set<long long> pids;
    for (const auto& event : events) pids.insert(event.number("pid"));
    return pids;
}

}  // namespace

TEST_CASE("under a one-CPU affinity mask the primary starts one worker", "[01][cpus]") {
    const auto run = run_to_end("lesson01", {.cpus = {test_cpus().front()}});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    const auto primary = run.events_named("primary");
    REQUIRE(primary.size() == 1);
    CHECK(primary.front().number("workers") == 1);
    CHECK(run.events_named("fork").size() == 1);
}

TEST_CASE("by default the primary starts one worker per CPU in its affinity mask", "[01][cpus]") {
    const auto cpus = test_cpus();
    const auto run = run_to_end("lesson01", {.cpus = cpus});
    INFO(run.transcript());
    INFO("the test may run on " << cpus.size() << " CPUs");
    REQUIRE(run.status_is_code(0));
    const auto primary = run.events_named("primary");
    REQUIRE(primary.size() == 1);
    CHECK(primary.front().number("workers") == static_cast<long long>(cpus.size()));
    CHECK(run.events_named("fork").size() == cpus.size());
    CHECK(run.events_named("worker").size() == cpus.size());
}

TEST_CASE("with --workers 3 the primary starts three workers, each its child with a pid of its own", "[01][fork]") {
    const auto run = run_to_end("lesson01", {.args = {"--workers", "3"}});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    const auto primary = run.events_named("primary");
    REQUIRE(primary.size() == 1);
    CHECK(primary.front().number("pid") == run.pid);
    CHECK(primary.front().number("workers") == 3);

    const auto forks = run.events_named("fork");
    const auto workers = run.events_named("worker");
    REQUIRE(forks.size() == 3);
    REQUIRE(workers.size() == 3);
    CHECK(pids_of(forks).size() == 3);
    CHECK(pids_of(workers) == pids_of(forks));
    CHECK_FALSE(pids_of(forks).contains(run.pid));
    for (const auto& worker : workers) {
        INFO(worker.to_string());
        CHECK(worker.number("ppid") == run.pid);
    }
    std::set<long long> ids;
    for (const auto& fork : forks) ids.insert(fork.number("id"));
    CHECK(ids == std::set<long long>{1, 2, 3});
}

TEST_CASE("every worker is forked, comes online and exits with code 0, in that order", "[01][events]") {
    const auto run = run_to_end("lesson01", {.args = {"--workers", "3"}});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    check_worker_lifecycles(run, 3);
}

TEST_CASE("done is the primary's last line, after every exit, and the primary exits 0", "[01][events]") {
    const auto run = run_to_end("lesson01", {.args = {"--workers", "2"}});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    REQUIRE(run.events_named("done").size() == 1);
    REQUIRE_FALSE(run.stdout_lines.empty());
    CHECK(run.stdout_lines.back() == "done");
    CHECK(run.events_named("exit").size() == 2);
    CHECK(run.stderr_text.empty());
}

TEST_CASE("the primary leaves no worker behind, running or zombie", "[01][reap]") {
    const auto run = run_to_end("lesson01", {.args = {"--workers", "4"}});
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.left_behind.empty());
    CHECK(run.events_named("exit").size() == 4);
    CHECK(run.status_is_code(0));
}

TEST_CASE("a bad command line is a usage error: exit 2, one error line, no worker", "[01][usage]") {
    const auto bad_command_line = GENERATE(as<std::vector<std::string>>{},
                                           std::vector<std::string>{"--workers", "0"},
                                           std::vector<std::string>{"--workers", "-3"},
                                           std::vector<std::string>{"--workers", "three"},
                                           std::vector<std::string>{"--workers", "2x"},
                                           std::vector<std::string>{"--workers"},
                                           std::vector<std::string>{"--wrokers", "2"},
                                           std::vector<std::string>{"extra"});
    const auto run = run_to_end("lesson01", {.args = bad_command_line});
    INFO(run.transcript());
    check_usage_error(run, "lesson01");
}
