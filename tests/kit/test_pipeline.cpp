// The pipeline of `kit verify` (tools/kit/pipeline.hpp): a test binary's cases listed and run one by one,
// what the kit's listener recorded read back into CaseResults, and the verdict drawn from them. The test
// binary is kit-record-sample (record_sample.cpp), whose cases fail on purpose, one way each.
#include "catch.hpp"

#include "pipeline.hpp"
#include "process_table.hpp"
#include "record.hpp"
#include "repo.hpp"
#include "sandbox_runner.hpp"
#include "verdict.hpp"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <sys/stat.h>

using namespace clusterkit::kit;
namespace record = clusterkit::record;

namespace {

// Every case of the sample binary, run once by the plain runner (as `kit verify --all` does), by name.
const std::map<std::string, CaseResult>& sample() {
    static const auto results = [] {
        PlainRunner runner;
        const auto work = fs::temp_directory_path() / ("clusterkit-test-kit-" + std::to_string(::getpid()));
        const auto run = run_test_cases(KIT_RECORD_SAMPLE, work, runner, {.stop_at_first_failure = false});
        fs::remove_all(work);
        fs::remove(last_runs_file(work));
        std::map<std::string, CaseResult> by_name;
        for (const auto& result : run.results)
            if (result) by_name.emplace(result->name, *result);
        return by_name;
    }();
    return results;
}

// A copy, not a reference into the map: g++ 14 takes a reference returned for a temporary name for dangling.
CaseResult sample(const std::string& name) {
    const auto found = sample().find(name);
    REQUIRE(found != sample().end());
    return found->second;
}

bool has_line(const std::vector<std::string>& lines, const std::string& line) {
    return std::ranges::find(lines, line) != lines.end();
}

}  // namespace

TEST_CASE("a test binary's cases are listed in order and each one is run", "[kit][pipeline]") {
    const auto names = test_case_names(KIT_RECORD_SAMPLE);
    REQUIRE(names.size() == 7);
    CHECK(names.front() == "a check that passes");
    CHECK(sample().size() == 7);
    CHECK(sample("a check that passes").passed);
    CHECK(sample("a check that passes").problems.empty());
}

TEST_CASE("a failed check is recorded with its macro, expression, expansion, place and notes", "[kit][pipeline]") {
    const auto& result = sample("a failed check names its expression, its expansion and the program run");
    CHECK_FALSE(result.passed);
    CHECK(result.problems.empty());
    REQUIRE(result.record.failures.size() == 2);
    const auto& failure = result.record.failures.front();
    CHECK(failure.macro == "CHECK");
    CHECK(failure.expression == "run.status_is_code(0)");
    CHECK(failure.expansion == "false");
    CHECK(failure.file.ends_with("tests/kit/record_sample.cpp"));
    CHECK(failure.line == 19);
    REQUIRE(failure.messages.size() == 1);
    // The transcript in the message is not repeated: the message names the run it came from.
    CHECK(failure.messages.front().run == 1);
    CHECK(failure.messages.front().text == "the child, with its transcript:\n");
    CHECK(result.record.failures[1].expansion == "4 == 99");
}

TEST_CASE("a program run is recorded with its command, timed stdout lines, stderr and how it ended",
          "[kit][pipeline]") {
    const auto& result = sample("a failed check names its expression, its expansion and the program run");
    REQUIRE(result.record.runs.size() == 1);
    const auto& run = result.record.runs.front();
    CHECK(run.number == 1);
    CHECK(run.command == "clusterkit-test-child print-args exit-code 3");
    CHECK(run.pid > 0);
    CHECK(run.ended == "exited with code 3");
    REQUIRE(run.lines.size() == 4);
    CHECK(run.lines.front().text.starts_with("child id=0 pid="));
    CHECK(run.lines.back().text == "arg[3]=3");
    CHECK(run.lines.front().ms >= 0);
    CHECK(run.lines.back().ms >= run.lines.front().ms);
    CHECK(run.stderr_text.empty());
}

