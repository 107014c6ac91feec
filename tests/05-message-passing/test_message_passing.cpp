// Lesson 05's autograder: the contract of `lesson05` (lessons/05-message-passing/README.md, listed with its
// tests and mutants in contract.json): a work queue over message channels whose answer is right however many
// workers share it, messages framed so that 1 MiB arrives whole, no task lost when a worker dies or sends
// garbage, and a `shutdown` broadcast that ends every worker with code 0, at the end of a run and on SIGTERM.
//
// The answers are computed here, independently of the lesson's code: a sieve counts the primes, and the
// payload and its FNV-1a checksum follow the lesson text. Faults are made to happen, never waited for: the
// test child (tests/support/child_channel.cpp) stands in for lesson05-worker (--exec) and dies, holds a task,
// answers late, ignores shutdown or sends a broken frame exactly when a test needs it.
#include "catch.hpp"

#include "checks.hpp"
#include "program.hpp"

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <sys/wait.h>
#include <vector>

using namespace clusterkit::testing;
using clusterkit::Event;

namespace {

// The number of primes in [from, to), by the sieve of Eratosthenes.
long long primes_in(long long from, long long to) {
    std::vector<bool> composite(static_cast<std::size_t>(std::max(to, 2LL)), false);
    long long count = 0;
    for (long long n = 2; n < to; ++n) {
        if (composite[static_cast<std::size_t>(n)]) continue;
        if (n >= from) ++count;
        for (long long m = n * n; m < to; m += n) composite[static_cast<std::size_t>(m)] = true;
    }
    return count;
}

// The checksum lesson05 must print for task J's payload of `bytes` bytes: byte i is 'a' + (i + J) % 26,
// hashed with 64-bit FNV-1a, as 16 hex digits.
std::string payload_checksum(long long task, std::size_t bytes) {
    std::uint64_t hash = 14695981039346656037ULL;
    for (std::size_t i = 0; i < bytes; ++i) {
        hash ^= static_cast<unsigned char>('a' + (i + static_cast<std::size_t>(task)) % 26);
        hash *= 1099511628211ULL;
    }
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
    return text;
}

constexpr std::size_t mib = 1024 * 1024;

std::vector<std::string> args(int workers, int tasks, long long task_size, std::vector<std::string> more = {}) {
    std::vector<std::string> all{"--workers", std::to_string(workers), "--tasks", std::to_string(tasks),
                                 "--task-size", std::to_string(task_size)};
    all.insert(all.end(), more.begin(), more.end());
    return all;
}

// lesson05 with the test child as every worker, behaving as `spec` says (child_channel.cpp); `per_id` gives
// worker I a spec of its own.
Launch with_child(std::vector<std::string> arguments, const std::string& spec,
                  const std::map<int, std::string>& per_id = {}) {
    arguments.push_back("--exec");
    arguments.push_back(test_child_path().string());
    Launch launch{.args = std::move(arguments)};
    launch.environment.emplace_back("CLUSTERKIT_TEST_CHILD_STEPS", "channel05 " + spec);
    for (const auto& [id, its_spec] : per_id)
        launch.environment.emplace_back("CLUSTERKIT_TEST_CHILD_STEPS_" + std::to_string(id), "channel05 " + its_spec);
    return launch;
}

std::vector<Event> named(const std::vector<Event>& events, std::string_view name) {
    std::vector<Event> found;
    for (const auto& event : events)
        if (event.name == name) found.push_back(event);
    return found;
}

long count_named(const std::vector<Event>& events, std::string_view name) {
    return std::ranges::count_if(events, [&](const Event& event) { return event.name == name; });
}

// Where the first event matching `match` is in `events`; -1 if none.
template <typename Match>
long position(const std::vector<Event>& events, Match match) {
    const auto found = std::ranges::find_if(events, match);
    return found == events.end() ? -1 : static_cast<long>(found - events.begin());
}

// Every task 1..T reported by exactly one `message` line with the right count, and the right `answer`.
void check_answer(const std::vector<Event>& events, int tasks, long long task_size) {
    std::map<long long, int> reports;
    for (const auto& event : named(events, "message")) {
        const auto task = event.number("task");
        ++reports[task];
        INFO("task " << task);
        CHECK(event.number("result") == primes_in((task - 1) * task_size, task * task_size));
    }
    for (int task = 1; task <= tasks; ++task) {
        INFO("task " << task << " must be reported once");
        CHECK(reports[task] == 1);
    }
    CHECK(reports.size() == static_cast<std::size_t>(tasks));
    const auto answers = named(events, "answer");
    REQUIRE(answers.size() == 1);
    CHECK(answers.front().number("primes") == primes_in(0, tasks * task_size));
}

// A clean end: `done` last, every worker that was forked has exited, and nothing is left behind.
void check_clean_end(const Run& run) {
    REQUIRE_FALSE(run.stdout_lines.empty());
    CHECK(run.stdout_lines.back() == "done");
    CHECK(run.events_named("exit").size() == run.events_named("fork").size());
    INFO("left behind: " << describe(run.left_behind));
    CHECK(run.left_behind.empty());
}

// The same for a Program the test has waited for.
void check_clean_end(const Program& program) {
    REQUIRE_FALSE(program.stdout_lines().empty());
    CHECK(program.stdout_lines().back().text == "done");
    CHECK(program.events_named("exit").size() == program.events_named("fork").size());
    const auto left = program.left_behind();
    INFO("left behind: " << describe(left));
    CHECK(left.empty());
}

std::vector<Event> events_of(const Program& program) {
    std::vector<Event> found;
    for (const auto& line : program.stdout_lines())
        if (auto event = Event::parse(line.text)) found.push_back(*event);
    return found;
}

// Stops the program with SIGTERM and waits for it to end and for its output.
std::optional<clusterkit::WaitStatus> stop_and_wait(Program& program,
                                                    std::chrono::milliseconds deadline = default_deadline) {
    program.send_signal(SIGTERM);
    const auto status = program.wait_exit(deadline);
    program.read_to_end();
    return status;
}

// The test child's lines about worker process `pid`, `child-got ...`, in order.
std::vector<Event> child_got(const std::vector<Event>& events, long long pid) {
    std::vector<Event> found;
    for (const auto& event : named(events, "child-got"))
        if (event.number("pid") == pid) found.push_back(event);
    return found;
}

// The worker processes that ended with a signal, and which signal.
std::vector<std::string> death_signals(const std::vector<Event>& events) {
    std::vector<std::string> signals;
    for (const auto& exit : named(events, "exit"))
        if (exit.has("signal")) signals.push_back(exit.text("signal"));
    return signals;
}

// Checks one `error: worker I sent a malformed message: ...` line on stderr, the broken worker killed with
// SIGKILL and replaced under its id, and the right answer; returns the id.
void check_malformed_run(const Run& run, int tasks, long long task_size) {
    REQUIRE(run.status.has_value());
    const auto error = check_runtime_error(run, "lesson05");  // the run completes, but a worker broke the protocol
    const std::string prefix = "lesson05: error: worker ";
    REQUIRE(error.starts_with(prefix));
    const auto id = std::stoll(error.substr(prefix.size()));
    CHECK(error.find(" sent a malformed message: ") != std::string::npos);
    const auto forks = run.events_named("fork");
    REQUIRE(forks.size() >= 2);
    const auto broken = std::ranges::find_if(forks, [&](const Event& fork) { return fork.number("id") == id; });
    REQUIRE(broken != forks.end());
    const auto exits = run.events_named("exit");
    const auto its_exit = std::ranges::find_if(exits, [&](const Event& exit) { return exit.number("pid") == broken->number("pid"); });
    REQUIRE(its_exit != exits.end());
    CHECK(its_exit->has("signal"));
    if (its_exit->has("signal")) CHECK(its_exit->text("signal") == "SIGKILL");
    CHECK(forks.back().number("id") == id);  // replaced under the same id
    CHECK(forks.back().number("pid") != broken->number("pid"));
    check_answer(run.events(), tasks, task_size);
    check_clean_end(run);
}

}  // namespace

