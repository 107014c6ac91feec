// Checking one lesson of the student's code. See check.hpp.
#include "check.hpp"

#include "exec.hpp"

#include <clusterkit/fd.hpp>
#include <clusterkit/process.hpp>

#include <algorithm>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <utility>

namespace clusterkit::kit {
namespace bp = boost::process::v2;
using Clock = std::chrono::steady_clock;

std::string describe(State state) {
    switch (state) {
    case State::not_started: return "not started";
    case State::not_building: return "not building";
    case State::failing: return "failing";
    case State::passing: return "passing";
    }
    return "?";
}

namespace {

// The value of NAME in a CMakeCache.txt ("NAME:TYPE=value"), or std::nullopt.
std::optional<std::string> cache_value(const fs::path& cache, const std::string& name) {
    std::ifstream in(cache);
    for (std::string line; std::getline(in, line);)
        if (line.starts_with(name + ":")) return line.substr(line.find('=') + 1);
    return std::nullopt;
}

std::string tail_of(const fs::path& log, std::size_t lines) {
    std::ifstream in(log);
    std::vector<std::string> all;
    for (std::string line; std::getline(in, line);) all.push_back(line);
    std::string text;
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) text += all[i] + '\n';
    return text;
}

// The compiler's first error in a build log, with the source lines and carets after it: what a student
// needs, without Ninja's and CMake's lines around it.
std::string first_error(const fs::path& log, const fs::path& root) {
    std::ifstream in(log);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    static const std::regex error_line(R"((: (fatal )?error: )|(undefined reference to)|(^collect2: error))");
    static const std::regex context_line(R"(^( +\d* *\|.*|\s+\^.*)$)");
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (!std::regex_search(lines[i], error_line)) continue;
        std::string text;
        // "In function ..." and "In file included from ..." lines just before say where it happened.
        if (i > 0 && (lines[i - 1].find(": In ") != std::string::npos || lines[i - 1].find("In file included") == 0))
            text += lines[i - 1] + '\n';
        text += lines[i] + '\n';
        for (std::size_t j = i + 1; j < lines.size() && j <= i + 6 && std::regex_match(lines[j], context_line); ++j)
            text += lines[j] + '\n';
        // Paths relative to the checkout are shorter to read.
        const std::string prefix = root.string() + "/";
        for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix)) text.erase(at, prefix.size());
        return text;
    }
    return tail_of(log, 15);
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(line);
    return lines;
}

}  // namespace

Build::Build(fs::path root, std::string preset)
    : root_(std::move(root)), preset_(std::move(preset)), directory_(root_ / "build" / preset_) {
    tree_ = preset_;
    if (preset_ == "starter" && student_tree_is_a_copy()) tree_ = student_tree().string();
}

void Build::configure(bool verbose) const {
    const auto cache = directory_ / "CMakeCache.txt";
    // Configured for this tree, and since the presets last changed (they hold the build's flags).
    const bool configured = fs::exists(directory_ / "build.ninja") && cache_value(cache, "CLUSTERKIT_TREE") == tree_ &&
                            fs::last_write_time(cache) >= fs::last_write_time(root_ / "CMakePresets.json");
    if (configured) return;
    Command cmake{find_program("cmake"), {"--preset", preset_, "-DCLUSTERKIT_TREE=" + tree_}, root_};
    if (verbose) {
        if (!run_in_terminal(cmake).code) return;
        throw std::runtime_error("configuring build/" + preset_ + " failed (see above)");
    }
    std::cout << "kit: configuring build/" << preset_ << " (once)..." << std::endl;
    const auto log = root_ / "build" / (preset_ + ".configure.log");
    const auto status = run_logged(cmake, log);
    if (status.killed_by_signal || status.code != 0)
        throw std::runtime_error("configuring build/" + preset_ + " failed; the end of " + log.string() + ":\n" +
                                 tail_of(log, 20));
}

