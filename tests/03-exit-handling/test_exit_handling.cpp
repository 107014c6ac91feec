// Lesson 03's autograder: the contract of `lesson03` (lessons/03-exit-handling/README.md): replace dead
// workers, tell an exit code from a signal, stop on SIGTERM/SIGINT without replacing anyone, end a crash
// loop, leave no orphan when the primary is killed, and reap every death however many come at once.
#include "catch.hpp"

#include "checks.hpp"
#include "program.hpp"

#include <algorithm>
#include <csignal>
#include <map>
#include <set>
#include <unistd.h>

using namespace clusterkit::testing;
using clusterkit::Event;

namespace {

// Waits for `count` online events and returns the worker pids by id.
std::map<long long, pid_t> wait_online(Program& program, int count) {
    std::map<long long, pid_t> pids;
    for (int i = 0; i < count; ++i) {
        const auto online = program.wait_for_event("online");
        INFO(program.transcript());
        REQUIRE(online.has_value());
        pids[online->number("id")] = static_cast<pid_t>(online->number("pid"));
    }
    return pids;
}

bool has_line(const Program& program, const std::string& text) {
    return std::ranges::any_of(program.stdout_lines(), [&](const Line& line) { return line.text == text; });
}

// Stops the primary with SIGTERM and requires a clean exit 0.
void stop_cleanly(Program& program) {
    program.send_signal(SIGTERM);
    const auto status = program.wait_exit();
    INFO(program.transcript());
    REQUIRE(status.has_value());
    CHECK(!status->killed_by_signal);
    CHECK(status->code == 0);
}

}  // namespace

TEST_CASE("a worker killed with SIGKILL is replaced under the same id with a new pid", "[03][respawn]") {
    Program primary("lesson03", {.args = {"--workers", "2"}});
    const auto pids = wait_online(primary, 2);
    REQUIRE(signal_descendant(pids.at(2), SIGKILL));

    const auto exit = primary.wait_for_event("exit");
    INFO(primary.transcript());
    REQUIRE(exit.has_value());
    CHECK(exit->number("id") == 2);
    CHECK(exit->number("pid") == pids.at(2));
    CHECK(exit->text("signal") == "SIGKILL");

    const auto fork = primary.wait_for_event("fork");
    const auto online = primary.wait_for_event("online");
    INFO(primary.transcript());
    REQUIRE(fork.has_value());
    REQUIRE(online.has_value());
    CHECK(fork->number("id") == 2);
    CHECK(online->number("id") == 2);
    CHECK(online->number("pid") == fork->number("pid"));
    CHECK(fork->number("pid") != pids.at(2));
    CHECK(has_line(primary, std::to_string(pids.at(2)) + " bit the dust"));
    stop_cleanly(primary);
}

TEST_CASE("an exit code is reported as code=C and a signal as signal=SIGNAME, never one for the other",
          "[03][status]") {
    SECTION("a worker that exits with code 9 is not reported as killed by SIGKILL") {
        Program primary("lesson03", {.args = {"--workers", "1", "--crash-after-ms", "300", "--crash-code", "9",
                                              "--max-restarts", "50"}});
        const auto exit = primary.wait_for_event("exit");
        INFO(primary.transcript());
        REQUIRE(exit.has_value());
        CHECK(exit->text("code") == "9");
        CHECK_FALSE(exit->has("signal"));
        stop_cleanly(primary);
    }
    SECTION("a worker killed by SIGSEGV is reported with the signal's name") {
        Program primary("lesson03", {.args = {"--workers", "1"}});
        const auto pids = wait_online(primary, 1);
        REQUIRE(signal_descendant(pids.at(1), SIGSEGV));
        const auto exit = primary.wait_for_event("exit");
        INFO(primary.transcript());
        REQUIRE(exit.has_value());
        CHECK(exit->text("signal") == "SIGSEGV");
        CHECK_FALSE(exit->has("code"));
        stop_cleanly(primary);
    }
}