TEST_CASE("the verdict shows what was expected, what came, the program's output and where the check is",
          "[kit][verdict]") {
    const auto& result = sample("a failed check names its expression, its expansion and the program run");
    const auto lines = failure_lines(result, fs::path(KIT_TEST_DATA).parent_path().parent_path());
    CHECK(lines.at(0) == "expected:  CHECK( run.status_is_code(0) )");
    CHECK(lines.at(1) == "but got:   false");
    CHECK(has_line(lines, "note: the child, with its transcript:"));
    CHECK(has_line(lines, "  stdout:"));
    CHECK(has_line(lines, "    arg[3]=3"));
    CHECK(has_line(lines, "  stderr: (nothing)"));
    CHECK(has_line(lines, "(and 1 more failed assertion(s) in this check)"));
    CHECK(lines.back() == "the check: tests/kit/record_sample.cpp:19");
    CHECK(std::ranges::count_if(lines, [](const auto& line) { return line.starts_with("your program: "); }) == 1);
}

TEST_CASE("a check that gave up waiting on a program: the verdict says for what, how long and why", "[kit][verdict]") {
    const auto& result = sample("a check that gave up waiting says for what, how long and why");
    REQUIRE(result.record.runs.size() == 1);
    const auto& run = result.record.runs.front();
    CHECK(run.ended == "still running when the test ended it");
    // The child waits for a signal, with no timer: the wait ends at the standstill, long before the deadline.
    CHECK(run.gave_up.starts_with("gave up waiting for the program to exit after "));
    CHECK(run.gave_up.find(" s: nothing can come any more: ") != std::string::npos);
    const auto lines = failure_lines(result, fs::path(KIT_TEST_DATA).parent_path().parent_path());
    const auto program = std::ranges::find_if(lines, [](const auto& line) { return line.starts_with("your program: "); });
    REQUIRE(program != lines.end());
    REQUIRE(std::next(program) != lines.end());
    CHECK(std::next(program)->starts_with("  gave up waiting for the program to exit after "));
    CHECK(std::ranges::all_of(lines, [](const auto& line) { return line.size() <= 160; }));  // wrapped, not cut
}

TEST_CASE("a run for the verdict ends a case at its first failure, not after every generated value",
          "[kit][pipeline]") {
    const std::string name = "a check over generated values fails for each of them";
    CHECK(sample(name).record.failures.size() == 3);  // run whole, as `kit verify --all` and the grader run it
    const auto work = fs::temp_directory_path() / ("clusterkit-test-kit-first-" + std::to_string(::getpid()));
    fs::create_directories(work);
    PlainRunner runner;
    const auto ran = runner.run({.binary = KIT_RECORD_SAMPLE, .name = name, .work = work, .first_failure_only = true});
    fs::remove_all(work);
    const auto result = read_case(name, ran);
    CHECK_FALSE(result.passed);
    CHECK(result.problems.empty());
    REQUIRE(result.record.failures.size() == 1);
    CHECK(result.record.failures.front().expansion == "1 == 0");
}

TEST_CASE("a failure in a section names the section and the captured values", "[kit][pipeline]") {
    const auto& result = sample("a failure inside a section names the section");
    REQUIRE(result.record.failures.size() == 1);
    const auto& failure = result.record.failures.front();
    CHECK(failure.macro == "REQUIRE");
    CHECK(failure.expansion == "2 == 3");
    CHECK(failure.sections == std::vector<std::string>{"the inner part"});
    REQUIRE(failure.messages.size() == 1);
    CHECK(failure.messages.front().text == "workers := 2");
    CHECK(has_line(failure_lines(result, "/"), "in:        the inner part"));
}

TEST_CASE("an exception that escapes a test is a failure with its message", "[kit][pipeline]") {
    const auto& result = sample("an exception escapes the test");
    CHECK_FALSE(result.passed);
    REQUIRE(result.record.failures.size() == 1);
    CHECK(result.record.failures.front().message == "boom");
    CHECK(failure_lines(result, "/").front().ends_with(": boom"));
}

