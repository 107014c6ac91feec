// The program under test: started with Boost.Process v2 in a process group of its own, read line by line
// with deadlines, and torn down so that nothing of it survives the test.
//
// Tests wait on events (a line, end-of-file, the process's exit), never on time: every wait has a deadline
// and returns what it saw, so a hung or crashing program fails the test instead of hanging it. A wait also
// ends, without what it waited for, as soon as that cannot come any more: at end-of-file, or when every process
// of the test stands still (standstill.hpp). transcript() then says what was waited for, how long, and why it
// stopped.
//
//     auto run = run_to_end("lesson01", {.args = {"--workers", "3"}});
//     INFO(run.transcript());
//     REQUIRE(run.status_is_code(0));
//     REQUIRE(run.events_named("fork").size() == 3);
#pragma once

#include "processes.hpp"

#include <clusterkit/events.hpp>
#include <clusterkit/wait_status.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clusterkit::testing {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How long a test waits for anything before it calls the program hung: 5 s, or CLUSTERKIT_TEST_DEADLINE_MS.
// A correct program answers within a fraction of that even on a loaded 2-core CI machine; a wrong one that
// hangs costs the student this long per test, so it is not larger than it needs to be.
std::chrono::milliseconds deadline_from_environment();
inline const std::chrono::milliseconds default_deadline = deadline_from_environment();

// The program `name` (lesson01, lesson02-worker, ...) in $CLUSTERKIT_BIN_DIR, or else where this build
// put it. The mutant check and the grader set CLUSTERKIT_BIN_DIR to test programs built elsewhere.
std::filesystem::path program_path(std::string_view name);

// The test helper program, clusterkit-test-child (tests/support/child.cpp): start it in place of a worker.
std::filesystem::path test_child_path();

// Waits until process `pid` (any process, not only a child) has ended, with a deadline: pidfd_open(2) and
// poll(2), so it waits on an event and cannot mistake a reused pid for the old process. True if it ended;
// false at the deadline, or sooner when the processes under test stand still (see Program).
bool wait_until_gone(pid_t pid, std::chrono::milliseconds deadline = default_deadline);

struct Launch {
    std::vector<std::string> args{};
    std::vector<int> cpus{};  // run only on these CPUs (sched_setaffinity); empty: the test's own mask
    std::vector<std::pair<std::string, std::string>> environment{};  // added to the test's environment
    // Rules of the test child's fault injection (tests/support/child_faults.hpp), such as
    // {"forks-allowed", "2"}: the program runs under the test child, whose pid is then the one Program and
    // Run report (the program's own pid is in its `primary` line). Empty: the program runs alone.
    std::vector<std::string> faults{};
};

struct Line {
    std::string text;
    Clock::time_point time;  // when the test read it
};

class Program {
public:
    explicit Program(std::string_view name, Launch launch = {});
    ~Program();  // teardown()
    Program(const Program&) = delete;
    Program& operator=(const Program&) = delete;

    pid_t pid() const;
    int record_number() const;  // this run's number in the test's record (tests/support/record.hpp)

    // The next line of stdout; std::nullopt at end-of-file or when the deadline passes first.
    std::optional<std::string> next_line(std::chrono::milliseconds deadline = default_deadline);
    // The next event line of the given name (other lines are read and kept in the transcript).
    std::optional<Event> wait_for_event(std::string_view name,
                                        std::chrono::milliseconds deadline = default_deadline);
    // The next event line with one of these names.
    std::optional<Event> wait_for_any_event(std::initializer_list<std::string_view> names,
                                            std::chrono::milliseconds deadline = default_deadline);
    // The next event line of the given name with all of these fields (exit with pid=4242).
    std::optional<Event> wait_for_event_with(std::string_view name, const std::vector<Field>& fields,
                                             std::chrono::milliseconds deadline = default_deadline);
    // How the program ended; std::nullopt if it is still running when the deadline passes.
    std::optional<WaitStatus> wait_exit(std::chrono::milliseconds deadline = default_deadline);
    // Reads stdout and stderr to end-of-file (after the program and everything it started have ended).
    bool read_to_end(std::chrono::milliseconds deadline = default_deadline);

    void send_signal(int signal);  // to the program's process only, not its group

    // After the program has exited: the processes it left behind, alive or zombie (orphans become children
    // of the test process, a subreaper). Empty for a program that cleaned up after itself. The processes of
    // other programs still running (their primaries and workers) are not counted.
    std::vector<ProcessInfo> left_behind() const;

    const std::vector<Line>& stdout_lines() const;
    std::vector<Event> events_named(std::string_view name) const;  // of the lines read so far
    const std::string& stderr_text() const;
    std::string transcript() const;  // stdout and stderr so far, and gave_up(), for failure messages
    // "gave up waiting for WHAT after S s: WHY" if the last wait ended without what it waited for, else "".
    const std::string& gave_up() const;

    // Kills the whole process group and every descendant (SIGKILL), and reaps all of them, the program's
    // orphans included. Idempotent. Never throws.
    void teardown() noexcept;

private:
    std::optional<Event> wait_for_match(const std::string& what, const std::function<bool(const Event&)>& matches,
                                        std::chrono::milliseconds deadline);

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The index in `lines` of the first event line, at `from` or after, named `name` with all of `fields`; -1 if none.
long find_event(const std::vector<Line>& lines, std::string_view name, const std::vector<Field>& fields = {},
                std::size_t from = 0);

// A program run to its end, as run_to_end() saw it.
struct Run {
    std::vector<std::string> stdout_lines;
    std::string stderr_text;
    std::optional<WaitStatus> status;        // std::nullopt: still running at the deadline (then killed)
    std::vector<ProcessInfo> left_behind;    // what the program left when it ended: orphans and zombies
    std::string gave_up;                     // why the wait for its exit ended first (Program::gave_up())
    pid_t pid = 0;
    int number = 0;                          // the run's number in the test's record

    std::vector<Event> events() const;
    std::vector<Event> events_named(std::string_view name) const;
    // The index in stdout_lines of the first event `name` with id=`id`, or -1.
    long index_of(std::string_view name, long long id) const;
    std::vector<std::string> stderr_lines() const;
    bool status_is_code(int code) const;
    std::string transcript() const;
};

// Starts the program, waits for it to end (or the deadline), notes what it left behind, kills that, and
// reads its output to the end.
Run run_to_end(std::string_view name, Launch launch = {}, std::chrono::milliseconds deadline = default_deadline);

// As run_to_end(), but before anything is killed it also waits (up to the deadline) for the end of the output:
// workers the program left behind that end by themselves (a test child that prints and exits) get to print
// every line, so a test of their lines does not depend on how soon they ran. What was left behind is noted
// when the program exits, as in run_to_end().
Run run_to_end_of_output(std::string_view name, Launch launch = {},
                         std::chrono::milliseconds deadline = default_deadline);

}  // namespace clusterkit::testing
