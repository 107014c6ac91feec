// Lesson 05's autograder: the contract of `lesson05` (lessons/05-message-passing/README.md): a work queue
// over message channels whose answer is right however many workers share it, messages framed so that 1 MiB
// arrives whole, no task lost when a worker dies or sends garbage, and a `shutdown` broadcast that ends every
// worker with code 0, at the end of a run and on SIGTERM.
//
// The answers are computed here, independently of the lesson's code: a sieve counts the primes, and the
// payload and its FNV-1a checksum follow the lesson text.
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

std::vector<std::string> args(int workers, int tasks, long long task_size, std::vector<std::string> more = {}) {
    std::vector<std::string> all{"--workers", std::to_string(workers), "--tasks", std::to_string(tasks),
                                 "--task-size", std::to_string(task_size)};
    all.insert(all.end(), more.begin(), more.end());
    return all;
}

// Every task 1..T reported by exactly one `message` line with the right count, and the right `answer`.
void check_answer(const std::vector<Event>& events, int tasks, long long task_size) {
    std::map<long long, int> reports;
    for (const auto& event : events) {
        if (event.name != "message") continue;
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
    const auto answers = std::ranges::count_if(events, [](const Event& event) { return event.name == "answer"; });
    REQUIRE(answers == 1);
    const auto answer = std::ranges::find_if(events, [](const Event& event) { return event.name == "answer"; });
    CHECK(answer->number("primes") == primes_in(0, tasks * task_size));
}

// A clean end: `done` last, every worker that was forked has exited, and nothing is left behind.
void check_clean_end(const Run& run) {
    REQUIRE_FALSE(run.stdout_lines.empty());
    CHECK(run.stdout_lines.back() == "done");
    CHECK(run.events_named("exit").size() == run.events_named("fork").size());
    INFO("left behind: " << describe(run.left_behind));
    CHECK(run.left_behind.empty());
}

std::vector<Event> events_of(const Program& program) {
    std::vector<Event> found;
    for (const auto& line : program.stdout_lines())
        if (auto event = Event::parse(line.text)) found.push_back(*event);
    return found;
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
    CHECK(run.events_named("fork").size() >= static_cast<std::size_t>(workers));
    check_answer(run.events(), tasks, 5000);
    check_clean_end(run);
}

TEST_CASE("a 1 MiB message goes through a 64 KiB pipe intact, to the worker and back", "[05][framing]") {
    constexpr std::size_t mib = 1024 * 1024;
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
    const auto run = run_to_end("lesson05", {.args = args(2, 8, 5000, {"--die-on-task", "3"})});
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(0));
    const auto exits = run.events_named("exit");
    const auto aborted = std::ranges::find_if(exits, [](const Event& exit) { return exit.has("signal"); });
    REQUIRE(aborted != exits.end());
    CHECK(aborted->text("signal") == "SIGABRT");
    CHECK(std::ranges::count_if(exits, [](const Event& exit) { return exit.has("signal"); }) == 1);
    // The replacement: a third fork, with the dead worker's id and a new pid.
    const auto forks = run.events_named("fork");
    REQUIRE(forks.size() == 3);
    CHECK(forks.back().number("id") == aborted->number("id"));
    CHECK(forks.back().number("pid") != aborted->number("pid"));
    check_answer(run.events(), 8, 5000);
    check_clean_end(run);
}

TEST_CASE("a worker killed with SIGKILL while it works on a task loses no task", "[05][lost-task]") {
    constexpr int tasks = 6;
    constexpr long long task_size = 150000;
    Program primary("lesson05", {.args = args(2, tasks, task_size)});
    // Right after a worker's first result, the primary hands it the next task: kill it in the middle of that.
    const auto first = primary.wait_for_event("message");
    INFO(primary.transcript());
    REQUIRE(first.has_value());
    pid_t victim = 0;
    for (const auto& event : events_of(primary))
        if (event.name == "fork" && event.number("id") == first->number("from")) victim = static_cast<pid_t>(event.number("pid"));
    REQUIRE(signal_descendant(victim, SIGKILL));
    const auto status = primary.wait_exit();
    primary.read_to_end();
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    const auto events = events_of(primary);
    CHECK(std::ranges::count_if(events, [&](const Event& event) {
              return event.name == "exit" && event.number("pid") == victim && event.has("signal") &&
                     event.text("signal") == "SIGKILL";
          }) == 1);
    check_answer(events, tasks, task_size);
    CHECK(primary.left_behind().empty());
}

TEST_CASE("a worker that sends a malformed message is reported in one line, stopped and replaced, and the "
          "answer is still right",
          "[05][malformed]") {
    const auto run = run_to_end("lesson05", {.args = args(2, 6, 5000, {"--garble-on-task", "2"})});
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    const auto error = check_runtime_error(run, "lesson05");  // the run completes, but a worker broke the protocol
    const std::string prefix = "lesson05: error: worker ";
    REQUIRE(error.starts_with(prefix));
    const auto id = std::stoll(error.substr(prefix.size()));
    CHECK(error.find(" sent a malformed message: ") != std::string::npos);
    const auto exits = run.events_named("exit");
    CHECK(std::ranges::any_of(exits, [&](const Event& exit) { return exit.number("id") == id && exit.has("signal"); }));
    const auto forks = run.events_named("fork");
    REQUIRE(forks.size() == 3);
    CHECK(forks.back().number("id") == id);
    check_answer(run.events(), 6, 5000);
    check_clean_end(run);
}

TEST_CASE("at the end a shutdown message to every worker ends each with code 0", "[05][shutdown]") {
    const auto run = run_to_end("lesson05", {.args = args(4, 4, 1000)});
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(0));
    const auto exits = run.events_named("exit");
    CHECK(exits.size() == 4);
    for (const auto& exit : exits) {
        INFO(exit.to_string());
        CHECK(exit.has("code"));
        CHECK_FALSE(exit.has("signal"));
        if (exit.has("code")) CHECK(exit.number("code") == 0);
    }
    check_clean_end(run);
}

TEST_CASE("SIGTERM to the primary shuts every worker down with code 0, and the primary exits 0", "[05][shutdown]") {
    Program primary("lesson05", {.args = args(2, 1000, 200000)});
    REQUIRE(primary.wait_for_event("message").has_value());
    primary.send_signal(SIGTERM);
    const auto status = primary.wait_exit();
    primary.read_to_end();
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    const auto events = events_of(primary);
    const auto count = [&](std::string_view name) {
        return std::ranges::count_if(events, [&](const Event& event) { return event.name == name; });
    };
    CHECK(count("fork") == 2);
    CHECK(count("exit") == 2);
    CHECK(count("answer") == 0);  // stopped before the end: no answer
    for (const auto& event : events)
        if (event.name == "exit") {
            INFO(event.to_string());
            CHECK(event.has("code"));
            if (event.has("code")) CHECK(event.number("code") == 0);
        }
    REQUIRE_FALSE(primary.stdout_lines().empty());
    CHECK(primary.stdout_lines().back().text == "done");
    CHECK(primary.stderr_text().empty());
    CHECK(primary.left_behind().empty());
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
