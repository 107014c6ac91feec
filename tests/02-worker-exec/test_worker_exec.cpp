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
#include <set>
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
    const auto run = run_to_end("lesson02", {.args = with_test_child({"--workers", "3"}, {"print-args"})});
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
    const auto run = run_to_end("lesson02", {.args = with_test_child({"--workers", "2"}, args)});
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
    const auto run = run_to_end("lesson02",
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
    // Worker 1 works 600 ms, worker 2 300 ms and worker 3 not at all: this sleep is the behaviour under
    // test, so worker 3 must be reported first and worker 1 last.
    const auto run = run_to_end("lesson02",
                                {.args = with_test_child({"--workers", "3"}, {"sleep-ms-by-id", "600,300,0"})});
    INFO(run.transcript());
    REQUIRE(run.status_is_code(0));
    std::vector<long long> exit_order;
    for (const auto& exit : run.events_named("exit")) exit_order.push_back(exit.number("id"));
    CHECK(exit_order == std::vector<long long>{3, 2, 1});
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