TEST_CASE("the combined answer of T tasks shared by N workers is the single-process count of primes",
          "[05][answer]") {
    const auto [workers, tasks] = GENERATE(table<int, int>({{1, 1}, {2, 7}, {3, 20}, {4, 2}}));
    const auto run = run_to_end("lesson05", {.args = args(workers, tasks, 5000)});
    INFO("--workers " << workers << " --tasks " << tasks << "\n" << run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(0));
    CHECK(run.stderr_text.empty());
    const auto events = run.events();
    REQUIRE_FALSE(events.empty());
    CHECK(events.front().name == "primary");
    CHECK(events.front().number("workers") == workers);
    CHECK(events.front().number("tasks") == tasks);
    CHECK(run.events_named("fork").size() == static_cast<std::size_t>(workers));
    // Each worker says who it is when it starts, and its online message arrives (the moment: another test's).
    for (const auto& fork : run.events_named("fork")) {
        const auto pid = fork.number("pid");
        INFO("worker " << pid);
        CHECK(position(events, [&](const Event& e) { return e.name == "worker" && e.number("pid") == pid; }) >= 0);
        CHECK(position(events, [&](const Event& e) { return e.name == "online" && e.number("pid") == pid; }) >= 0);
    }
    check_answer(events, tasks, 5000);
    check_clean_end(run);
}

