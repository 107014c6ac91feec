// The one way the kit runs a lesson's tests. See pipeline.hpp.
#include "pipeline.hpp"

#include "build.hpp"
#include "process_table.hpp"

#include <clusterkit/errors.hpp>
#include <clusterkit/fd.hpp>
#include <clusterkit/process.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <numeric>
#include <sys/prctl.h>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace clusterkit::kit {
namespace asio = boost::asio;
namespace bp = boost::process::v2;
using Clock = std::chrono::steady_clock;

namespace {

// In the child, after fork: a session of its own, so that the kit can find every process the test starts.
struct OwnSession {
    template <typename Launcher>
    boost::system::error_code on_exec_setup(Launcher&, const fs::path&, const char* const*&) const {
        if (::setsid() == -1) return {errno, boost::system::system_category()};
        return {};
    }
};

// Removes what a test run left in /dev/shm under its prefix: a test killed at its deadline or cancelled
// cannot remove its own (lesson 04's segments).
void remove_shared_memory(const std::string& prefix) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator("/dev/shm", error))
        if (entry.path().filename().string().starts_with(prefix)) fs::remove(entry.path(), error);
}

bool exited_zero(const std::optional<WaitStatus>& status) {
    return status && !status->killed_by_signal && status->code == 0;
}

// Why a case whose record is missing or cut short failed.
std::string ended_badly(const std::string& name, const RunnerResult& ran, bool began) {
    const std::string how = ran.status ? ran.status->describe() : "it did not start";
    if (!began && ran.status && !ran.status->killed_by_signal)
        return "the test program ran no test case named \"" + name + "\" (" + how + ")";
    return "the test program itself ended badly (" + how + ")" + (began ? " in the middle of the test" : "");
}

}  // namespace

std::vector<std::string> test_case_names(const fs::path& binary) {
    // Catch2 2 exits with the number of test cases it listed, not 0.
    auto names = nonempty_lines(run_for_output({binary, {"--list-test-names-only"}}, true));
    if (names.empty()) throw std::runtime_error(binary.string() + " --list-test-names-only listed no test case");
    return names;
}

std::string exact_test_spec(const std::string& name) {
    std::string spec;
    for (char c : name) {
        if (std::string_view(",[]*~\"\\").find(c) != std::string_view::npos) spec += '\\';
        spec += c;
    }
    return spec;
}

std::vector<std::string> test_arguments(const CaseRun& run) {
    std::vector<std::string> arguments{exact_test_spec(run.name)};
    // A case that repeats itself over GENERATE()d values would otherwise go on with the next value after
    // the first one failed, waiting again for the same program to end or print.
    if (run.first_failure_only) arguments.emplace_back("--abort");
    return arguments;
}

