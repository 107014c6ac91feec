// Lesson 04's autograder: the contract of `lesson04 copies` and `lesson04 shared`
// (lessons/04-no-shared-memory/README.md): each worker has its own copy of every variable; a counter in
// shared memory adds up exactly under the lock; and the segment never outlives the run, however it ends.
//
// Every test gives the program a private segment name prefix, so it can check /dev/shm precisely and touches
// nothing else there; SegmentPrefix's destructor removes whatever a wrong program left under that prefix.
#include "catch.hpp"

#include "checks.hpp"
#include "program.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <set>
#include <string>
#include <unistd.h>

using namespace clusterkit::testing;
using clusterkit::Event;

namespace {

const std::filesystem::path shm_folder = "/dev/shm";

// A segment name prefix of this test's own, and the guard that clears it: "ck-l04-t<test pid>-<n>".
class SegmentPrefix {
public:
    SegmentPrefix() : prefix_("ck-l04-t" + std::to_string(::getpid()) + "-" + std::to_string(++count_)) {}
    ~SegmentPrefix() {
        std::error_code ignored;
        for (const auto& name : segments()) std::filesystem::remove(shm_folder / name, ignored);
    }
    SegmentPrefix(const SegmentPrefix&) = delete;
    SegmentPrefix& operator=(const SegmentPrefix&) = delete;