TEST_CASE("a 1 MiB message goes through a 64 KiB pipe intact, to the worker and back", "[05][framing]") {
    const auto run = run_to_end("lesson05", {.args = args(2, 4, 1000, {"--echo-bytes", std::to_string(mib)})});
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(0));
    CHECK(run.stderr_text.empty());
    const auto messages = run.events_named("message");
    REQUIRE(messages.size() == 4);
    for (const auto& message : messages) {
        INFO(message.to_string());
        CHECK(message.number("bytes") == static_cast<long long>(mib));
        CHECK(message.text("checksum") == payload_checksum(message.number("task"), mib));
    }
    check_answer(run.events(), 4, 1000);
    check_clean_end(run);
}

TEST_CASE("a worker that dies in the middle of a task is replaced under the same id and no task is lost",
          "[05][lost-task]") {
    // One worker, so that its replacement must do the tasks that are left, and so say online before the end,
    // however fast or slow it starts (with two, the other one may finish them all first).
    const auto run = run_to_end("lesson05", {.args = args(1, 8, 5000, {"--die-on-task", "3"})});
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(0));
    const auto events = run.events();
    const auto exits = run.events_named("exit");
    const auto aborted = std::ranges::find_if(exits, [](const Event& exit) { return exit.has("signal"); });
    REQUIRE(aborted != exits.end());
    CHECK(aborted->text("signal") == "SIGABRT");
    CHECK(death_signals(events).size() == 1);  // the retry of task 3 succeeds
    // The replacement: a second fork, with the dead worker's id and a new pid; exit, fork, online in that order.
    const auto forks = run.events_named("fork");
    REQUIRE(forks.size() == 2);
    const auto id = aborted->number("id");
    const auto replacement = forks.back().number("pid");
    CHECK(forks.back().number("id") == id);
    CHECK(replacement != aborted->number("pid"));
    const auto exited = position(events, [&](const Event& e) { return e.name == "exit" && e.has("signal"); });
    const auto forked = position(events, [&](const Event& e) { return e.name == "fork" && e.number("pid") == replacement; });
    const auto online = position(events, [&](const Event& e) { return e.name == "online" && e.number("pid") == replacement; });
    CHECK(exited < forked);
    CHECK(forked < online);
    const auto its_online = named(events, "online");
    CHECK(std::ranges::any_of(its_online, [&](const Event& e) { return e.number("pid") == replacement && e.number("id") == id; }));
    check_answer(events, 8, 5000);
    check_clean_end(run);
}

TEST_CASE("the task of a worker that died goes back to the front of the queue: it is the next one done",
          "[05][lost-task]") {
    // One worker, so that the order of the results is the order in which the tasks were handed out.
    const auto run = run_to_end("lesson05", {.args = args(1, 5, 2000, {"--die-on-task", "2"})});
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(0));
    std::vector<long long> order;
    for (const auto& message : run.events_named("message")) order.push_back(message.number("task"));
    CHECK(order == std::vector<long long>{1, 2, 3, 4, 5});
    check_answer(run.events(), 5, 2000);
    check_clean_end(run);
}

TEST_CASE("a worker killed with SIGKILL while it works on a task loses no task", "[05][lost-task]") {
    // The test child that first gets task 2 is killed with SIGKILL as soon as it has read it: it can send nothing
    // more, and the primary writes nothing more to it, whenever the kill lands (killed from outside after some
    // result, the worker might be sent its next task before or after its death). One worker, so that its
    // replacement must do the tasks that are left, and so is online before the end.
    const auto run = run_to_end("lesson05", with_child(args(1, 6, 5000), "sigkill-on=2"));
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(0));
    const auto events = run.events();
    CHECK(death_signals(events) == std::vector<std::string>{"SIGKILL"});
    CHECK(count_named(events, "fork") == 2);  // replaced
    check_answer(events, 6, 5000);
    check_clean_end(run);
}

