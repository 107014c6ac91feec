// Lesson 03's autograder: the contract of `lesson03` (lessons/03-exit-handling/README.md): replace dead
// workers, tell an exit code from a signal, stop on SIGTERM/SIGINT without replacing anyone, end a crash
// loop, leave no orphan when the primary is killed, and reap every death however many come at once.
#include "catch.hpp"

#include "checks.hpp"
#include "program.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <unistd.h>
#include <vector>

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

// How many of the seed's "P bit the dust" lines the primary has printed.
long seed_lines(const Program& program) {
    return std::ranges::count_if(program.stdout_lines(), [](const Line& line) { return line.text.ends_with(" bit the dust"); });
}

// The index of the first stdout line equal to `text`, or -1.
long index_of_line(const Program& program, const std::string& text) {
    const auto& lines = program.stdout_lines();
    const auto found = std::ranges::find(lines, text, &Line::text);
    return found == lines.end() ? -1 : static_cast<long>(found - lines.begin());
}

// The index of the first event `name` with the given pid, or -1.
long index_of_event(const Program& program, std::string_view name, long long pid) {
    const auto& lines = program.stdout_lines();
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto event = Event::parse(lines[i].text);
        if (event && event->name == name && event->has("pid") && event->number("pid") == pid) return static_cast<long>(i);
    }
    return -1;
}

// How many lines strictly between indexes `from` and `to` the primary printed itself: every line but the
// workers' own "worker" lines, which share the primary's stdout and so may fall anywhere.
long primary_lines_between(const Program& program, long from, long to) {
    const auto& lines = program.stdout_lines();
    long count = 0;
    for (long i = std::max(from + 1, 0L); i < std::min(to, static_cast<long>(lines.size())); ++i) {
        const auto event = Event::parse(lines[static_cast<std::size_t>(i)].text);
        if (!event || event->name != "worker") ++count;
    }
    return count;
}

// Reads lines until `count` lines start with `prefix` (or the deadline, or end-of-file); true if they came.
bool wait_for_lines(Program& program, std::string_view prefix, long count) {
    const auto lines_so_far = [&] {
        return std::ranges::count_if(program.stdout_lines(), [&](const Line& line) { return line.text.starts_with(prefix); });
    };
    while (lines_so_far() < count && program.next_line()) {
    }
    return lines_so_far() >= count;
}

// Runs lesson03 to its end, as run_to_end() does, but stops waiting as soon as it has forked more than `most`
// workers: a primary that restarts more often than the test allows has broken its restart limit already, and
// would go on forking until the deadline.
Run run_forking_at_most(Launch launch, std::size_t most, std::chrono::milliseconds deadline = default_deadline) {
    Program primary("lesson03", std::move(launch));
    Run run;
    run.pid = primary.pid();
    run.number = primary.record_number();
    const auto forks = [&] { return primary.events_named("fork").size(); };
    while (forks() <= most && primary.next_line(deadline)) {
    }
    if (forks() <= most) {
        run.status = primary.wait_exit(deadline);
        run.gave_up = primary.gave_up();
        if (run.status) run.left_behind = primary.left_behind();
    } else {
        run.gave_up = "stopped waiting after fork number " + std::to_string(most + 1) + ": the test allows " +
                      std::to_string(most);
    }
    primary.teardown();
    for (const auto& line : primary.stdout_lines()) run.stdout_lines.push_back(line.text);
    run.stderr_text = primary.stderr_text();
    return run;
}

// Waits for the primary to exit after a stop signal, but gives up as soon as it forks a worker: a primary that
// replaces workers during a stop has broken the stop already, and may fork on until the deadline. Only for a
// stop that no death came before (a replacement started earlier may print its fork line after the signal).
std::optional<clusterkit::WaitStatus> wait_exit_forking_none(Program& primary) {
    const auto forks = [&] { return primary.events_named("fork").size(); };
    const auto forks_before = forks();
    while (forks() == forks_before && primary.next_line()) {
    }
    if (forks() != forks_before) return std::nullopt;
    return primary.wait_exit();
}

