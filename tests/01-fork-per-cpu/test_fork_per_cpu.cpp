// Lesson 01's autograder: the contract of `lesson01 [--workers N]` (lessons/01-fork-per-cpu/README.md).
#include "catch.hpp"

#include "checks.hpp"
#include "program.hpp"

#include <algorithm>
#include <map>
#include <sched.h>
#include <set>
#include <string>
#include <vector>
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
        // A worker whose primary has already ended belongs to this test process (the subreaper) by then; whether
        // it asked for its parent before or after is a race. Waiting for the workers is another test's check.
        if (worker.number("ppid") != ::getpid()) CHECK(worker.number("ppid") == run.pid);
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

TEST_CASE("the primary's line comes first, before any worker exists", "[01][events]") {
    const auto run = run_to_end("lesson01", {.args = {"--workers", "3"}});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    REQUIRE_FALSE(run.stdout_lines.empty());
    const auto first = Event::parse(run.stdout_lines.front());
    REQUIRE(first.has_value());
    CHECK(first->name == "primary");
    CHECK(first->number("pid") == run.pid);
    CHECK(first->number("workers") == 3);
}

TEST_CASE("under an affinity mask without CPU 0 the primary counts the CPUs in the mask, not the highest one",
          "[01][cpus]") {
    // The last CPU alone: one CPU, but not CPU 0 (on a one-CPU machine this is the one-CPU test again).
    const int last = test_cpus().back();
    const auto run = run_to_end("lesson01", {.cpus = {last}});
    INFO(run.transcript());
    INFO("the program may run on CPU " << last << " only");
    REQUIRE(run.status_is_code(0));
    const auto primary = run.events_named("primary");
    REQUIRE(primary.size() == 1);
    CHECK(primary.front().number("workers") == 1);
    CHECK(run.events_named("fork").size() == 1);
}

TEST_CASE("each worker prints its own line once, with the id and pid of its fork line, and no line is printed twice",
          "[01][events]") {
    const auto run = run_to_end("lesson01", {.args = {"--workers", "3"}});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    // primary, then fork, worker, online and exit for each of the 3 workers, then done: nothing twice.
    CHECK(run.stdout_lines.size() == 1 + 4 * 3 + 1);
    CHECK(std::set<std::string>(run.stdout_lines.begin(), run.stdout_lines.end()).size() == run.stdout_lines.size());
    std::map<long long, long long> fork_pid_by_id;
    for (const auto& fork : run.events_named("fork")) fork_pid_by_id[fork.number("id")] = fork.number("pid");
    const auto workers = run.events_named("worker");
    CHECK(workers.size() == 3);
    for (const auto& worker : workers) {
        INFO(worker.to_string());
        CHECK(fork_pid_by_id[worker.number("id")] == worker.number("pid"));
    }
}

TEST_CASE("a worker killed before it writes its id gets no online line, is reported as signal=SIGKILL, "
          "and the primary still ends with done",
          "[01][exit]") {
    // The test child kills every worker with SIGKILL at its first write(2): before its id reaches the pipe,
    // before its own line. Only the primary's closed write end lets the pipe reach end-of-file.
    const auto run = run_to_end("lesson01", {.args = {"--workers", "3"}, .faults = {"kill-at-write", "9"}});
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(0));
    CHECK(run.events_named("fork").size() == 3);
    CHECK(run.events_named("online").empty());
    CHECK(run.events_named("worker").empty());
    const auto exits = run.events_named("exit");
    CHECK(exits.size() == 3);
    for (const auto& exit : exits) {
        INFO(exit.to_string());
        CHECK(exit.has("signal"));
        CHECK_FALSE(exit.has("code"));
        if (exit.has("signal")) CHECK(exit.text("signal") == "SIGKILL");
    }
    REQUIRE_FALSE(run.stdout_lines.empty());
    CHECK(run.stdout_lines.back() == "done");
    CHECK(run.left_behind.empty());
}