TEST_CASE("a result written just before its worker died is counted once, and its task is not done again",
          "[05][lost-task]") {
    // The worker dies with its result still unwritten; the test lets a process of the worker's write it only after
    // the primary has printed the worker's exit: the exit comes first, the result after it.
    Program primary("lesson05", with_child(args(1, 1, 3000), "late"));
    const auto late = primary.wait_for_event("child-late");
    INFO(primary.transcript());
    REQUIRE(late.has_value());
    const auto exit = primary.wait_for_event("exit");
    INFO(primary.transcript());
    REQUIRE(exit.has_value());
    const auto holder = static_cast<pid_t>(late->number("pid"));
    REQUIRE(signal_descendant(holder, SIGUSR1));
    const auto status = primary.wait_exit();
    primary.read_to_end();
    INFO(primary.transcript());
    // The test made the holder an orphan, so it is the test's child now (a subreaper's): reap it here.
    if (wait_until_gone(holder)) ::waitpid(holder, nullptr, 0);
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    CHECK(primary.stderr_text().empty());
    const auto events = events_of(primary);
    check_answer(events, 1, 3000);
    CHECK(named(events, "message").front().number("from") == 1);
    // Handed out once: no replacement was needed, and nobody got task 1 a second time.
    CHECK(count_named(events, "fork") == 1);
    CHECK(count_named(events, "child-got") == 1);
    check_clean_end(primary);
}

TEST_CASE("a task that has ended 3 workers is poison: one error line, every worker stopped, exit 1",
          "[05][lost-task]") {
    // Every attempt of every task kills its worker: task 1 ends three, and the run gives up before task 2.
    const auto run = run_to_end("lesson05", with_child(args(1, 2, 1000), "die-upto=99"));
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    check_runtime_error(run, "lesson05");
    const auto events = run.events();
    CHECK(death_signals(events) == std::vector<std::string>(3, "SIGABRT"));
    std::vector<long long> handed_out;
    for (const auto& got : named(events, "child-got"))
        if (got.text("type") == "task") handed_out.push_back(got.number("task"));
    CHECK(handed_out == std::vector<long long>{1, 1, 1});
    CHECK(count_named(events, "answer") == 0);
    check_clean_end(run);
}

TEST_CASE("a task that has ended 2 workers is handed out a third time, and its answer counts", "[05][lost-task]") {
    const auto run = run_to_end("lesson05", with_child(args(1, 2, 1000), "die-upto=2"));
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(0));
    CHECK(run.stderr_text.empty());
    const auto events = run.events();
    CHECK(death_signals(events) == std::vector<std::string>(4, "SIGABRT"));  // two per task
    check_answer(events, 2, 1000);
    check_clean_end(run);
}

TEST_CASE("with --max-restarts R the primary replaces R workers in a run and gives up at the next one", "[05][lost-task]") {
    // Each task's first attempt kills its worker: three tasks, three replacements needed.
    const auto [max_restarts, enough] = GENERATE(table<int, bool>({{3, true}, {2, false}, {0, false}}));
    const auto run = run_to_end(
        "lesson05", with_child(args(1, 3, 1000, {"--max-restarts", std::to_string(max_restarts)}), "die-upto=1"));
    INFO("--max-restarts " << max_restarts << "\n" << run.transcript());
    REQUIRE(run.status.has_value());
    const auto events = run.events();
    if (enough) {
        CHECK(run.status_is_code(0));
        CHECK(run.stderr_text.empty());
        CHECK(count_named(events, "fork") == 4);
        check_answer(events, 3, 1000);
    } else {
        check_runtime_error(run, "lesson05");
        CHECK(count_named(events, "fork") == max_restarts + 1);
        CHECK(count_named(events, "answer") == 0);
    }
    check_clean_end(run);
}