// Whether a worker may have died before the stop signal without its replacement's fork line read yet.
enum class Deaths { all_replaced, may_be_in_flight };

// Stops the primary with SIGTERM and requires a clean exit 0. When every death so far has been replaced (its
// fork line read), a fork after the signal is a replacement during the stop: the wait gives up on it.
void stop_cleanly(Program& program, Deaths deaths = Deaths::all_replaced) {
    program.send_signal(SIGTERM);
    const auto status = deaths == Deaths::all_replaced ? wait_exit_forking_none(program) : program.wait_exit();
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
    // The seed's line, whenever it comes (its moment, before the replacement's lines, is another test's).
    CHECK(wait_for_lines(primary, std::to_string(pids.at(2)) + " bit the dust", 1));
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
        stop_cleanly(primary, Deaths::may_be_in_flight);
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
        stop_cleanly(primary, Deaths::may_be_in_flight);
    }
}

TEST_CASE("SIGTERM or SIGINT to the primary stops every worker, replaces none, and exits 0", "[03][stop]") {
    const int signal = GENERATE(SIGTERM, SIGINT);
    Program primary("lesson03", {.args = {"--workers", "3"}});
    wait_online(primary, 3);
    primary.send_signal(signal);
    const auto status = wait_exit_forking_none(primary);
    primary.read_to_end();
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    CHECK(primary.events_named("fork").size() == 3);
    const auto exits = primary.events_named("exit");
    CHECK(exits.size() == 3);
    for (const auto& exit : exits) {  // lesson03-worker does not handle SIGTERM: it dies of it
        INFO(exit.to_string());
        CHECK(exit.text("signal") == "SIGTERM");
    }
    CHECK(seed_lines(primary) == 0);  // a deliberate stop is not a crash
    CHECK(primary.events_named("done").size() == 1);
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
    const auto status = wait_exit_forking_none(primary);
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    const auto exits = primary.events_named("exit");
    CHECK(exits.size() == 2);
    for (const auto& exit : exits) CHECK(exit.text("signal") == "SIGKILL");
    CHECK(primary.left_behind().empty());
}