TEST_CASE("a test binary that dies in the middle of a case is a failure that says so", "[kit][pipeline]") {
    const auto& result = sample("the test binary is killed in the middle of the test");
    CHECK_FALSE(result.passed);
    CHECK_FALSE(result.record.ended);
    REQUIRE_FALSE(result.problems.empty());
    CHECK(result.problems.front() ==
          "the test program itself ended badly (killed by SIGKILL) in the middle of the test");
}

TEST_CASE("a run without a record, or with another case's, is a failure that says why", "[kit][pipeline]") {
    RunnerResult crashed{.status = clusterkit::WaitStatus{.killed_by_signal = true, .signal = 11}};
    CHECK(read_case("x", crashed).problems.front() == "the test program itself ended badly (killed by SIGSEGV)");
    RunnerResult none{.status = clusterkit::WaitStatus{.code = 2}, .record = "{\"record\":\"case\",\"name\":\"y\"}\n"};
    CHECK(read_case("x", none).problems.front() == "the test program ran no test case named \"x\" (exited with code 2)");
    RunnerResult unstarted{.start_error = "No such file or directory"};
    CHECK_FALSE(read_case("x", unstarted).passed);
}

TEST_CASE("a record cut short reads back as far as it goes", "[kit][pipeline]") {
    const std::string text = "{\"record\":\"case\",\"name\":\"a\"}\n"
                             "{\"record\":\"end\",\"name\":\"a\",\"passed\":true,\"seconds\":0.5}\n"
                             "{\"record\":\"case\",\"name\":\"b\"}\n"
                             "{\"record\":\"failure\",\"macro\":\"CHECK\",\"expression\":\"x\",\"expansion\":\"0\",\"li";
    const auto cases = record::read_records(text);
    REQUIRE(cases.size() == 2);
    CHECK(cases[0].ended);
    CHECK(cases[0].passed);
    CHECK(cases[0].seconds == Approx(0.5));
    CHECK_FALSE(cases[1].ended);
    CHECK(cases[1].failures.empty());
    const RunnerResult passed_but_crashed{.status = clusterkit::WaitStatus{.killed_by_signal = true, .signal = 6},
                                          .record = text};
    const auto result = read_case("a", passed_but_crashed);
    CHECK_FALSE(result.passed);
    CHECK(result.problems == std::vector<std::string>{"the test passed, but the test program then killed by SIGABRT"});
}

TEST_CASE("after a failure, a later case still running is cancelled with every process it started, its /dev/shm objects "
          "and its temporary files",
          "[kit][pipeline]") {
    const auto work = fs::temp_directory_path() / ("clusterkit-test-kit-cancel-" + std::to_string(::getpid()));
    fs::remove_all(work);
    fs::create_directories(work);
    const auto fifo = work / "started";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    REQUIRE(::setenv("CLUSTERKIT_SAMPLE_FIFO", fifo.c_str(), 1) == 0);

    PlainRunner runner;
    const auto run = run_test_cases(KIT_CANCEL_SAMPLE, work / "cases", runner, {.stop_at_first_failure = true, .parallel = 2});
    ::unsetenv("CLUSTERKIT_SAMPLE_FIFO");
    REQUIRE(run.results.size() == 2);
    REQUIRE(run.results[0].has_value());
    CHECK_FALSE(run.results[0]->passed);
    CHECK_FALSE(run.results[1].has_value());  // cancelled: not run, as the verdict counts
    CHECK(run.time < std::chrono::seconds(30));  // the second case alone would take a minute

    // The process the second case started, named in the first case's failure, is gone.
    REQUIRE(!run.results[0]->record.failures.empty());
    pid_t started = 0;
    fs::path folder;
    for (const auto& note : run.results[0]->record.failures.front().messages) {
        if (note.text.starts_with("the next case started process ")) started = std::stoi(note.text.substr(30));
        if (note.text.starts_with("the next case made the folder ")) folder = note.text.substr(30);
    }
    REQUIRE(started > 1);
    CHECK_FALSE(read_process(started).has_value());  // not even a zombie: it came back to the kit, which reaped it
    // And the /dev/shm object it made under the prefix the runner gave it.
    std::vector<std::string> shm_left;
    for (const auto& entry : fs::directory_iterator("/dev/shm"))
        if (entry.path().filename().string().starts_with("ckv-" + std::to_string(::getpid()) + "-"))
            shm_left.push_back(entry.path().filename().string());
    CHECK(shm_left.empty());
    // And the folder it made under the TMPDIR the runner gave it, which is not the machine's.
    REQUIRE_FALSE(folder.empty());
    CHECK(folder.parent_path() != fs::temp_directory_path());
    CHECK_FALSE(fs::exists(folder));
    fs::remove_all(work);
}

