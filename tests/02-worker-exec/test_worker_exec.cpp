// Lesson 02's autograder: the contract of `lesson02 [--workers N] [--exec PATH] [--work-ms MIN-MAX] [-- ARGS...]`
// and of its worker program, lesson02-worker (lessons/02-worker-exec/README.md).
//
// Most tests start the test helper clusterkit-test-child as the worker (--exec), because its steps show
// exactly what a worker received: print-args its argv, print-env a variable, sleep-ms-by-id a work time.
#include "catch.hpp"

#include "checks.hpp"
#include "program.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sched.h>
#include <set>
#include <string>
#include <utility>
#include <vector>
#include <unistd.h>

using namespace clusterkit::testing;
using clusterkit::Event;

namespace {

// lesson02's flags, then `--exec <the test child> --` and the child's steps: the arguments of every worker.
std::vector<std::string> with_test_child(std::vector<std::string> flags, const std::vector<std::string>& steps) {
    flags.insert(flags.end(), {"--exec", test_child_path().string(), "--"});
    flags.insert(flags.end(), steps.begin(), steps.end());
    return flags;
}

std::set<long long> numbers_of(const std::vector<Event>& events, std::string_view key) {
    std::set<long long> numbers;
    for (const auto& event : events) numbers.insert(event.number(key));
    return numbers;
}

std::size_t count_lines(const Run& run, std::string_view text) {
    return static_cast<std::size_t>(std::ranges::count(run.stdout_lines, text));
}

// A fresh folder for files a test makes, removed with everything in it when the test ends.
class TempDir {
public:
    TempDir() {
        const char* tmp = std::getenv("TMPDIR");
        std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/clusterkit-02-XXXXXX";
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    // Writes a file in this folder with the given permissions, closed again before it returns.
    std::filesystem::path file(const std::string& name, const std::string& text, std::filesystem::perms perms) const {
        const auto path = path_ / name;
        {
            std::ofstream out(path);
            out << text;
        }
        std::filesystem::permissions(path, perms);
        return path;
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// An error run of lesson02: exit status 1, one error line naming `path`, no worker, nothing left behind.
void check_cannot_run(const Run& run, const std::string& path) {
    CHECK(check_runtime_error(run, "lesson02").find(path) != std::string::npos);
    CHECK(run.events_named("online").empty());
    CHECK(run.events_named("done").empty());
    CHECK(run.left_behind.empty());
}

}  // namespace

TEST_CASE("with --workers 3 the primary starts three copies of the --exec program, each its own process",
          "[02][exec]") {
    // To the end of the output: a primary that does not wait for its workers must not make their lines a race.
    const auto run = run_to_end_of_output("lesson02", {.args = with_test_child({"--workers", "3"}, {"print-args"})});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    const auto primary = run.events_named("primary");
    REQUIRE(primary.size() == 1);
    CHECK(primary.front().number("pid") == run.pid);
    CHECK(primary.front().number("workers") == 3);

    const auto forks = run.events_named("fork");
    const auto children = run.events_named("child");  // what each test child printed about itself
    REQUIRE(forks.size() == 3);
    REQUIRE(children.size() == 3);
    CHECK(numbers_of(forks, "id") == std::set<long long>{1, 2, 3});
    CHECK(numbers_of(forks, "pid").size() == 3);
    CHECK_FALSE(numbers_of(forks, "pid").contains(run.pid));
    CHECK(numbers_of(children, "pid") == numbers_of(forks, "pid"));
    CHECK(numbers_of(run.events_named("online"), "pid") == numbers_of(forks, "pid"));
}

TEST_CASE("every worker gets the arguments after -- exactly as given, one argv entry each, spaces included",
          "[02][args]") {
    // The test child treats its arguments as steps: print-args, then `print-env "two words"` and
    // `print-env --workers`, which only print a line. `--workers` after `--` is the worker's, not lesson02's.
    const std::vector<std::string> args{"print-args", "print-env", "two words", "print-env", "--workers"};
    const auto run = run_to_end_of_output("lesson02", {.args = with_test_child({"--workers", "2"}, args)});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    const auto children = run.events_named("child");
    REQUIRE(children.size() == 2);
    for (const auto& child : children) {
        INFO(child.to_string());
        CHECK(child.number("argc") == 5);
    }
    for (std::size_t k = 0; k < args.size(); ++k) {
        const std::string line = "arg[" + std::to_string(k + 1) + "]=" + args[k];
        INFO(line);
        CHECK(count_lines(run, line) == 2);
    }
    CHECK(count_lines(run, "env two words is unset") == 2);
}

TEST_CASE("every worker has its id in CLUSTERKIT_WORKER_ID and the rest of the primary's environment", "[02][env]") {
    // To the end of the output: the workers' lines, whenever they come (a primary that leaves its workers
    // behind fails the tests about that, not this one).
    const auto run = run_to_end_of_output("lesson02",
                                {.args = with_test_child({"--workers", "3"}, {"print-env", "CLUSTERKIT_WORKER_ID",
                                                                              "print-env", "CLUSTERKIT_TEST_MARK"}),
                                 .environment = {{"CLUSTERKIT_TEST_MARK", "set by the test"}}});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    for (int id = 1; id <= 3; ++id) {
        INFO("worker id " << id);
        CHECK(count_lines(run, "env CLUSTERKIT_WORKER_ID=" + std::to_string(id)) == 1);
    }
    CHECK(count_lines(run, "env CLUSTERKIT_TEST_MARK=set by the test") == 3);
}

TEST_CASE("exits are reported in the order the workers end, not in the order they started", "[02][wait]") {
    // The test child holds each worker in _exit() until all three are there, then lets them end one at a
    // time, the highest pid (the last started) first, printing "release pid=P" just before: worker 3 ends
    // first and worker 1 last, and each exit must be reported before the next worker ends.
    const auto run = run_to_end("lesson02", {.args = with_test_child({"--workers", "3"}, {}),
                                             .faults = {"hold-exits-in-turn", "3"}});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    std::vector<long long> released;
    for (const auto& release : run.events_named("release")) released.push_back(release.number("pid"));
    std::vector<long long> reported;
    for (const auto& exit : run.events_named("exit")) reported.push_back(exit.number("pid"));
    REQUIRE(released.size() == 3);
    CHECK(reported == released);
    CHECK(count_lines(run, "done") == 1);
}

TEST_CASE("every worker is forked, comes online and exits with code 0, in that order, and done is the last line",
          "[02][events]") {
    const auto run = run_to_end("lesson02", {.args = with_test_child({"--workers", "3"}, {})});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    check_worker_lifecycles(run, 3);
    CHECK(run.stderr_text.empty());
}

TEST_CASE("by default the primary runs lesson02-worker from its own folder, and each worker prints its line",
          "[02][worker]") {
    const auto run = run_to_end("lesson02", {.args = {"--workers", "2", "--work-ms", "1-50"}});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    const auto workers = run.events_named("worker");
    REQUIRE(workers.size() == 2);
    CHECK(numbers_of(workers, "id") == std::set<long long>{1, 2});
    CHECK(numbers_of(workers, "pid") == numbers_of(run.events_named("fork"), "pid"));
    for (const auto& worker : workers) {
        INFO(worker.to_string());
        CHECK(worker.number("ppid") == run.pid);
        CHECK(worker.number("ms") >= 1);
        CHECK(worker.number("ms") <= 50);
    }
    CHECK(run.stdout_lines.back() == "done");
}

TEST_CASE("lesson02-worker run by hand without CLUSTERKIT_WORKER_ID says so in one error line and exits 2",
          "[02][worker]") {
    REQUIRE(std::getenv("CLUSTERKIT_WORKER_ID") == nullptr);  // the worker inherits the test's environment
    const auto run = run_to_end("lesson02-worker");
    INFO(run.transcript());
    CHECK(run.status_is_code(2));
    const auto errors = run.stderr_lines();
    REQUIRE(errors.size() == 1);
    CHECK(errors.front().starts_with("lesson02-worker: error: "));
    CHECK(errors.front().find("CLUSTERKIT_WORKER_ID") != std::string::npos);
    CHECK(run.events_named("worker").empty());
}

TEST_CASE("a missing --exec program is an error that names its path: exit 1, one error line, no worker", "[02][exec]") {
    const TempDir dir;
    const auto missing = (dir.path() / "no-such-worker").string();
    const auto run = run_to_end("lesson02", {.args = {"--workers", "2", "--exec", missing}});
    INFO(run.transcript());
    check_cannot_run(run, missing);
}

TEST_CASE("an --exec file without execute permission is an error that names its path: exit 1, no worker",
          "[02][exec]") {
    const TempDir dir;
    namespace fs = std::filesystem;
    const auto script = dir.file("not-executable", "#!/bin/sh\nexit 0\n",
                                 fs::perms::owner_read | fs::perms::owner_write);
    const auto run = run_to_end("lesson02", {.args = {"--workers", "2", "--exec", script.string()}});
    INFO(run.transcript());
    check_cannot_run(run, script.string());
}

TEST_CASE("an --exec file that execve refuses is an error that names its path and leaves no zombie behind",
          "[02][exec]") {
    // Executable, but neither a binary nor a script with #!: the check passes, execve fails (ENOEXEC).
    const TempDir dir;
    namespace fs = std::filesystem;
    const auto text = dir.file("not-a-program", "this is not a program\n", fs::perms::owner_all);
    const auto run = run_to_end("lesson02", {.args = {"--workers", "2", "--exec", text.string()}});
    INFO(run.transcript());
    check_cannot_run(run, text.string());
}

TEST_CASE("a worker that exits with code 3 is reported as code=3, and the primary exits 1 after done", "[02][exit]") {
    const auto run = run_to_end("lesson02", {.args = with_test_child({"--workers", "2"}, {"exit-code", "3"})});
    INFO(run.transcript());
    const auto exits = run.events_named("exit");
    REQUIRE(exits.size() == 2);
    for (const auto& exit : exits) {
        INFO(exit.to_string());
        CHECK(exit.text("code") == "3");
    }
    REQUIRE_FALSE(run.stdout_lines.empty());
    CHECK(run.stdout_lines.back() == "done");
    check_runtime_error(run, "lesson02");
    CHECK(run.left_behind.empty());
}

TEST_CASE("a worker killed by SIGKILL is reported as signal=SIGKILL, not as an exit code", "[02][exit]") {
    Program program("lesson02", {.args = with_test_child({"--workers", "1"}, {"forever"})});
    const auto online = program.wait_for_event("online");
    INFO(program.transcript());
    REQUIRE(online);
    REQUIRE(signal_descendant(static_cast<pid_t>(online->number("pid")), SIGKILL));
    const auto exit = program.wait_for_event("exit");
    const auto status = program.wait_exit();
    program.read_to_end();
    INFO(program.transcript());
    REQUIRE(exit);
    CHECK(exit->number("pid") == online->number("pid"));
    CHECK(exit->has("signal"));
    CHECK_FALSE(exit->has("code"));
    if (exit->has("signal")) CHECK(exit->text("signal") == "SIGKILL");
    REQUIRE(status);
    CHECK((!status->killed_by_signal && status->code == 1));
}

TEST_CASE("the primary leaves no worker behind, running or zombie", "[02][reap]") {
    const auto run = run_to_end("lesson02",
                                {.args = with_test_child({"--workers", "4"}, {"sleep-ms-by-id", "0,50,100,150"})});
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.left_behind.empty());
    CHECK(run.events_named("exit").size() == 4);
    CHECK(run.status_is_code(0));
}

TEST_CASE("a bad command line is a usage error: exit 2, one error line, no worker", "[02][usage]") {
    const auto bad_command_line = GENERATE(as<std::vector<std::string>>{},
                                           std::vector<std::string>{"--workers", "0"},
                                           std::vector<std::string>{"--workers", "two"},
                                           std::vector<std::string>{"--wrokers", "2"},
                                           std::vector<std::string>{"--work-ms", "5-1"},
                                           std::vector<std::string>{"--work-ms", "x"},
                                           std::vector<std::string>{"--work-ms", "-3"},
                                           std::vector<std::string>{"--work-ms", "10"},
                                           std::vector<std::string>{"--work-ms", "1-"},
                                           std::vector<std::string>{"--work-ms"},
                                           std::vector<std::string>{"--exec"},
                                           std::vector<std::string>{"extra", "--", "print-args"});
    const auto run = run_to_end("lesson02", {.args = bad_command_line});
    INFO(run.transcript());
    check_usage_error(run, "lesson02");
}

TEST_CASE("by default the primary starts one worker per CPU in its affinity mask", "[02][exec]") {
    cpu_set_t set;
    CPU_ZERO(&set);
    REQUIRE(::sched_getaffinity(0, sizeof set, &set) == 0);
    std::vector<int> cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    for (const auto& mask : {std::vector<int>{cpus.front()}, cpus}) {
        const auto run = run_to_end("lesson02", {.args = with_test_child({}, {}), .cpus = mask});
        INFO(run.transcript());
        INFO("the program may run on " << mask.size() << " CPUs");
        REQUIRE(run.status_is_code(0));
        const auto primary = run.events_named("primary");
        REQUIRE(primary.size() == 1);
        CHECK(primary.front().number("workers") == static_cast<long long>(mask.size()));
        CHECK(run.events_named("fork").size() == mask.size());
    }
}

TEST_CASE("every worker finds --work-ms as given in CLUSTERKIT_WORK_MS, 1000-6000 by default, and not among its "
          "arguments",
          "[02][env]") {
    for (const auto& [flags, expected] : {std::pair{std::vector<std::string>{"--workers", "2", "--work-ms", "5-10"}, "5-10"},
                                          std::pair{std::vector<std::string>{"--workers", "2"}, "1000-6000"}}) {
        const auto run = run_to_end_of_output("lesson02", {.args = with_test_child(flags, {"print-args", "print-env", "CLUSTERKIT_WORK_MS"})});
        INFO(run.transcript());
        REQUIRE(run.status_is_code(0));
        CHECK(count_lines(run, std::string("env CLUSTERKIT_WORK_MS=") + expected) == 2);
        const auto children = run.events_named("child");
        REQUIRE(children.size() == 2);
        for (const auto& child : children) CHECK(child.number("argc") == 3);
    }
}

TEST_CASE("each worker's online line comes right after its fork line, before the next worker starts", "[02][events]") {
    const auto run = run_to_end("lesson02", {.args = with_test_child({"--workers", "3"}, {})});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    for (long long id = 1; id <= 3; ++id) {
        INFO("worker id " << id);
        const long fork = run.index_of("fork", id);
        REQUIRE(fork >= 0);
        CHECK(run.index_of("online", id) == fork + 1);
    }
}

TEST_CASE("an --exec directory is an error that names its path, before any worker is started", "[02][exec]") {
    // No process may be made at all (the test child makes every fork fail): the check comes first.
    const TempDir dir;
    const auto run = run_to_end("lesson02", {.args = {"--workers", "2", "--exec", dir.path().string()},
                                             .faults = {"forks-allowed", "0"}});
    INFO(run.transcript());
    check_cannot_run(run, dir.path().string());
    CHECK(run.events_named("fork").empty());
}

TEST_CASE("when a worker cannot be started, the workers already started get SIGTERM and are reaped, and the "
          "primary exits 1 with one error line",
          "[02][exec]") {
    // The test child lets the primary make one process; the second start fails (fork: EAGAIN, as in a full
    // process table). The first worker runs until a signal ends it.
    const auto run = run_to_end("lesson02", {.args = with_test_child({"--workers", "3"}, {"forever"}),
                                             .faults = {"forks-allowed", "1"}});
    INFO(run.transcript());
    REQUIRE(run.status.has_value());
    CHECK(run.status_is_code(1));
    const auto errors = run.stderr_lines();
    REQUIRE(errors.size() == 1);
    CHECK(errors.front().starts_with("lesson02: error: "));
    const auto forks = run.events_named("fork");
    REQUIRE(forks.size() == 1);
    const auto exits = run.events_named("exit");
    REQUIRE(exits.size() == 1);
    CHECK(exits.front().number("pid") == forks.front().number("pid"));
    CHECK(exits.front().has("signal"));
    if (exits.front().has("signal")) CHECK(exits.front().text("signal") == "SIGTERM");
    CHECK(run.left_behind.empty());
}

TEST_CASE("lesson02-worker refuses an id in CLUSTERKIT_WORKER_ID that is not a whole number of at least 1, with one "
          "error line and exit 2",
          "[02][worker]") {
    const std::string id = GENERATE("0", "-1", "abc", "2x");
    const auto run = run_to_end("lesson02-worker", {.environment = {{"CLUSTERKIT_WORKER_ID", id}, {"CLUSTERKIT_WORK_MS", "0-0"}}});
    INFO("CLUSTERKIT_WORKER_ID=" << id);
    INFO(run.transcript());
    CHECK(run.status_is_code(2));
    const auto errors = run.stderr_lines();
    REQUIRE(errors.size() == 1);
    CHECK(errors.front().starts_with("lesson02-worker: error: "));
    CHECK(errors.front().find("CLUSTERKIT_WORKER_ID") != std::string::npos);
    CHECK(run.events_named("worker").empty());
}
