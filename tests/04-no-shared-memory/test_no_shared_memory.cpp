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
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace clusterkit::testing;
using clusterkit::Event;

namespace {

const std::filesystem::path shm_folder = "/dev/shm";

// A segment name prefix of this test's own, and the guard that clears it: "ck-l04-t<test pid>-<n>", or under
// $CLUSTERKIT_SHM_PREFIX when the kit sets it (kit verify and kit grade do), so that the kit can remove what a
// test it had to kill could not.
class SegmentPrefix {
public:
    SegmentPrefix() : prefix_(base() + "-t" + std::to_string(::getpid()) + "-" + std::to_string(++count_)) {}
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
    static std::string base() {
        const char* from_kit = std::getenv("CLUSTERKIT_SHM_PREFIX");
        return from_kit && *from_kit ? from_kit : "ck-l04";
    }
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

// Where the first event that `match` accepts is in the run's stdout; -1 if none.
template <typename Match>
long index_where(const std::vector<std::string>& lines, Match match) {
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (const auto event = Event::parse(lines[i]); event && match(*event)) return static_cast<long>(i);
    return -1;
}

std::vector<std::string> texts(const Program& program) {
    std::vector<std::string> lines;
    for (const auto& line : program.stdout_lines()) lines.push_back(line.text);
    return lines;
}

// Each worker's own line (`worker id=I pid=P ...`) carries the pid of fork I and comes before that worker's
// exit. (Not necessarily after its fork line: after fork() the worker may run before the primary prints.)
void check_worker_lines(const std::vector<std::string>& lines) {
    for (const auto& line : lines) {
        const auto fork = Event::parse(line);
        if (!fork || fork->name != "fork") continue;
        const auto id = fork->number("id");
        const auto pid = fork->number("pid");
        INFO("worker " << id << ", pid " << pid);
        const long said = index_where(lines, [&](const Event& e) { return e.name == "worker" && e.number("id") == id; });
        const long exited = index_where(lines, [&](const Event& e) { return e.name == "exit" && e.number("id") == id; });
        REQUIRE(said >= 0);
        CHECK(Event::parse(lines[static_cast<std::size_t>(said)])->number("pid") == pid);
        CHECK(said < exited);
    }
}

// A pid that no process has or will have: pids are below /proc/sys/kernel/pid_max.
long long pid_that_never_exists() {
    std::ifstream in("/proc/sys/kernel/pid_max");
    long long pid_max = 0;
    in >> pid_max;
    REQUIRE(pid_max > 0);
    return pid_max;
}

// Creates a file in /dev/shm as a segment left behind would be: "<prefix>-<pid>-<hex>".
std::string plant_segment(const SegmentPrefix& prefix, long long pid, std::string_view hex) {
    const std::string name = prefix.text() + "-" + std::to_string(pid) + "-" + std::string(hex);
    std::ofstream(shm_folder / name) << "left behind";
    REQUIRE(std::filesystem::exists(shm_folder / name));
    return name;
}

bool is_running(pid_t pid) {
    const char state = process_state(pid);
    return state != '\0' && state != 'Z' && state != 'X';
}

// Preempts worker `a` at many points of its loop: each round stops it (SIGSTOP), lets worker `b` count for half
// a millisecond of CPU (or until `b` blocks, waiting for a lock that `a` holds), then lets `a` go on for a quarter
// of a millisecond. Without the lock, a stop that falls between `a`'s read of the counter and its write loses
// every increment `b` makes meanwhile; with it, nothing is ever lost.
void interleave(pid_t a, pid_t b) {
    for (int round = 0; round < 40 && is_running(a) && is_running(b); ++round) {
        if (!signal_descendant(a, SIGSTOP)) return;
        REQUIRE(look_until([&] { return process_state(a) == 'T' || !is_running(a); }, default_deadline));
        const auto b_start = cpu_time_ns(b);
        REQUIRE(look_until([&] {
            const char state = process_state(b);
            return !is_running(b) || state == 'S' || state == 'D' || cpu_time_ns(b) - b_start >= 500'000;
        }, default_deadline));
        REQUIRE(signal_descendant(a, SIGCONT));
        const auto a_start = cpu_time_ns(a);
        REQUIRE(look_until([&] {
            return !is_running(a) || process_state(a) == 'S' || cpu_time_ns(a) - a_start >= 250'000;
        }, default_deadline));
    }
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
    // `primary` first; the counter is set (the copies line) before any worker starts.
    const auto events = run.events();
    REQUIRE_FALSE(events.empty());
    CHECK(events.front().name == "primary");
    CHECK(events.front().number("pid") == run.pid);
    CHECK(events.front().number("workers") == workers);
    CHECK(index_where(run.stdout_lines, [](const Event& e) { return e.name == "copies"; }) <
          index_where(run.stdout_lines, [](const Event& e) { return e.name == "fork"; }));
    check_worker_lines(run.stdout_lines);
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
    // Whether updates are lost without the lock depends on the workers running at the same moment. In the last
    // row the test makes it happen: it stops worker 1 (SIGSTOP) at some point of its loop while worker 2 counts,
    // again and again (interleave()). With the lock, worker 2 just waits whenever worker 1 holds it.
    // 3,000,000 keeps a lock-less loop running for 5 to 40 rounds, also on one CPU or a busy machine, and the
    // locked run under half a second (bench/edit-to-verdict/README.md has the runs that chose it).
    const auto [workers, increments, interleaved] = GENERATE(table<int, long long, bool>(
        {{2, 100'000, false}, {4, 50'000, false}, {2, 400'000, false}, {2, 3'000'000, true}}));
    INFO(workers << " workers, " << increments << " increments" << (interleaved ? ", interleaved by the test" : ""));
    const SegmentPrefix prefix;
    Program program("lesson04", {.args = shared_args(prefix, workers, increments)});
    if (interleaved) {
        wait_until_counting(program, workers);
        const auto forks = events_named(program, "fork");
        REQUIRE(forks.size() == 2);
        interleave(static_cast<pid_t>(forks[0].number("pid")), static_cast<pid_t>(forks[1].number("pid")));
    }
    const auto status = program.wait_exit(60s);
    program.read_to_end();
    const auto lines = texts(program);
    INFO(program.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 0");
    const auto shared = events_named(program, "shared");
    REQUIRE(shared.size() == 1);
    CHECK(shared.front().number("expected") == workers * increments);
    CHECK(shared.front().number("total") == workers * increments);
    const auto reports = events_named(program, "worker");
    CHECK(reports.size() == static_cast<std::size_t>(workers));
    for (const auto& report : reports) CHECK(report.number("added") == increments);
    check_worker_lines(lines);
    // The total is read after every worker has ended; `done` is last.
    const long total_line = index_where(lines, [](const Event& e) { return e.name == "shared"; });
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (const auto event = Event::parse(lines[i]); event && event->name == "exit")
            CHECK(static_cast<long>(i) < total_line);
    CHECK(lines.back() == "done");
    CHECK(program.left_behind().empty());
}

TEST_CASE("a normal shared run creates its segment under the given prefix and removes it", "[04][cleanup]") {
    // The prefix: --name-prefix, else $CLUSTERKIT_SHM_PREFIX, else clusterkit-lesson04.
    const SegmentPrefix prefix;
    const auto source = GENERATE(as<std::string>{}, "option", "environment", "option over environment", "default",
                                 "option, --no-lock");
    if (source == "default" && std::getenv("CLUSTERKIT_SHM_PREFIX")) return;  // the test's own would count
    const std::vector<std::string> counting{"shared", "--workers", "2", "--increments", "1000"};
    Launch launch{.args = shared_args(prefix, 2, 1000)};
    std::string expected_prefix = prefix.text();
    if (source == "environment") launch = {.args = counting, .environment = {{"CLUSTERKIT_SHM_PREFIX", prefix.text()}}};
    if (source == "option over environment")
        launch.environment = {{"CLUSTERKIT_SHM_PREFIX", prefix.text() + "-from-environment"}};
    if (source == "default") {
        launch = {.args = counting};
        expected_prefix = "clusterkit-lesson04";
    }
    const bool locked = source != "option, --no-lock";
    if (!locked) launch.args.push_back("--no-lock");
    INFO("prefix from " << source);
    const auto run = run_to_end("lesson04", launch);
    INFO(run.transcript());
    const auto segment = run.events_named("segment");
    REQUIRE(segment.size() == 1);
    const auto name = segment.front().text("name");
    std::error_code ignored;
    const bool left = std::filesystem::remove(shm_folder / name, ignored);  // whatever the checks say, tidy up
    REQUIRE(run.status_is_code(0));
    // "<prefix>-<pid of the primary>-<8 random hex digits>"
    CHECK(std::regex_match(name, std::regex(expected_prefix + "-" + std::to_string(run.pid) + "-[0-9a-f]{8}")));
    CHECK(segment.front().text("lock") == (locked ? "mutex" : "none"));
    // The segment exists before the workers are forked.
    CHECK(index_where(run.stdout_lines, [](const Event& e) { return e.name == "segment"; }) <
          index_where(run.stdout_lines, [](const Event& e) { return e.name == "fork"; }));
    const auto shared = run.events_named("shared");
    REQUIRE(shared.size() == 1);
    CHECK(shared.front().number("expected") == 2000);
    CHECK(shared.front().number("total") <= 2000);
    CHECK_FALSE(left);
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
    CHECK(run.index_of("worker", 2) == -1);  // it never finished its increments
    // The total so far, after every worker has ended, then `done`.
    const auto shared = run.events_named("shared");
    REQUIRE(shared.size() == 1);
    CHECK(shared.front().number("expected") == 1'200'000);
    CHECK(shared.front().number("total") < 1'200'000);
    const long total_line = index_where(run.stdout_lines, [](const Event& e) { return e.name == "shared"; });
    for (const auto& exit : exits) CHECK(run.index_of("exit", exit.number("id")) < total_line);
    CHECK(run.stdout_lines.back() == "done");
    check_runtime_error(run, "lesson04");
    INFO("in /dev/shm: " << prefix.segments().size() << " segment(s) with the test's prefix");
    CHECK(prefix.segments().empty());
    CHECK(run.left_behind.empty());
}

TEST_CASE("SIGTERM or SIGINT to the primary mid-run stops every worker with SIGTERM, removes the segment and exits 1",
          "[04][cleanup]") {
    const int signal = GENERATE(SIGTERM, SIGINT);
    const SegmentPrefix prefix;
    // Without the lock: Boost's interprocess_mutex is robust, so a worker that a SIGTERM ends while it holds the
    // lock would make the next one to take it fail with code 1 before its own SIGTERM arrives.
    Program primary("lesson04", {.args = shared_args(prefix, 2, endless, {"--no-lock"})});
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
    REQUIRE_FALSE(primary.stdout_lines().empty());
    CHECK(primary.stdout_lines().back().text == "done");
    std::istringstream errors(primary.stderr_text());
    std::vector<std::string> error_lines;
    for (std::string line; std::getline(errors, line);) error_lines.push_back(line);
    REQUIRE(error_lines.size() == 1);
    CHECK(error_lines.front().starts_with("lesson04: error: "));
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
    // And one of a primary long gone: every stale segment goes, not only the latest.
    const auto older = plant_segment(prefix, pid_that_never_exists(), "0badc0de");

    // One worker: its count is exact whatever the lock does (that is another test's), so only the segment matters.
    const auto run = run_to_end("lesson04", {.args = shared_args(prefix, 1, 100'000)});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    const auto shared = run.events_named("shared");
    REQUIRE(shared.size() == 1);
    CHECK(shared.front().number("total") == 100'000);
    // Each removal reported, before the run's own segment exists.
    std::set<std::string> reported;
    for (const auto& removed : run.events_named("removed-stale")) reported.insert(removed.text("segment"));
    CHECK(reported == std::set<std::string>{stale, older});
    const long own = index_where(run.stdout_lines, [](const Event& e) { return e.name == "segment"; });
    for (std::size_t i = 0; i < run.stdout_lines.size(); ++i)
        if (const auto event = Event::parse(run.stdout_lines[i]); event && event->name == "removed-stale")
            CHECK(static_cast<long>(i) < own);
    CHECK(prefix.segments().empty());
    CHECK(run.left_behind.empty());
}

TEST_CASE("two runs at once with the same prefix each get a segment of their own, and neither removes the other's",
          "[04][stale]") {
    const SegmentPrefix prefix;
    Program first("lesson04", {.args = shared_args(prefix, 1, endless)});
    const auto first_segment = wait_until_counting(first, 1);

    const auto second = run_to_end("lesson04", {.args = shared_args(prefix, 1, 100'000)});
    INFO(second.transcript());
    CHECK(second.status_is_code(0));
    CHECK(second.left_behind.empty());  // the first run's worker is the first run's, not a leftover
    const auto shared = second.events_named("shared");
    REQUIRE(shared.size() == 1);
    CHECK(shared.front().number("total") == 100'000);  // its own counter, in its own segment
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

TEST_CASE("by default there is one worker per usable CPU, and each adds 1000 times (copies) or 1000000 times (shared)",
          "[04][defaults]") {
    // On one CPU of the affinity mask: one worker, however many CPUs the machine has.
    const auto copies = run_to_end("lesson04", {.args = {"copies"}, .cpus = {0}});
    INFO(copies.transcript());
    REQUIRE(copies.status_is_code(0));
    CHECK(copies.events_named("fork").size() == 1);
    const auto start = copies.events_named("copies");
    REQUIRE(start.size() == 1);
    CHECK(start.front().number("increments") == 1000);
    for (const auto& report : copies.events_named("worker")) CHECK(report.number("counter") == 1100);

    const SegmentPrefix prefix;
    const auto shared = run_to_end("lesson04", {.args = {"shared", "--name-prefix", prefix.text()}, .cpus = {0}}, 60s);
    INFO(shared.transcript());
    REQUIRE(shared.status_is_code(0));
    CHECK(shared.events_named("fork").size() == 1);
    const auto total = shared.events_named("shared");
    REQUIRE(total.size() == 1);
    CHECK(total.front().number("expected") == 1'000'000);
    CHECK(total.front().number("total") == 1'000'000);
    CHECK(prefix.segments().empty());
}

TEST_CASE("a worker killed mid-run stops the run: the others get SIGTERM, then the total so far, done, and exit 1",
          "[04][cleanup]") {
    // The workers count for ever; the test kills worker 2 as a crash would. Only the primary can end worker 1.
    // (Without the lock: Boost's interprocess_mutex is robust, and worker 1 would fail by itself if worker 2 died
    // holding it.)
    const SegmentPrefix prefix;
    Program primary("lesson04", {.args = shared_args(prefix, 2, endless, {"--no-lock"})});
    wait_until_counting(primary, 2);
    const auto forks = events_named(primary, "fork");
    REQUIRE(forks.size() == 2);
    REQUIRE(signal_descendant(static_cast<pid_t>(forks[1].number("pid")), SIGKILL));
    const auto status = primary.wait_exit();
    primary.read_to_end();
    INFO(primary.transcript());
    REQUIRE(status.has_value());
    CHECK(status->describe() == "exited with code 1");
    const auto lines = texts(primary);
    const long killed = index_where(lines, [](const Event& e) { return e.name == "exit" && e.number("id") == 2; });
    const long stopped = index_where(lines, [](const Event& e) { return e.name == "exit" && e.number("id") == 1; });
    REQUIRE(killed >= 0);
    REQUIRE(stopped >= 0);
    CHECK(Event::parse(lines[static_cast<std::size_t>(killed)])->text("signal") == "SIGKILL");
    CHECK(Event::parse(lines[static_cast<std::size_t>(stopped)])->text("signal") == "SIGTERM");
    const long total = index_where(lines, [](const Event& e) { return e.name == "shared"; });
    CHECK(total > stopped);
    CHECK(lines.back() == "done");
    CHECK(prefix.segments().empty());
    CHECK(primary.left_behind().empty());
}

TEST_CASE("workers that end while the primary is busy are all reaped: one SIGCHLD may stand for several",
          "[04][signals]") {
    // The primary is stopped (SIGSTOP) while its three copies workers finish: the three SIGCHLDs it is sent
    // meanwhile are one pending signal when it goes on (SIGCONT). If a worker ended before the primary was
    // stopped, the moment was missed: run it again.
    for (int attempt = 1; attempt <= 3; ++attempt) {
        Program primary("lesson04", {.args = {"copies", "--workers", "3", "--increments", "300000000"}});
        std::vector<pid_t> workers;
        for (int i = 0; i < 3; ++i) {
            const auto fork = primary.wait_for_event("fork");
            INFO(primary.transcript());
            REQUIRE(fork.has_value());
            workers.push_back(static_cast<pid_t>(fork->number("pid")));
        }
        primary.send_signal(SIGSTOP);
        siginfo_t info{};
        int waited = -1;
        do {
            waited = ::waitid(P_PID, static_cast<id_t>(primary.pid()), &info, WSTOPPED | WEXITED | WNOWAIT);
        } while (waited == -1 && errno == EINTR);
        REQUIRE(waited == 0);
        REQUIRE(info.si_code == CLD_STOPPED);
        if (std::ranges::any_of(workers, [](pid_t pid) { return wait_until_gone(pid, 0ms); })) continue;
        for (const pid_t pid : workers) REQUIRE(wait_until_gone(pid, 30s));  // each counts, then ends
        primary.send_signal(SIGCONT);
        const auto status = primary.wait_exit();
        primary.read_to_end();
        INFO(primary.transcript());
        REQUIRE(status.has_value());
        CHECK(status->describe() == "exited with code 0");
        const auto exits = events_named(primary, "exit");
        CHECK(exits.size() == 3);
        for (const auto& exit : exits) CHECK(exit.text("code") == "0");
        const auto counter = events_named(primary, "primary-counter");
        REQUIRE(counter.size() == 1);
        CHECK(counter.front().number("value") == 100);
        CHECK(primary.stdout_lines().back().text == "done");
        CHECK(primary.left_behind().empty());
        return;
    }
    FAIL("a worker ended before the primary could be stopped, 3 times in a row");
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