TEST_CASE("cases start with those that failed the last time in order, then the longest, then those never run in order",
          "[kit][pipeline]") {
    const std::vector<std::string> names{"a", "b", "c", "d", "e"};
    CHECK(start_order(names, {}) == std::vector<std::size_t>{0, 1, 2, 3, 4});
    CHECK(start_order(names, {{"d", {2.0}}, {"b", {0.5}}, {"gone", {9.0}}}) == std::vector<std::size_t>{3, 1, 0, 2, 4});
    CHECK(start_order(names, {{"c", {1.0}}, {"e", {1.0}}}) == std::vector<std::size_t>{2, 4, 0, 1, 3});
    // A failed case that took long (a deadline it waited out) does not go before an earlier one that failed.
    CHECK(start_order(names, {{"a", {5.0}}, {"c", {0.1, true}}, {"d", {5.2, true}}}) ==
          std::vector<std::size_t>{2, 3, 0, 1, 4});
}

TEST_CASE("a run keeps what each case did for the next, which starts another case first and gives the same verdict",
          "[kit][pipeline]") {
    const auto work = fs::temp_directory_path() / ("clusterkit-test-kit-order-" + std::to_string(::getpid()));
    fs::remove_all(work);
    fs::create_directories(work);
    const auto cases = work / "cases";
    PlainRunner runner;
    // One at a time, stopped at the first failure: in the binary's order, case 1 fails and nothing after it runs.
    const RunOptions one_by_one{.stop_at_first_failure = true, .parallel = 1};
    const auto first = run_test_cases(KIT_RECORD_SAMPLE, cases, runner, one_by_one);
    REQUIRE(first.first_failure() == 1);
    CHECK(first.not_run() == 5);
    auto last = read_last_runs(last_runs_file(cases));
    REQUIRE(last.size() == 2);  // the five not run have no last run
    CHECK_FALSE(last.at(first.names[0]).failed);
    CHECK(last.at(first.names[1]).failed);

    // Say the last case took longest: it starts first, then the first failure in order is still found, and
    // the verdict is the same as before.
    const std::string generated = "a check over generated values fails for each of them";
    REQUIRE(first.names.back() == generated);
    std::ofstream(last_runs_file(cases)) << "99\tpassed\t" << generated << "\n";
    const auto second = run_test_cases(KIT_RECORD_SAMPLE, cases, runner, one_by_one);
    CHECK(second.first_failure() == 1);
    CHECK(second.passed() == first.passed());
    CHECK(second.failed() == first.failed());
    CHECK(second.not_run() == first.not_run());
    last = read_last_runs(last_runs_file(cases));
    CHECK(last.at(generated).seconds < 99);  // it ran: it was started before case 1 failed
    CHECK(last.at(generated).failed);
    fs::remove_all(work);
}

namespace {

// The plain runner, noting the order in which the cases start.
class NotingRunner final : public TestRunner {
public:
    RunnerResult run(const CaseRun& run) override {
        {
            const std::lock_guard lock(mutex_);
            started_.push_back(run.name);
        }
        return plain_.run(run);
    }
    std::vector<std::string> started() const {
        const std::lock_guard lock(mutex_);
        return started_;
    }

private:
    PlainRunner plain_;
    mutable std::mutex mutex_;
    std::vector<std::string> started_;
};

}  // namespace

