// The one way the kit runs a lesson's tests: list the test cases of a test binary, run each on its own with
// a runner, and read what the test recorded (tests/support/record.hpp) into one result type, CaseResult.
// `kit verify`, `watch` and `list` use it; every view (the verdict, the timeline, a grade) is drawn from
// CaseResult. The runner is the one part that changes: a plain child process here, the grader's sandbox
// (sandbox.hpp) when it plugs in.
#pragma once

#include "exec.hpp"
#include "record.hpp"

#include <clusterkit/cpus.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace clusterkit::kit {

namespace fs = std::filesystem;

// The test case names of a Catch2 test binary (2.13, or 3.x through tests/support/main.cpp's mapping of
// --list-test-names-only), in the binary's order. Throws std::runtime_error when it lists none.
std::vector<std::string> test_case_names(const fs::path& binary);

// The Catch2 test spec that selects exactly the test case `name`: its special characters escaped (a comma
// would otherwise separate two specs, a '[' start a tag, a '*' match anything).
std::string exact_test_spec(const std::string& name);

// One test case to run: the test binary, told to run only that case.
struct CaseRun {
    fs::path binary;
    std::string name;
    Environment environment{};  // added to what the runner sets itself
    fs::path work{};            // a folder of this run's own, for its files
    std::stop_token stop{};     // requested when the verdict no longer needs this case: the runner ends it
    bool first_failure_only = false;  // the case ends at its first failed assertion (Catch2's --abort)
};

// The test binary's arguments for one run: the case, and --abort if only its first failure is wanted.
std::vector<std::string> test_arguments(const CaseRun& run);

// What the runner saw. The test's record is its own data; `problems` is what the runner found wrong around
// it (the deadline, processes or objects left behind).
struct RunnerResult {
    std::optional<WaitStatus> status{}; // how the test binary ended; std::nullopt: it did not start
    std::string start_error{};
    bool timed_out = false;
    bool cancelled = false;             // ended by the kit because its result was no longer needed
    std::string record{};               // the text of the record file (CLUSTERKIT_RESULT_FILE); "" if none
    std::string output{};               // the test binary's own stdout and stderr (Catch2's report), its end
    std::vector<std::string> problems{};
    double seconds = 0;
};

class TestRunner {
public:
    virtual ~TestRunner() = default;
    // Runs one test case to its end, with CLUSTERKIT_RESULT_FILE naming a file the test may write. Called
    // from several threads at once when cases run in parallel.
    virtual RunnerResult run(const CaseRun& run) = 0;
};

// The test binary as a plain child of the kit, in a session of its own (a Ctrl-C reaches the kit, which lets
// a running test end its own programs). The programs a test starts lead process groups of their own but stay
// in its session: at the deadline, or when the case is cancelled (CaseRun::stop), every process of the
// session is killed.
class PlainRunner : public TestRunner {
public:
    explicit PlainRunner(std::chrono::seconds deadline = std::chrono::seconds(120)) : deadline_(deadline) {}
    RunnerResult run(const CaseRun& run) override;

private:
    std::chrono::seconds deadline_;
};

// The result of one test case: what every view of it is drawn from.
struct CaseResult {
    std::string name;
    bool passed = false;
    double seconds = 0;
    record::CaseRecord record{};        // the failed assertions and the program runs, as the test recorded them
    std::vector<std::string> problems{};// why it failed besides its assertions: the test program ended badly, ...
    std::string output{};               // the test binary's own output, for --verbose
};

// Reads a run's record for the case `name`. A case with no record, or one cut short, failed: "the test
// program itself ended badly (<how>)".
CaseResult read_case(const std::string& name, const RunnerResult& ran);

struct RunOptions {
    bool stop_at_first_failure = true;  // rustlings' way: the loop stays short
    // One case per CPU, and one more: a case spends most of its time waiting for its programs' lines, exits and
    // timers, not on a CPU, so one more keeps the CPUs busy while a case waits out a time its lesson sets.
    // (With two or more, and stop_at_first_failure, run_test_cases adds a slot that takes the cases in the
    // binary's order.)
    int parallel = usable_cpu_count() + 1;
};

// Every test case of a binary, in order, with the results of those that ran.
struct CasesRun {
    std::vector<std::string> names;
    std::vector<std::optional<CaseResult>> results;  // per name; std::nullopt: not run
    bool interrupted = false;                        // Ctrl-C: no more cases were started
    std::chrono::duration<double> time{};

    int passed() const;
    int failed() const;
    int not_run() const;
    int first_failure() const;  // the index of the first failing case in order, or -1
};

// What the last run of a case found, by the case's name.
struct LastRun {
    double seconds = 0;
    bool failed = false;
};
using LastRuns = std::map<std::string, LastRun>;

// The order to start cases in. First those that failed the last time, in the binary's order: the earliest of
// them is likely the verdict again, and once it has failed no case after it is needed. (Not the longest of
// them first: a failing case may wait out a deadline, and would keep a quick, earlier failure from starting.)
// Then those that passed, the longest the last time first, so that a slow case does not start last and keep
// the run going on one slot while the others are idle. Cases never run keep the binary's order, after these.
std::vector<std::size_t> start_order(const std::vector<std::string>& names, const LastRuns& last);

// Where run_test_cases keeps what the last run found for `work`: WORK.last, one
// "seconds<TAB>passed|failed<TAB>name" line per case. A file that is missing or unreadable is no last run.
fs::path last_runs_file(const fs::path& work);
LastRuns read_last_runs(const fs::path& file);

// Runs each test case of `binary` on its own with `runner`, `parallel` at a time in start_order(), and (when
// `parallel` is two or more, with stop_at_first_failure) one more at a time in the binary's order. `work` holds
// one folder per case. The results are by case, in the binary's order, whatever the start order. With
// stop_at_first_failure, no case after the first failure in the binary's order starts, and those that are
// still running are cancelled (the verdict shows the first failure in order): they count as not run.
CasesRun run_test_cases(const fs::path& binary, const fs::path& work, TestRunner& runner, const RunOptions& options);

}  // namespace clusterkit::kit