TEST_CASE("a worker that sends a malformed message is reported in one line, stopped and replaced, and the "
          "answer is still right",
          "[05][malformed]") {
    const auto run = run_to_end("lesson05", {.args = args(2, 6, 5000, {"--garble-on-task", "2"})});
    INFO(run.transcript());
    check_malformed_run(run, 6, 5000);
}

TEST_CASE("every kind of frame that is not a message of the protocol is reported, and its worker killed and "
          "replaced",
          "[05][malformed]") {
    const auto kind = GENERATE(as<std::string>{}, "not-json", "not-object", "no-type", "unknown-type", "other-task");
    const auto run = run_to_end("lesson05", with_child(args(1, 3, 1000), "bad=" + kind));
    INFO("the worker answers task 1 with a frame that is " << kind << "\n" << run.transcript());
    check_malformed_run(run, 3, 1000);
}

TEST_CASE("a frame longer than 16 MiB is malformed: its worker is killed and replaced", "[05][malformed]") {
    const auto run = run_to_end("lesson05", with_child(args(1, 2, 1000), "bad=huge"));
    INFO(run.transcript());
    check_malformed_run(run, 2, 1000);
}

TEST_CASE("two frames that arrive in one read are two messages: a result and a broken frame written together",
          "[05][framing]") {
    const auto run = run_to_end("lesson05", with_child(args(1, 3, 1000), "bad=result-then-garbage"));
    INFO(run.transcript());
    check_malformed_run(run, 3, 1000);  // task 1's result counts once: its task is not done again
}

TEST_CASE("each worker has one task at a time: the next only after it has answered", "[05][queue]") {
    // Both workers keep their first task unanswered until shutdown: a primary that hands out a second task to a
    // busy worker shows it here, and the channel's order makes it arrive before the shutdown.
    Program primary("lesson05", with_child(args(2, 5, 1000), "hold"));
    for (int i = 0; i < 2; ++i) {
        const auto got = primary.wait_for_event("child-got");
        INFO(primary.transcript());
        REQUIRE(got.has_value());
    }
    const auto status = stop_and_wait(primary);
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    const auto events = events_of(primary);
    for (const auto& start : named(events, "child-start")) {
        const auto got = child_got(events, start.number("pid"));
        INFO("worker " << start.number("pid"));
        REQUIRE(got.size() == 2);
        CHECK(got[0].text("type") == "task");
        CHECK(got[1].text("type") == "shutdown");
    }
}

TEST_CASE("SIGTERM sends each worker a shutdown message after its task, and the result it then sends is printed",
          "[05][shutdown]") {
    Program primary("lesson05", with_child(args(2, 5, 1000), "hold"));
    // Both workers hold a task when SIGTERM comes: a child-got line from each (two lines of one worker would
    // leave the moment of the other's first task to chance).
    std::set<long long> holding;
    while (holding.size() < 2) {
        const auto got = primary.wait_for_event("child-got");
        INFO(primary.transcript());
        REQUIRE(got.has_value());
        holding.insert(got->number("id"));
    }
    const auto status = stop_and_wait(primary);
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    CHECK(primary.stderr_text().empty());
    const auto events = events_of(primary);
    const auto messages = named(events, "message");
    CHECK(messages.size() == 2);  // the two held tasks, answered after the shutdown
    for (const auto& message : messages)
        CHECK(message.number("result") == primes_in((message.number("task") - 1) * 1000, message.number("task") * 1000));
    CHECK(count_named(events, "answer") == 0);
    for (const auto& exit : named(events, "exit")) CHECK(exit.text("code") == "0");
    check_clean_end(primary);
}

TEST_CASE("a worker that has not said online gets no online line and no task, and still gets the shutdown message",
          "[05][shutdown]") {
    // Worker 2 never says online: worker 1 does every task, then both are sent shutdown.
    const auto run = run_to_end("lesson05", with_child(args(2, 3, 1000, {"--grace-ms", "1000"}), "normal",
                                                       {{2, "silent"}}));
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(0));
    const auto events = run.events();
    for (const auto& online : named(events, "online")) CHECK(online.number("id") == 1);
    const auto forks = named(events, "fork");
    const auto silent = std::ranges::find_if(forks, [](const Event& e) { return e.number("id") == 2; });
    REQUIRE(silent != forks.end());
    const auto got = child_got(events, silent->number("pid"));
    REQUIRE(got.size() == 1);
    CHECK(got.front().text("type") == "shutdown");
    for (const auto& exit : named(events, "exit")) {
        INFO(exit.to_string());
        CHECK(exit.has("code"));
        if (exit.has("code")) CHECK(exit.number("code") == 0);
    }
    check_answer(events, 3, 1000);
    check_clean_end(run);
}