TEST_CASE("a crash loop ends: one restart more than --max-restarts within the window exits 1", "[03][crash-loop]") {
    const auto run = run_forking_at_most({.args = {"--workers", "1", "--max-restarts", "3", "--within", "60",
                                                   "--crash-after-ms", "0"}},
                                         4, 10s);
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

TEST_CASE("a death is told in order: its exit line, then the seed's \"P bit the dust\", then the replacement's fork "
          "and online",
          "[03][respawn]") {
    Program primary("lesson03", {.args = {"--workers", "2"}});
    const auto pids = wait_online(primary, 2);
    REQUIRE(signal_descendant(pids.at(1), SIGKILL));
    const auto replacement = primary.wait_for_event("online");
    INFO(primary.transcript());
    REQUIRE(replacement.has_value());
    CHECK(replacement->number("id") == 1);
    CHECK(primary.events_named("done").empty());  // done comes only after a stop
    stop_cleanly(primary);
    primary.read_to_end();
    INFO(primary.transcript());
    const long exit = index_of_event(primary, "exit", pids.at(1));
    const long seed = index_of_line(primary, std::to_string(pids.at(1)) + " bit the dust");
    const long fork = index_of_event(primary, "fork", replacement->number("pid"));
    const long online = index_of_event(primary, "online", replacement->number("pid"));
    CHECK(exit >= 0);
    CHECK(seed > exit);
    CHECK(fork > seed);
    CHECK(online > fork);
    CHECK(primary_lines_between(primary, fork, online) == 0);  // online comes right after the fork line
    CHECK(seed_lines(primary) == 1);
}

TEST_CASE("a worker that exits with code 0 is replaced too, like any other death", "[03][respawn]") {
    // The test child exits 0 at once: every worker dies that way, so the second restart is refused.
    const auto run = run_forking_at_most({.args = {"--workers", "1", "--max-restarts", "1", "--exec",
                                                   test_child_path().string(), "--", "exit-code", "0"}},
                                         2);
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    const auto exits = run.events_named("exit");
    CHECK(exits.size() == 2);
    for (const auto& exit : exits) CHECK(exit.text("code") == "0");
    const auto forks = run.events_named("fork");
    REQUIRE(forks.size() == 2);
    CHECK(forks.back().number("id") == 1);
    CHECK(forks.back().number("pid") != forks.front().number("pid"));
    CHECK(run.status_is_code(1));
}

TEST_CASE("during a stop a worker that ignores SIGTERM lives on until the grace period ends", "[03][stop]") {
    // Worker 1 ignores SIGTERM and exits with code 7 on SIGUSR1; worker 2 dies of SIGTERM. Worker 2's exit
    // line comes after the primary has finished starting the stop: a worker 1 killed early is doomed by then,
    // and would say signal=SIGKILL. The test ends worker 1 long before the 60 s grace period is over.
    Program primary("lesson03", {.args = {"--workers", "2", "--grace-ms", "60000", "--exec", test_child_path(), "--",
                                          "if-id", "1", "ignore-sigterm", "on-sigusr1-exit", "7", "print-args",
                                          "forever"}});
    const auto pids = wait_online(primary, 2);
    REQUIRE(wait_for_lines(primary, "child ", 2));  // both workers have set up their signals
    primary.send_signal(SIGTERM);
    const auto first_exit = primary.wait_for_event("exit");
    INFO(primary.transcript());
    REQUIRE(first_exit.has_value());
    CHECK(first_exit->number("id") == 2);
    CHECK(first_exit->text("signal") == "SIGTERM");
    REQUIRE(signal_descendant(pids.at(1), SIGUSR1));
    const auto status = primary.wait_exit();
    primary.read_to_end();
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    const long first = index_of_event(primary, "exit", pids.at(1));
    REQUIRE(first >= 0);
    const auto exit = Event::parse(primary.stdout_lines()[static_cast<std::size_t>(first)].text);
    CHECK(exit->text("code") == "7");
    CHECK_FALSE(exit->has("signal"));
    CHECK(primary.events_named("fork").size() == 2);
    CHECK(primary.stdout_lines().back().text == "done");
}

TEST_CASE("a second SIGTERM or SIGINT during a stop kills the remaining workers at once", "[03][stop]") {
    // Worker 1 ignores SIGTERM; worker 2 dies of it, and its exit line shows that the stop has begun. The
    // second signal must not wait for the 60 s grace period.
    const int second = GENERATE(SIGTERM, SIGINT);
    Program primary("lesson03", {.args = {"--workers", "2", "--grace-ms", "60000", "--exec", test_child_path(), "--",
                                          "if-id", "1", "ignore-sigterm", "print-args", "forever"}});
    const auto pids = wait_online(primary, 2);
    REQUIRE(wait_for_lines(primary, "child ", 2));  // both workers have set up their signals
    primary.send_signal(SIGTERM);
    std::optional<Event> exit;
    while ((exit = primary.wait_for_event("exit")) && exit->number("pid") != pids.at(2)) {
    }
    INFO(primary.transcript());
    REQUIRE(exit.has_value());
    primary.send_signal(second);
    const auto status = wait_exit_forking_none(primary);  // 5 s at most, far less than the grace period
    primary.read_to_end();
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    // A stop that had already ended (done printed) when the second signal came had nothing left to kill: the
    // signal may then end the primary itself. Which comes first is a race the test cannot decide.
    const auto& lines = primary.stdout_lines();
    const bool ended_before_it = status->killed_by_signal && status->signal == second && !lines.empty() &&
                                 lines.back().text == "done";
    if (!ended_before_it) CHECK(status->describe() == "exited with code 0");
    const long first = index_of_event(primary, "exit", pids.at(1));
    REQUIRE(first >= 0);
    CHECK(Event::parse(primary.stdout_lines()[static_cast<std::size_t>(first)].text)->text("signal") == "SIGKILL");
    CHECK(primary.stdout_lines().back().text == "done");
}

TEST_CASE("a crash loop stops the other workers with SIGTERM, then prints done and exits 1", "[03][crash-loop]") {
    // Worker 1 exits with code 3 at once, every time; worker 2 serves until a signal ends it.
    const auto run = run_forking_at_most({.args = {"--workers", "2", "--max-restarts", "2", "--exec",
                                                   test_child_path().string(), "--", "exit-code-by-id", "3", "forever"}},
                                         4);
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(1));
    std::vector<Event> first, second;
    for (const auto& exit : run.events_named("exit")) (exit.number("id") == 1 ? first : second).push_back(exit);
    CHECK(first.size() == 3);  // the first worker 1 and its 2 replacements
    for (const auto& exit : first) CHECK(exit.text("code") == "3");
    REQUIRE(second.size() == 1);
    CHECK(second.front().text("signal") == "SIGTERM");
    const auto errors = run.stderr_lines();
    REQUIRE(errors.size() == 1);
    CHECK(errors.front().starts_with("lesson03: error: "));
    REQUIRE_FALSE(run.stdout_lines.empty());
    CHECK(run.stdout_lines.back() == "done");
    CHECK(run.left_behind.empty());
}