Build::Result Build::build_lesson(const Lesson& lesson, bool verbose) const {
    Result result;
    result.log = kit_files() / ("lesson" + lesson.number + ".build.log");
    Command cmake{find_program("cmake"), {"--build", directory_.string(), "--target", "lesson" + lesson.number}, root_};
    const auto start = Clock::now();
    const auto status = verbose ? run_in_terminal(cmake) : run_logged(cmake, result.log);
    result.time = Clock::now() - start;
    result.ok = !status.killed_by_signal && status.code == 0;
    if (!result.ok && !verbose) result.first_error = first_error(result.log, root_);
    return result;
}

int TestRun::passed() const {
    return static_cast<int>(std::count_if(results.begin(), results.end(), [](const auto& r) { return r && r->passed; }));
}
int TestRun::failed() const {
    return static_cast<int>(std::count_if(results.begin(), results.end(), [](const auto& r) { return r && !r->passed; }));
}
int TestRun::not_run() const {
    return static_cast<int>(std::count_if(results.begin(), results.end(), [](const auto& r) { return !r; }));
}
int TestRun::first_failure() const {
    for (std::size_t i = 0; i < results.size(); ++i)
        if (results[i] && !results[i]->passed) return static_cast<int>(i);
    return -1;
}

namespace {

// One test case in a test binary of its own, writing its JUnit report to a file.
struct RunningTest {
    std::size_t index;
    fs::path report;
    fs::path log;
    std::unique_ptr<bp::process> process;
};

// The result of one test case from its report; a test binary that died (no report) is a failed test.
TestResult read_result(const std::string& name, const RunningTest& test, const WaitStatus& status) {
    TestResult result{.name = name, .passed = false, .message = {}, .seconds = 0};
    try {
        const auto cases = parse_junit_file(test.report);
        if (cases.empty()) throw JunitError("the test binary selected no test case named '" + name + "'");
        result.passed = true;
        for (const auto& one : cases) {  // a test case with sections has one <testcase> per section
            result.seconds += one.seconds;
            if (one.passed) continue;
            if (result.passed) result.message = one.message;
            result.passed = false;
        }
    } catch (const JunitError& error) {
        result.message = "FAILED:\n  the test program itself ended badly (" + status.describe() + "): " +
                         error.what() + "\nits output:\n" + tail_of(test.log, 20);
    }
    return result;
}

// A Catch2 2 test spec that selects exactly the test case `name`: its special characters escaped (a comma
// would otherwise separate two specs, a '[' start a tag, a '*' match anything).
std::string exact_test_spec(const std::string& name) {
    std::string spec;
    for (char c : name) {
        if (c == ',' || c == '[' || c == ']' || c == '*' || c == '\\' || c == '"' || c == '~') spec += '\\';
        spec += c;
    }
    return spec;
}

std::vector<std::string> test_names(const fs::path& binary) {
    // Catch2 2 exits with the number of test cases it listed.
    return split_lines(run_for_output({binary, {"--list-test-names-only"}}, true));
}

}  // namespace