TEST_CASE("besides the slots for the longest cases, one takes the cases in the binary's order: an early failure "
          "does not wait behind the last run's longest cases",
          "[kit][pipeline]") {
    const auto work = fs::temp_directory_path() / ("clusterkit-test-kit-slot-" + std::to_string(::getpid()));
    fs::remove_all(work);
    fs::create_directories(work);
    const auto cases = work / "cases";
    const auto names = test_case_names(KIT_RECORD_SAMPLE);
    REQUIRE(names.size() == 7);
    // The last run: the lesson passed, and its last cases took longest (as lesson 08's hang check does).
    std::ofstream(last_runs_file(cases)) << "99\tpassed\t" << names[6] << "\n98\tpassed\t" << names[5]
                                         << "\n97\tpassed\t" << names[4] << "\n";

    NotingRunner runner;
    const auto run = run_test_cases(KIT_RECORD_SAMPLE, cases, runner, {.stop_at_first_failure = true, .parallel = 2});
    const auto started = runner.started();
    REQUIRE(started.size() >= 3);
    // Three start at once: the two longest of the last run, and the first in the binary's order.
    CHECK(std::set<std::string>(started.begin(), started.begin() + 3) ==
          std::set<std::string>{names[0], names[6], names[5]});
    CHECK(run.first_failure() == 1);
    fs::remove_all(work);
}

TEST_CASE("a test spec selects exactly one test case, whatever its characters", "[kit][pipeline]") {
    CHECK(exact_test_spec("a, b [c] *d* ~e \"f\" \\g") == "a\\, b \\[c\\] \\*d\\* \\~e \\\"f\\\" \\\\g");
}

TEST_CASE("the sandbox's findings become the runner's problems, in a grade's words (kit grade)", "[kit][sandbox]") {
    SandboxLimits limits{};
    limits.wall_clock = std::chrono::seconds(8);
    CHECK(sandbox_problems(SandboxResult{.status = clusterkit::WaitStatus{.code = 0}}, limits).empty());

    const SandboxResult hung{.status = clusterkit::WaitStatus{.killed_by_signal = true, .signal = SIGKILL},
                             .timed_out = true, .processes_killed = 3};
    CHECK(sandbox_problems(hung, limits) ==
          std::vector<std::string>{"stopped at the 8 s deadline: the program hung, or never ended (everything it "
                                   "started was killed)"});

    const SandboxResult spun{.status = clusterkit::WaitStatus{.killed_by_signal = true, .signal = SIGXCPU}};
    CHECK(sandbox_problems(spun, limits) ==
          std::vector<std::string>{"the test process was killed by SIGXCPU (the CPU-time limit)"});
    const SandboxResult wrote{.status = clusterkit::WaitStatus{.killed_by_signal = true, .signal = SIGXFSZ}};
    CHECK(sandbox_problems(wrote, limits) ==
          std::vector<std::string>{"the test process was killed by SIGXFSZ (the file-size limit)"});

    const SandboxResult messy{.status = clusterkit::WaitStatus{.code = 1}, .out_dropped = 100,
                              .processes_killed = 2, .objects_removed = 1};
    CHECK(sandbox_problems(messy, limits) ==
          std::vector<std::string>{
              "the test's report passed the 8 MiB output cap: a flood of output (100 bytes dropped)",
              "left behind 2 process(es) still running after the test ended (killed)",
              "left behind 1 object(s) in /dev/shm, /tmp or SysV IPC (removed)"});

    // A run that did not start: read_case says so, with the sandbox's reason.
    const RunnerResult not_started{.start_error = "mount namespace: /usr: Permission denied"};
    const auto result = read_case("a", not_started);
    CHECK_FALSE(result.passed);
    CHECK(result.problems.front() == "the test program could not start: mount namespace: /usr: Permission denied");
}

TEST_CASE("a lesson heading becomes GitHub's anchor", "[kit][verdict]") {
    CHECK(github_anchor("Why one worker per CPU") == "why-one-worker-per-cpu");
    CHECK(github_anchor("Reaping, and `EINTR`") == "reaping-and-eintr");
    CHECK(github_anchor("  fork() and exec()  ") == "fork-and-exec");
}