TEST_CASE("a slow crash loop goes on: restarts older than --within seconds no longer count", "[03][crash-loop]") {
    // One restart allowed per second. The test kills the first worker at once: the first restart. Each worker
    // crashes 1 s after it starts, so the second restart comes more than a second after the first, which no
    // longer counts then. The primary must still be replacing workers after the second restart.
    Program primary("lesson03", {.args = {"--workers", "1", "--max-restarts", "1", "--within", "1",
                                          "--crash-after-ms", "1000"}});
    const auto pids = wait_online(primary, 1);
    REQUIRE(signal_descendant(pids.at(1), SIGKILL));
    for (int fork = 2; fork <= 3; ++fork) {
        const auto event = primary.wait_for_event("fork");
        INFO(primary.transcript());
        INFO("fork number " << fork);
        REQUIRE(event.has_value());
    }
    stop_cleanly(primary, Deaths::may_be_in_flight);
    INFO(primary.transcript());
    CHECK(primary.stderr_text().empty());
}

TEST_CASE("a replacement that cannot be started ends the primary like a crash loop, with one error line, the other "
          "workers stopped, done and exit 1",
          "[03][crash-loop]") {
    // The test child lets the primary make two processes: the two workers. Worker 1's replacement cannot be
    // forked (EAGAIN, as in a full process table).
    Program primary("lesson03", {.args = {"--workers", "2"}, .faults = {"forks-allowed", "2"}});
    const auto pids = wait_online(primary, 2);
    REQUIRE(signal_descendant(pids.at(1), SIGKILL));
    const auto status = primary.wait_exit();
    primary.read_to_end();
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 1");
    const auto& errors = primary.stderr_text();
    CHECK(std::ranges::count(errors, '\n') == 1);
    CHECK(errors.starts_with("lesson03: error: "));
    CHECK(primary.events_named("fork").size() == 2);
    const long second = index_of_event(primary, "exit", pids.at(2));
    REQUIRE(second >= 0);
    CHECK(Event::parse(primary.stdout_lines()[static_cast<std::size_t>(second)].text)->text("signal") == "SIGTERM");
    CHECK(primary.stdout_lines().back().text == "done");
    CHECK(primary.left_behind().empty());
}