TEST_CASE("at the end a shutdown message to every worker ends each with code 0", "[05][shutdown]") {
    // One worker, online for sure by the end: a worker that is not online yet at the end is another test's.
    const auto run = run_to_end("lesson05", {.args = args(1, 3, 1000)});
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(0));
    const auto events = run.events();
    const auto exits = run.events_named("exit");
    CHECK(exits.size() == 1);
    for (const auto& exit : exits) {
        INFO(exit.to_string());
        CHECK(exit.has("code"));
        CHECK_FALSE(exit.has("signal"));
        if (exit.has("code")) CHECK(exit.number("code") == 0);
    }
    // One line per result, then the answer, then the workers are shut down.
    const auto answer = position(events, [](const Event& e) { return e.name == "answer"; });
    REQUIRE(answer >= 0);
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (events[i].name == "message") CHECK(static_cast<long>(i) < answer);
        if (events[i].name == "exit") CHECK(static_cast<long>(i) > answer);
    }
    check_clean_end(run);
}

TEST_CASE("a worker that ignores the shutdown message is killed with SIGKILL after --grace-ms", "[05][shutdown]") {
    const auto run = run_to_end("lesson05", with_child(args(1, 2, 1000, {"--grace-ms", "300"}), "ignore-shutdown"));
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    const auto events = run.events();
    check_answer(events, 2, 1000);
    const auto got = named(events, "child-got");
    CHECK(std::ranges::any_of(got, [](const Event& e) { return e.text("type") == "shutdown"; }));
    CHECK(death_signals(events) == std::vector<std::string>{"SIGKILL"});
    check_clean_end(run);
}

TEST_CASE("SIGTERM to the primary shuts every worker down with code 0, and the primary exits 0", "[05][shutdown]") {
    // Long tasks; the SIGTERM comes once both workers are computing theirs, so the shutdown message is the only
    // one on its way to them (not one that happens to arrive in the same read as a task: another test's). The
    // grace is long: a task of 2,000,000 numbers may take seconds on a busy machine, and no worker is to be killed.
    Program primary("lesson05", {.args = args(2, 1000, 2'000'000, {"--grace-ms", "60000"})});
    for (int i = 0; i < 2; ++i) {
        const auto online = primary.wait_for_event("online");
        INFO(primary.transcript());
        REQUIRE(online.has_value());
        const auto pid = static_cast<pid_t>(online->number("pid"));
        const auto started = cpu_time_ns(pid);
        REQUIRE(look_until([&] { return cpu_time_ns(pid) - started >= 20'000'000 || process_state(pid) == '\0'; },
                           default_deadline));
    }
    const auto status = stop_and_wait(primary, 60s);
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    const auto events = events_of(primary);
    CHECK(count_named(events, "fork") == 2);
    CHECK(count_named(events, "exit") == 2);
    CHECK(count_named(events, "answer") == 0);  // stopped before the end: no answer
    for (const auto& exit : named(events, "exit")) {
        INFO(exit.to_string());
        CHECK(exit.has("code"));
        if (exit.has("code")) CHECK(exit.number("code") == 0);
    }
    REQUIRE_FALSE(primary.stdout_lines().empty());
    CHECK(primary.stdout_lines().back().text == "done");
    CHECK(primary.stderr_text().empty());
    CHECK(primary.left_behind().empty());
}

TEST_CASE("a worker that reads shutdown while its 1 MiB result is still being written exits only once it is "
          "written whole",
          "[05][shutdown]") {
    // One worker: right after the result of task 1 the primary sends task 2, and the SIGTERM's shutdown comes
    // behind it. The worker reads shutdown while its 1 MiB result is still going out through the 64 KiB pipe.
    // If task 2 finished before the SIGTERM arrived (an `answer` line), the moment was missed: run it again.
    for (int run = 1; run <= 4; ++run) {
        Program primary("lesson05", {.args = args(1, 2, 600000, {"--echo-bytes", std::to_string(mib)})});
        const auto first = primary.wait_for_event("message");
        INFO(primary.transcript());
        REQUIRE(first.has_value());
        const auto status = stop_and_wait(primary);
        INFO(primary.transcript());
        REQUIRE(status.has_value());
        const auto events = events_of(primary);
        if (count_named(events, "answer") > 0) continue;
        CHECK(status->describe() == "exited with code 0");
        const auto messages = named(events, "message");
        REQUIRE(messages.size() == 2);
        CHECK(messages.back().number("task") == 2);
        CHECK(messages.back().number("bytes") == static_cast<long long>(mib));
        CHECK(messages.back().text("checksum") == payload_checksum(2, mib));
        return;
    }
    FAIL("task 2 was answered before the SIGTERM arrived, 4 times in a row");
}