TEST_CASE("exits are reported in the order the workers end, each as the worker whose pid waitpid returned",
          "[01][reap]") {
    // The test child holds each worker in _exit() until all three are there, then lets one end each time the
    // primary waits, the highest pid first, printing "release pid=P" just before: the last worker started
    // ends first.
    const auto run = run_to_end("lesson01", {.args = {"--workers", "3"}, .faults = {"hold-exits", "3"}});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    std::vector<long long> released;
    for (const auto& release : run.events_named("release")) released.push_back(release.number("pid"));
    std::vector<long long> reported;
    for (const auto& exit : run.events_named("exit")) reported.push_back(exit.number("pid"));
    REQUIRE(released.size() == 3);
    CHECK(reported == released);
    std::map<long long, long long> fork_id_by_pid;
    for (const auto& fork : run.events_named("fork")) fork_id_by_pid[fork.number("pid")] = fork.number("id");
    for (const auto& exit : run.events_named("exit")) {
        INFO(exit.to_string());
        CHECK(fork_id_by_pid[exit.number("pid")] == exit.number("id"));
    }
}

TEST_CASE("a fork that fails part-way is an error naming fork: the workers already started are reaped, and the "
          "primary exits 1",
          "[01][fork]") {
    // The test child lets the primary make two processes; the third fork fails with EAGAIN, as in a full
    // process table.
    const auto run = run_to_end("lesson01", {.args = {"--workers", "4"}, .faults = {"forks-allowed", "2"}});
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(1));
    const auto errors = run.stderr_lines();
    REQUIRE(errors.size() == 1);
    CHECK(errors.front().starts_with("lesson01: error: "));
    CHECK(errors.front().find("fork") != std::string::npos);
    const auto forks = run.events_named("fork");
    REQUIRE(forks.size() == 2);
    for (const auto& fork : forks) {
        const auto id = fork.number("id");
        INFO("worker id " << id);
        CHECK(run.index_of("online", id) > run.index_of("fork", id));
        CHECK(run.index_of("exit", id) > run.index_of("online", id));
    }
    CHECK(run.events_named("exit").size() == 2);
    CHECK(run.events_named("done").empty());
    CHECK(run.left_behind.empty());
}

TEST_CASE("with --help the primary prints the usage on stdout and exits 0, starting no worker", "[01][usage]") {
    const auto run = run_to_end("lesson01", {.args = {"--help"}});
    INFO(run.transcript());
    CHECK(run.status_is_code(0));
    CHECK(std::ranges::any_of(run.stdout_lines, [](const std::string& line) { return line.find("--workers") != std::string::npos; }));
    CHECK(run.events().empty());
    CHECK(run.stderr_text.empty());
    CHECK(run.left_behind.empty());
}

TEST_CASE("when sched_getaffinity fails, the primary says so in one error line naming it, exits 1 and starts no "
          "worker",
          "[01][cpus]") {
    // The test child makes the program's sched_getaffinity(2) fail with EPERM.
    const auto run = run_to_end("lesson01", {.faults = {"fail-sched-getaffinity"}});
    INFO(run.transcript());
    CHECK(run.status_is_code(1));
    const auto errors = run.stderr_lines();
    REQUIRE(errors.size() == 1);
    CHECK(errors.front().starts_with("lesson01: error: "));
    CHECK(errors.front().find("sched_getaffinity") != std::string::npos);
    CHECK(run.events_named("fork").empty());
    CHECK(run.left_behind.empty());
}

TEST_CASE("a wait that a signal interrupted (EINTR) is simply made again, and every worker is still reaped",
          "[01][reap]") {
    // The test child makes the primary's first wait fail with EINTR, as a signal handler running during the
    // wait would.
    const auto run = run_to_end("lesson01", {.args = {"--workers", "3"}, .faults = {"interrupt-first-wait"}});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    check_worker_lifecycles(run, 3);
    CHECK(run.stderr_text.empty());
    CHECK(run.left_behind.empty());
}