TestRun run_lesson_tests(const Build& build, const Lesson& lesson, const TestOptions& options) {
    const auto binary = build.program("test" + lesson.number);
    const auto work = build.kit_files() / ("test" + lesson.number);
    fs::remove_all(work);
    fs::create_directories(work);

    TestRun run;
    const auto start = Clock::now();
    run.names = test_names(binary);
    run.results.resize(run.names.size());
    run.timeline_dirs.resize(run.names.size());

    std::map<std::size_t, RunningTest> running;  // by test index
    std::vector<std::size_t> ended;               // filled by the async_wait handlers
    std::size_t next = 0;
    bool failed = false;
    auto may_start = [&] {
        return next < run.names.size() && !interrupted() && !(options.stop_at_first_failure && failed);
    };
    auto start_next = [&] {
        const std::size_t index = next++;
        RunningTest test{index, work / ("case" + std::to_string(index) + ".xml"),
                         work / ("case" + std::to_string(index) + ".log"), nullptr};
        Environment environment;
        if (options.record_timelines) {
            run.timeline_dirs[index] = work / ("timeline" + std::to_string(index));
            fs::create_directories(run.timeline_dirs[index]);
            environment.emplace_back("CLUSTERKIT_TIMELINE_DIR", run.timeline_dirs[index].string());
        }
        const UniqueFd log(::open(test.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        const std::vector<std::string> args{"-r", "junit", "-o", test.report.string(), exact_test_spec(run.names[index])};
        test.process = std::make_unique<bp::process>(kit_context(), binary, args,
                                                     bp::process_stdio{nullptr, log.get(), log.get()},
                                                     EnvironmentWith(environment), OwnProcessGroup{});
        test.process->async_wait([&ended, index](boost::system::error_code, int) { ended.push_back(index); });
        running.emplace(index, std::move(test));
    };

    // Keep `parallel` test binaries busy; each ends within the tests' own deadlines, so a Ctrl-C only stops
    // new ones from starting.
    auto& context = kit_context();
    while (may_start() || !running.empty()) {
        while (may_start() && static_cast<int>(running.size()) < std::max(1, options.parallel)) start_next();
        while (ended.empty()) {
            if (context.stopped()) context.restart();
            context.run_one();
        }
        for (const std::size_t index : std::exchange(ended, {})) {
            const auto& test = running.at(index);
            const auto status = WaitStatus::from_raw(test.process->native_exit_code());
            run.results[index] = read_result(run.names[index], test, status);
            if (!run.results[index]->passed) failed = true;
            running.erase(index);
        }
    }
    run.interrupted = interrupted();
    run.time = Clock::now() - start;
    return run;
}

std::optional<bool> untouched(const fs::path& root, const fs::path& tree, const Lesson& lesson) {
    try {
        const auto git = find_program("git");
        const std::string shipped = "starter/" + lesson.slug;
        const auto listed = split_lines(run_for_output({git, {"ls-tree", "--name-only", "HEAD", shipped + "/"}, root}));
        if (listed.empty()) return std::nullopt;
        std::vector<std::string> names;
        for (const auto& path : listed) names.push_back(fs::path(path).filename().string());
        const auto folder = tree / lesson.slug;
        if (!fs::is_directory(folder)) return false;
        for (const auto& entry : fs::directory_iterator(folder))
            if (std::find(names.begin(), names.end(), entry.path().filename().string()) == names.end()) return false;
        for (const auto& name : names) {
            const auto file = folder / name;
            if (!fs::exists(file)) return false;
            if (read_file(file) != run_for_output({git, {"show", "HEAD:" + shipped + "/" + name}, root})) return false;
        }
        return true;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

LessonCheck check_lesson(const Build& build, const Lesson& lesson, const TestOptions& options, bool verbose,
                         bool always_test) {
    LessonCheck check;
    if (!always_test && untouched(kit_root(), student_tree(), lesson).value_or(false)) return check;
    check.build = build.build_lesson(lesson, verbose);
    if (!check.build.ok) {
        check.state = State::not_building;
        return check;
    }
    if (interrupted()) return check;
    check.tests = run_lesson_tests(build, lesson, options);
    check.state = check.tests.failed() == 0 && check.tests.not_run() == 0 ? State::passing : State::failing;
    return check;
}

}  // namespace clusterkit::kit

namespace clusterkit::kit {

FirstNotPassing first_not_passing(const Build& build, const std::vector<Lesson>& lessons) {
    for (const auto& lesson : lessons) {
        if (interrupted()) break;
        std::cout << "kit: checking lesson " << lesson.number << "..." << std::endl;
        auto check = check_lesson(build, lesson, TestOptions{}, false, false);
        if (check.state == State::not_started) return {&lesson, std::nullopt};
        if (check.state != State::passing) return {&lesson, std::move(check)};
    }
    return {};
}

fs::path current_lesson_file(const fs::path& root) { return root / "build" / "kit-current-lesson"; }

}  // namespace clusterkit::kit