TEST_CASE("a frame queued behind one that is partly written goes out after it, never inside it", "[05][framing]") {
    // Worker 1 reads nothing until SIGUSR1: the primary's 1 MiB task to it stays partly written. The shutdown of a
    // SIGTERM must then wait behind it. Worker 2 reads as usual: once it has its shutdown, the primary has
    // queued worker 1's too. 1 MiB each way per task takes a while on a busy machine: long waits and grace.
    Program primary("lesson05", with_child(args(2, 4, 1000, {"--echo-bytes", std::to_string(mib), "--grace-ms", "60000"}),
                                           "normal", {{1, "slow-reader"}}));
    // Worker 1 says child-pending once its task is in the pipe: the primary has begun to write it.
    const auto pending = primary.wait_for_event("child-pending", 30s);
    INFO(primary.transcript());
    REQUIRE(pending.has_value());
    REQUIRE(pending->number("id") == 1);
    std::map<long long, long long> pids;  // by id (both forks were printed before worker 1 could get a task)
    for (const auto& fork : events_of(primary))
        if (fork.name == "fork") pids[fork.number("id")] = fork.number("pid");
    REQUIRE(pids.size() == 2);
    REQUIRE(pids[1] == pending->number("pid"));
    primary.send_signal(SIGTERM);
    for (;;) {
        const auto got = primary.wait_for_event("child-got", 30s);
        INFO(primary.transcript());
        REQUIRE(got.has_value());
        if (got->number("pid") == pids[2] && got->text("type") == "shutdown") break;
    }
    REQUIRE(signal_descendant(static_cast<pid_t>(pids[1]), SIGUSR1));
    const auto status = primary.wait_exit(60s);
    primary.read_to_end();
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    const auto events = events_of(primary);
    CHECK(count_named(events, "child-bad-frame") == 0);
    const auto got = child_got(events, pids[1]);
    REQUIRE(got.size() == 2);
    CHECK(got[0].text("type") == "task");
    CHECK(got[0].number("bytes") == static_cast<long long>(mib));
    CHECK(got[1].text("type") == "shutdown");
    for (const auto& exit : named(events, "exit")) CHECK(exit.text("code") == "0");
    check_clean_end(primary);
}

TEST_CASE("a task written to a worker that has closed its pipe fails, without killing the primary (SIGPIPE)",
          "[05][traps]") {
    Program primary("lesson05", with_child(args(1, 1, 1000, {"--grace-ms", "200"}), "close-stdin"));
    // The worker closed its end of the pipe before it said online; the primary writes the task right after.
    REQUIRE(primary.wait_for_event("online").has_value());
    const auto status = stop_and_wait(primary);
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    const auto events = events_of(primary);
    CHECK(death_signals(events) == std::vector<std::string>{"SIGKILL"});  // after the grace period
    check_clean_end(primary);
}

TEST_CASE("a bad command line is a one-line error and exit status 2", "[05][usage]") {
    const auto bad = GENERATE(as<std::vector<std::string>>{}, std::vector<std::string>{"--workers", "0"},
                              std::vector<std::string>{"--tasks", "0"}, std::vector<std::string>{"--tasks", "x"},
                              std::vector<std::string>{"--echo-bytes", "-1"},
                              std::vector<std::string>{"--die-on-task", "0"}, std::vector<std::string>{"--bogus"},
                              std::vector<std::string>{"extra"});
    const auto run = run_to_end("lesson05", {.args = bad});
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(2));
    const auto errors = run.stderr_lines();
    REQUIRE(errors.size() == 1);
    CHECK(errors.front().starts_with("lesson05: error: "));
    CHECK(run.stdout_lines.empty());
    CHECK(run.left_behind.empty());
}