TEST_CASE("the death signal alone ends workers that never read their stdin when the primary is killed with SIGKILL",
          "[03][orphans]") {
    Program primary("lesson03", {.args = {"--workers", "2", "--exec", test_child_path(), "--", "forever"}});
    const auto pids = wait_online(primary, 2);
    primary.send_signal(SIGKILL);
    REQUIRE(primary.wait_exit().has_value());
    for (const auto& [id, pid] : pids) {
        INFO("worker " << id << ", pid " << pid);
        CHECK(wait_until_gone(pid, 1s));
    }
}

TEST_CASE("the lifeline alone ends workers without a death signal when the primary is killed with SIGKILL",
          "[03][orphans]") {
    // Each worker clears the death signal it inherited, then becomes lesson03-worker: only end-of-file on
    // its stdin can tell it that the primary is gone.
    Program primary("lesson03", {.args = {"--workers", "2", "--exec", test_child_path(), "--", "clear-death-signal",
                                          "exec", program_path("lesson03-worker").string()}});
    const auto pids = wait_online(primary, 2);
    const bool serving = wait_for_lines(primary, "worker ", 2);  // lesson03-worker runs, without a death signal
    INFO(primary.transcript());
    REQUIRE(serving);
    primary.send_signal(SIGKILL);
    REQUIRE(primary.wait_exit().has_value());
    for (const auto& [id, pid] : pids) {
        INFO("worker " << id << ", pid " << pid);
        CHECK(wait_until_gone(pid, 1s));
    }
}

TEST_CASE("a worker whose primary dies before its death signal is set gives up at once instead of running on",
          "[03][orphans]") {
    // The test child holds the new worker's prctl(PR_SET_PDEATHSIG) ("held pid=W") until the primary has
    // been killed: the death signal comes too late, so the worker must see that its parent has changed.
    // The worker program never reads its stdin.
    Program primary("lesson03", {.args = {"--workers", "1", "--exec", test_child_path(), "--", "forever"},
                                 .faults = {"hold-death-signal"}});
    const auto started = primary.wait_for_event("primary");
    const auto held = primary.wait_for_event("held");
    INFO(primary.transcript());
    REQUIRE(started.has_value());
    REQUIRE(held.has_value());
    REQUIRE(signal_descendant(static_cast<pid_t>(started->number("pid")), SIGKILL));
    REQUIRE(primary.wait_exit().has_value());
    CHECK(wait_until_gone(static_cast<pid_t>(held->number("pid")), 1s));
}

TEST_CASE("an --exec directory is an error that names it, exit 1, and no worker is started", "[03][errors]") {
    // No process may be made at all (the test child makes every fork fail): the check comes first.
    const char* tmp = std::getenv("TMPDIR");
    const std::string dir = tmp && *tmp ? tmp : "/tmp";
    const auto run = run_to_end("lesson03", {.args = {"--workers", "2", "--exec", dir}, .faults = {"forks-allowed", "0"}});
    INFO(run.transcript());
    CHECK(run.status_is_code(1));
    const auto errors = run.stderr_lines();
    REQUIRE(errors.size() == 1);
    CHECK(errors.front().starts_with("lesson03: error: "));
    CHECK(errors.front().find(dir) != std::string::npos);
    CHECK(run.events_named("fork").empty());
    CHECK(run.left_behind.empty());
}

TEST_CASE("a bad command line is a usage error: exit 2, one error line, no worker", "[03][usage]") {
    const auto bad_command_line = GENERATE(as<std::vector<std::string>>{},
                                           std::vector<std::string>{"--workers", "0"},
                                           std::vector<std::string>{"--max-restarts", "-1"},
                                           std::vector<std::string>{"--within", "0"},
                                           std::vector<std::string>{"--grace-ms", "x"},
                                           std::vector<std::string>{"--crash-after-ms", "-5"},
                                           std::vector<std::string>{"--crash-code", "256"},
                                           std::vector<std::string>{"--wrokers", "2"},
                                           std::vector<std::string>{"extra"});
    const auto run = run_to_end("lesson03", {.args = bad_command_line});
    INFO(run.transcript());
    check_usage_error(run, "lesson03");
}