TEST_CASE("SIGTERM or SIGINT to the primary stops every worker, replaces none, and exits 0", "[03][stop]") {
    const int signal = GENERATE(SIGTERM, SIGINT);
    Program primary("lesson03", {.args = {"--workers", "3"}});
    wait_online(primary, 3);
    primary.send_signal(signal);
    const auto status = primary.wait_exit();
    primary.read_to_end();
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    CHECK(primary.events_named("fork").size() == 3);
    CHECK(primary.events_named("exit").size() == 3);
    REQUIRE_FALSE(primary.stdout_lines().empty());
    CHECK(primary.stdout_lines().back().text == "done");
    CHECK(primary.stderr_text().empty());
}

TEST_CASE("a worker that ignores SIGTERM is killed after the grace period, and the primary exits 0", "[03][stop]") {
    Program primary("lesson03", {.args = {"--workers", "2", "--grace-ms", "200", "--exec", test_child_path(), "--",
                                          "ignore-sigterm", "print-args", "forever"}});
    wait_online(primary, 2);
    // The workers print their "child" line once they ignore SIGTERM.
    const auto child_lines = [&] {
        return std::ranges::count_if(primary.stdout_lines(), [](const Line& line) { return line.text.starts_with("child "); });
    };
    while (child_lines() < 2 && primary.next_line()) {
    }
    INFO(primary.transcript());
    REQUIRE(child_lines() == 2);
    primary.send_signal(SIGTERM);
    const auto status = primary.wait_exit();
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    const auto exits = primary.events_named("exit");
    CHECK(exits.size() == 2);
    for (const auto& exit : exits) CHECK(exit.text("signal") == "SIGKILL");
    CHECK(primary.left_behind().empty());
}

TEST_CASE("a crash loop ends: one restart more than --max-restarts within the window exits 1", "[03][crash-loop]") {
    const auto run = run_to_end("lesson03", {.args = {"--workers", "1", "--max-restarts", "3", "--within", "60",
                                                      "--crash-after-ms", "0"}},
                                10s);
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(check_runtime_error(run, "lesson03").find("restarts") != std::string::npos);
    CHECK(run.events_named("fork").size() == 4);  // the first worker and 3 replacements
    CHECK(run.events_named("exit").size() == 4);
    CHECK(run.left_behind.empty());
}

TEST_CASE("when the primary is killed with SIGKILL its workers exit within a second", "[03][orphans]") {
    Program primary("lesson03", {.args = {"--workers", "3"}});
    const auto pids = wait_online(primary, 3);
    primary.send_signal(SIGKILL);
    REQUIRE(primary.wait_exit().has_value());
    for (const auto& [id, pid] : pids) {
        INFO("worker " << id << ", pid " << pid);
        CHECK(wait_until_gone(pid, 1s));
    }
}

TEST_CASE("twenty workers killed at once are all replaced and none is left a zombie", "[03][reap]") {
    Program primary("lesson03", {.args = {"--workers", "20", "--max-restarts", "40"}});
    const auto old_pids = wait_online(primary, 20);
    for (const auto& [id, pid] : old_pids) REQUIRE(signal_descendant(pid, SIGKILL));

    const auto new_pids = wait_online(primary, 20);
    INFO(primary.transcript());
    REQUIRE(new_pids.size() == 20);
    std::set<pid_t> exited;
    for (const auto& exit : primary.events_named("exit")) exited.insert(static_cast<pid_t>(exit.number("pid")));
    for (const auto& [id, pid] : old_pids) {
        INFO("worker " << id << ", old pid " << pid);
        CHECK(exited.contains(pid));
        CHECK(new_pids.at(id) != pid);
    }
    const auto workers = descendants_of(primary.pid());
    INFO("processes under the primary: " << describe(workers));
    CHECK(workers.size() == 20);
    CHECK(std::ranges::none_of(workers, [](const ProcessInfo& process) { return process.is_zombie(); }));
    stop_cleanly(primary);
}

TEST_CASE("a worker program that cannot be run is a one-line error naming it, exit 1", "[03][errors]") {
    const auto run = run_to_end("lesson03", {.args = {"--workers", "2", "--exec", "/no/such/worker"}});
    INFO(run.transcript());
    CHECK(check_runtime_error(run, "lesson03").find("/no/such/worker") != std::string::npos);
    CHECK(run.events_named("fork").empty());
    CHECK(run.left_behind.empty());
}