    const std::string& text() const { return prefix_; }
    // The names in /dev/shm that start with "<prefix>-", sorted.
    std::set<std::string> segments() const {
        std::set<std::string> names;
        std::error_code error;
        for (const auto& entry : std::filesystem::directory_iterator(shm_folder, error)) {
            const auto name = entry.path().filename().string();
            if (name.starts_with(prefix_ + "-")) names.insert(name);
        }
        return names;
    }

private:
    static inline std::atomic<int> count_{0};
    std::string prefix_;
};

std::vector<std::string> shared_args(const SegmentPrefix& prefix, int workers, long long increments,
                                     std::vector<std::string> more = {}) {
    std::vector<std::string> args{"shared", "--workers", std::to_string(workers), "--increments",
                                  std::to_string(increments), "--name-prefix", prefix.text()};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

// Long enough never to finish during a test: the test stops it.
constexpr long long endless = 1'000'000'000;

std::vector<Event> events_named(const Program& program, std::string_view name) {
    std::vector<Event> found;
    for (const auto& line : program.stdout_lines())
        if (auto event = Event::parse(line.text); event && event->name == name) found.push_back(*event);
    return found;
}

// Waits for the `segment` line and `count` fork lines: the segment exists and every worker was forked.
// Returns the segment's name.
std::string wait_until_counting(Program& program, int count) {
    const auto segment = program.wait_for_event("segment");
    INFO(program.transcript());
    REQUIRE(segment.has_value());
    for (int i = 0; i < count; ++i) REQUIRE(program.wait_for_event("fork").has_value());
    return segment->text("name");
}

long index_of_line(const Run& run, std::string_view text) {
    const auto found = std::ranges::find(run.stdout_lines, text);
    return found == run.stdout_lines.end() ? -1 : static_cast<long>(found - run.stdout_lines.begin());
}

}  // namespace

TEST_CASE("in copies mode each worker sees the start value plus its own increments and no one else's",
          "[04][copies]") {
    const auto [workers, increments] = GENERATE(std::pair{3, 1000}, std::pair{4, 7});
    const auto run = run_to_end("lesson04", {.args = {"copies", "--workers", std::to_string(workers), "--increments",
                                                      std::to_string(increments)}});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    const auto copies = run.events_named("copies");
    REQUIRE(copies.size() == 1);
    const long long start = copies.front().number("counter");
    CHECK(start == 100);
    CHECK(copies.front().number("increments") == increments);

    const auto reports = run.events_named("worker");
    REQUIRE(reports.size() == static_cast<std::size_t>(workers));
    std::set<long long> ids;
    for (const auto& report : reports) {
        INFO(report.to_string());
        CHECK(report.number("counter") == start + increments);
        ids.insert(report.number("id"));
    }
    CHECK(ids.size() == static_cast<std::size_t>(workers));
    CHECK(run.events_named("fork").size() == static_cast<std::size_t>(workers));
    for (const auto& exit : run.events_named("exit")) CHECK(exit.text("code") == "0");
    CHECK(run.left_behind.empty());
}

TEST_CASE("in copies mode the primary's counter is unchanged after every worker has added to its own copy",
          "[04][copies]") {
    const auto run = run_to_end("lesson04", {.args = {"copies", "--workers", "3", "--increments", "500"}});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    const auto primary = run.events_named("primary-counter");
    REQUIRE(primary.size() == 1);
    CHECK(primary.front().number("value") == 100);
    REQUIRE(run.events_named("exit").size() == 3);
    // Printed after every worker has ended, and before done, the last line.
    const long counter_line = index_of_line(run, primary.front().to_string());
    for (const auto& exit : run.events_named("exit")) CHECK(index_of_line(run, exit.to_string()) < counter_line);
    REQUIRE_FALSE(run.stdout_lines.empty());
    CHECK(run.stdout_lines.back() == "done");
    CHECK(run.stderr_text.empty());
}

TEST_CASE("in shared mode with the lock the total is exactly workers times increments", "[04][shared]") {
    const auto [workers, increments] =
        GENERATE(std::pair{2, 100'000LL}, std::pair{4, 50'000LL}, std::pair{2, 400'000LL});
    const SegmentPrefix prefix;
    const auto run = run_to_end("lesson04", {.args = shared_args(prefix, workers, increments)}, 60s);
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    const auto shared = run.events_named("shared");
    REQUIRE(shared.size() == 1);
    CHECK(shared.front().number("expected") == workers * increments);
    CHECK(shared.front().number("total") == workers * increments);
    const auto reports = run.events_named("worker");
    CHECK(reports.size() == static_cast<std::size_t>(workers));
    for (const auto& report : reports) CHECK(report.number("added") == increments);
    CHECK(run.stdout_lines.back() == "done");
    CHECK(run.left_behind.empty());
}

TEST_CASE("a normal shared run creates its segment under the given prefix and removes it", "[04][cleanup]") {
    const SegmentPrefix prefix;
    const bool from_environment = GENERATE(false, true);
    Launch launch{.args = shared_args(prefix, 2, 1000)};
    if (from_environment) launch = {.args = {"shared", "--workers", "2", "--increments", "1000"},
                                    .environment = {{"CLUSTERKIT_SHM_PREFIX", prefix.text()}}};
    INFO((from_environment ? "prefix from CLUSTERKIT_SHM_PREFIX" : "prefix from --name-prefix"));
    const auto run = run_to_end("lesson04", launch);
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    const auto segment = run.events_named("segment");
    REQUIRE(segment.size() == 1);
    CHECK(segment.front().text("name").starts_with(prefix.text() + "-"));
    CHECK(prefix.segments().empty());
    CHECK(run.left_behind.empty());
}

TEST_CASE("a worker that crashes is reported as signal=SIGABRT, the primary exits 1 and removes the segment",
          "[04][cleanup]") {
    const SegmentPrefix prefix;
    const auto run = run_to_end("lesson04", {.args = shared_args(prefix, 3, 400'000, {"--crash-worker", "2"})}, 60s);
    INFO(run.transcript());
    const auto exits = run.events_named("exit");
    CHECK(exits.size() == 3);
    const auto crashed = std::ranges::find_if(exits, [](const Event& exit) { return exit.number("id") == 2; });
    REQUIRE(crashed != exits.end());
    CHECK(crashed->text("signal") == "SIGABRT");
    check_runtime_error(run, "lesson04");
    INFO("in /dev/shm: " << prefix.segments().size() << " segment(s) with the test's prefix");
    CHECK(prefix.segments().empty());
    CHECK(run.left_behind.empty());
}

TEST_CASE("SIGTERM or SIGINT to the primary mid-run stops every worker with SIGTERM, removes the segment and exits 1",
          "[04][cleanup]") {
    const int signal = GENERATE(SIGTERM, SIGINT);
    const SegmentPrefix prefix;
    Program primary("lesson04", {.args = shared_args(prefix, 2, endless)});
    const auto name = wait_until_counting(primary, 2);
    CHECK(prefix.segments() == std::set<std::string>{name});  // it is a named segment, in /dev/shm

    primary.send_signal(signal);
    const auto status = primary.wait_exit();
    primary.read_to_end();
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 1");
    const auto exits = events_named(primary, "exit");
    CHECK(exits.size() == 2);
    for (const auto& exit : exits) CHECK(exit.text("signal") == "SIGTERM");
    CHECK(prefix.segments().empty());
    CHECK(primary.left_behind().empty());
}

TEST_CASE("a segment left by a primary killed with SIGKILL is removed by the next run, which counts exactly",
          "[04][stale]") {
    const SegmentPrefix prefix;
    std::string stale;
    {
        Program killed("lesson04", {.args = shared_args(prefix, 2, endless)});
        stale = wait_until_counting(killed, 2);
        killed.send_signal(SIGKILL);  // no code runs: the segment stays
        REQUIRE(killed.wait_exit().has_value());
    }
    REQUIRE(prefix.segments() == std::set<std::string>{stale});

    const auto run = run_to_end("lesson04", {.args = shared_args(prefix, 2, 100'000)});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    const auto shared = run.events_named("shared");
    REQUIRE(shared.size() == 1);
    CHECK(shared.front().number("total") == 200'000);
    CHECK(prefix.segments().empty());
    CHECK(run.left_behind.empty());
}

TEST_CASE("two runs at once with the same prefix each get a segment of their own, and neither removes the other's",
          "[04][stale]") {
    const SegmentPrefix prefix;
    Program first("lesson04", {.args = shared_args(prefix, 1, endless)});
    const auto first_segment = wait_until_counting(first, 1);

    const auto second = run_to_end("lesson04", {.args = shared_args(prefix, 2, 100'000)});
    INFO(second.transcript());
    CHECK(second.status_is_code(0));
    CHECK(second.left_behind.empty());  // the first run's worker is the first run's, not a leftover
    const auto shared = second.events_named("shared");
    REQUIRE(shared.size() == 1);
    CHECK(shared.front().number("total") == 200'000);
    CHECK(prefix.segments() == std::set<std::string>{first_segment});  // the first run's, still there

    first.send_signal(SIGTERM);
    REQUIRE(first.wait_exit().has_value());
    first.read_to_end();
    INFO(first.transcript());
    // The first run counted undisturbed until this SIGTERM stopped it.
    const auto exits = events_named(first, "exit");
    CHECK(exits.size() == 1);
    for (const auto& exit : exits) CHECK(exit.text("signal") == "SIGTERM");
    CHECK(prefix.segments().empty());
}

TEST_CASE("a bad command line is a usage error: exit 2, one error line, no worker, no segment", "[04][usage]") {
    const auto bad_command_line = GENERATE(
        as<std::vector<std::string>>{}, std::vector<std::string>{"--workers", "2"},
        std::vector<std::string>{"count"}, std::vector<std::string>{"copies", "--workers", "0"},
        std::vector<std::string>{"shared", "--workers", "0"}, std::vector<std::string>{"shared", "--increments", "-1"},
        std::vector<std::string>{"copies", "--no-lock"}, std::vector<std::string>{"shared", "extra"},
        std::vector<std::string>{"shared", "--workers", "2", "--crash-worker", "3"},
        std::vector<std::string>{"shared", "--workers", "2", "--crash-worker", "0"},
        std::vector<std::string>{"shared", "--name-prefix", "../escape"});
    const SegmentPrefix prefix;
    const auto run = run_to_end("lesson04", {.args = bad_command_line,
                                             .environment = {{"CLUSTERKIT_SHM_PREFIX", prefix.text()}}});
    INFO(run.transcript());
    check_usage_error(run, "lesson04");
    CHECK(prefix.segments().empty());
}