RunnerResult PlainRunner::run(const CaseRun& run) {
    RunnerResult result;
    const auto record_file = run.work / "record.jsonl";
    const auto log = run.work / "output.log";
    fs::remove(record_file);
    const UniqueFd output(::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    auto environment = run.environment;
    environment.emplace_back(record::file_variable, record_file.string());
    // The run's shared memory objects are named under this prefix (as in the grader's sandbox).
    const std::string shm_prefix = "ckv-" + std::to_string(::getpid()) + "-" + run.work.filename().string();
    environment.emplace_back("CLUSTERKIT_SHM_PREFIX", shm_prefix);
    // And its temporary files in a folder of its own, removed after it, for the same reason (lessons 07 and
    // 08's deployments): the grader's sandbox gives each run a private TMPDIR too.
    const auto temporary = run.work / "tmp";
    fs::remove_all(temporary);
    fs::create_directories(temporary);
    environment.emplace_back("TMPDIR", temporary.string());

    // The orphans of a killed test come back to the kit, which reaps them (kill_session), not to init.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    asio::io_context context;  // one per run: runs may go on in several threads at once
    const auto start = Clock::now();
    try {
        bp::process test(context, run.binary, test_arguments(run),
                         bp::process_stdio{nullptr, output.get(), output.get()}, EnvironmentWith(environment),
                         OwnSession{});
        const pid_t session = test.id();
        asio::steady_timer deadline(context, deadline_);
        deadline.async_wait([&](boost::system::error_code cancelled) {
            if (cancelled) return;
            result.timed_out = true;
            kill_session(session);
        });
        test.async_wait([&](boost::system::error_code, int) {
            deadline.cancel();
            result.status = WaitStatus::from_raw(test.native_exit_code());
        });
        // Called from the thread that asks; the kill happens on this run's own loop.
        const std::stop_callback cancel(run.stop, [&] {
            asio::post(context, [&] {
                if (result.status) return;  // it has ended by itself
                result.cancelled = true;
                kill_session(session);
            });
        });
        context.run();
        kill_session(session);  // what the test left running (nothing, unless it was killed) is a leftover
    } catch (const std::exception& error) {
        result.start_error = error.what();
    }
    remove_shared_memory(shm_prefix);
    std::error_code ignored;
    fs::remove_all(temporary, ignored);
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (result.timed_out)
        result.problems.push_back("stopped at the " + std::to_string(deadline_.count()) +
                                  " s deadline: the test or the program under test hung");
    if (fs::exists(record_file)) result.record = read_file(record_file);
    result.output = last_lines(log, 200);
    return result;
}

CaseResult read_case(const std::string& name, const RunnerResult& ran) {
    CaseResult result{.name = name, .seconds = ran.seconds, .problems = ran.problems, .output = ran.output};
    if (!ran.status) {
        result.problems.insert(result.problems.begin(), "the test program could not start: " + ran.start_error);
        return result;
    }
    const auto cases = record::read_records(ran.record);
    const auto found = std::find_if(cases.begin(), cases.end(), [&](const auto& one) { return one.name == name; });
    if (found != cases.end()) result.record = *found;
    const bool began = found != cases.end();
    if (!began || !found->ended) {
        result.problems.insert(result.problems.begin(), ended_badly(name, ran, began));
    } else if (found->passed && !exited_zero(ran.status)) {
        result.problems.push_back("the test passed, but the test program then " + ran.status->describe());
    }
    result.passed = began && found->ended && found->passed && result.problems.empty();
    if (began && found->ended) result.seconds = found->seconds;
    return result;
}

int CasesRun::passed() const {
    return static_cast<int>(std::ranges::count_if(results, [](const auto& r) { return r && r->passed; }));
}
int CasesRun::failed() const {
    return static_cast<int>(std::ranges::count_if(results, [](const auto& r) { return r && !r->passed; }));
}
int CasesRun::not_run() const {
    return static_cast<int>(std::ranges::count_if(results, [](const auto& r) { return !r; }));
}
int CasesRun::first_failure() const {
    for (std::size_t i = 0; i < results.size(); ++i)
        if (results[i] && !results[i]->passed) return static_cast<int>(i);
    return -1;
}

std::vector<std::size_t> start_order(const std::vector<std::string>& names, const LastRuns& last) {
    std::vector<std::size_t> order(names.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    // Ranks: 2 failed, 1 passed, 0 never run; within a rank, higher first.
    const auto priority = [&](std::size_t index) {
        const auto found = last.find(names[index]);
        if (found == last.end()) return std::pair{0, 0.0};
        if (found->second.failed) return std::pair{2, 0.0};  // the stable sort keeps the binary's order
        return std::pair{1, found->second.seconds};
    };
    std::ranges::stable_sort(order, std::ranges::greater{}, priority);
    return order;
}

fs::path last_runs_file(const fs::path& work) { return work.parent_path() / (work.filename().string() + ".last"); }

LastRuns read_last_runs(const fs::path& file) {
    LastRuns last;
    std::ifstream in(file);
    LastRun run;
    std::string outcome, name;
    while (in >> run.seconds >> outcome && in.get() == '\t' && std::getline(in, name)) {
        run.failed = outcome == "failed";
        last[name] = run;
    }
    return last;
}

namespace {

// What this run found, over what the last one found for the cases this one did not run.
void write_last_runs(const fs::path& file, const CasesRun& run, const LastRuns& last) {
    LastRuns now;
    for (std::size_t i = 0; i < run.names.size(); ++i) {
        if (const auto& result = run.results[i]) now[run.names[i]] = {result->seconds, !result->passed};
        else if (const auto found = last.find(run.names[i]); found != last.end()) now.insert(*found);
    }
    std::ofstream out(file);
    for (const auto& [name, case_run] : now)
        out << case_run.seconds << '\t' << (case_run.failed ? "failed" : "passed") << '\t' << name << '\n';
}

// Which case starts next, in two kinds of slot: `slots` of them take the cases in start_order(), and one more
// (when there are two or more, and the run stops at the first failure) takes them in the binary's order. A
// lesson that passed and then broke usually fails early in the binary's order, in a moment; start_order() alone
// would start the last run's longest cases first, and those may now wait out their deadlines while the quick
// failure that decides the verdict waits. One slot more rather than one of them: the longest cases still start
// together, as when the lesson passes.
class NextCase {
public:
    NextCase(std::vector<std::size_t> order, int slots, bool slot_in_order)
        : order_(std::move(order)), started_(order_.size()), slots_(std::max(1, slots)),
          slot_in_order_(slot_in_order && slots > 1) {}

    // The next case to start now: one that has not started, that `needed` still wants, and for which a slot is
    // free; or std::nullopt.
    template <typename Needed>
    std::optional<std::size_t> take(const Needed& needed) {
        std::optional<std::size_t> index;
        if (slot_in_order_ && !in_order_) index = in_order_ = first_left(next_in_order_, needed, std::identity{});
        if (!index && running_ < slots_) {
            index = first_left(next_, needed, [&](std::size_t position) { return order_[position]; });
            if (index) ++running_;
        }
        if (index) started_[*index] = true;
        return index;
    }

    void ended(std::size_t index) {
        if (in_order_ == index) in_order_.reset();
        else --running_;
    }

private:
    // From `cursor` on (in a sequence that at(position) reads), the first case left; the cursor moves past the
    // others, which never come back: a started case stays started, and one not needed is never needed again.
    template <typename Needed, typename At>
    std::optional<std::size_t> first_left(std::size_t& cursor, const Needed& needed, const At& at) {
        while (cursor < order_.size() && (started_[at(cursor)] || !needed(at(cursor)))) ++cursor;
        if (cursor == order_.size()) return std::nullopt;
        return at(cursor);
    }

    std::vector<std::size_t> order_;  // start_order()
    std::vector<bool> started_;       // by case index
    int slots_;                       // for the cases in order_
    int running_ = 0;                 // of them
    bool slot_in_order_;
    std::optional<std::size_t> in_order_;  // the case the slot in the binary's order runs, if any
    std::size_t next_ = 0;                 // into order_
    std::size_t next_in_order_ = 0;        // a case index
};

}  // namespace

CasesRun run_test_cases(const fs::path& binary, const fs::path& work, TestRunner& runner, const RunOptions& options) {
    fs::remove_all(work);
    CasesRun run;
    const auto start = Clock::now();
    run.names = test_case_names(binary);
    run.results.resize(run.names.size());
    const auto last_file = last_runs_file(work);
    const auto last = read_last_runs(last_file);
    NextCase next_case(start_order(run.names, last), options.parallel, options.stop_at_first_failure);

    // Each case runs in a thread of its own (a runner blocks until its test ends); the results come back to
    // this thread through the kit's event loop, which also notices a Ctrl-C. A Ctrl-C only stops new cases
    // from starting: each running one ends within the tests' own deadlines.
    auto& context = kit_context();
    const auto keep_waiting = asio::make_work_guard(context);
    int running = 0;
    std::optional<std::size_t> first_failure;  // the earliest in the binary's order so far
    // The verdict shows the first failure in order: once it is known, no case after it is needed.
    const auto needed = [&](std::size_t index) {
        return !(options.stop_at_first_failure && first_failure && index > *first_failure);
    };
    std::vector<std::jthread> threads(run.names.size());  // by case index
    for (;;) {
        while (!interrupted()) {
            const auto next = next_case.take(needed);
            if (!next) break;
            const std::size_t index = *next;
            ++running;
            CaseRun one{.binary = binary,
                        .name = run.names[index],
                        .work = work / ("case" + std::to_string(index)),
                        .first_failure_only = options.stop_at_first_failure};
            fs::create_directories(one.work);
            threads[index] = std::jthread([&, index, one](std::stop_token stop) mutable {
                one.stop = std::move(stop);
                auto ran = runner.run(one);
                asio::post(context, [&, index, ran = std::move(ran)] {
                    --running;
                    next_case.ended(index);
                    if (ran.cancelled) return;  // not run, as far as the verdict goes
                    run.results[index] = read_case(run.names[index], ran);
                    if (run.results[index]->passed) return;
                    if (!first_failure || index < *first_failure) first_failure = index;
                    // A later case still running cannot change the verdict, so it is stopped now rather than
                    // waited for (an earlier one still running can).
                    if (options.stop_at_first_failure)
                        for (std::size_t later = index + 1; later < threads.size(); ++later) threads[later].request_stop();
                });
            });
        }
        if (running == 0) break;  // nothing left to start, or a Ctrl-C
        if (context.stopped()) context.restart();
        context.run_one();
    }
    run.interrupted = interrupted();
    run.time = Clock::now() - start;
    write_last_runs(last_file, run, last);
    // A case after the first failure that ended before that failure was known is not part of the verdict
    // either: the verdict is the same whatever order the cases started in.
    if (options.stop_at_first_failure && first_failure)
        for (std::size_t later = *first_failure + 1; later < run.results.size(); ++later) run.results[later].reset();
    return run;
}

}  // namespace clusterkit::kit
