// kit grade SUBMISSION... [--lessons LIST] [--jobs J] [--out DIR]: grades students' copies of starter/.
//
// For each submission: its lesson folders are copied (regular files only), each lesson is built on its own
// (a compile error costs that lesson only, and the report shows the compiler's first error), and every test
// case of the rubric runs through the pipeline of `kit verify` (pipeline.hpp) with the sandbox as its runner
// (sandbox_runner.hpp), against the submission's programs (CLUSTERKIT_BIN_DIR): the student's report says
// what `kit verify` would have said. Points come from tests/NN-name/rubric.json. The kit's tests are built once;
// the submissions are built one after another in one build folder (the build slot's, with its compiler
// cache), so what they share is compiled once, while J job slots test the ones built before. Outputs: see
// report.hpp. Workflow: docs/instructor.md.
#include "commands.hpp"
#include "grade_build.hpp"
#include "pipeline.hpp"
#include "repo.hpp"
#include "report.hpp"
#include "sandbox.hpp"
#include "sandbox_runner.hpp"
#include "verdict.hpp"

#include <clusterkit/errors.hpp>

#include <csignal>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace clusterkit::kit {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view usage =
    "usage: kit grade SUBMISSION... [--lessons LIST] [--jobs J] [--out DIR] [--timeout SECONDS]\n"
    "                 [--tests-build DIR] [--name NAME]\n"
    "       kit grade --check-rubrics [--tests-build DIR]\n"
    "       kit grade --prepare [--jobs J]   (build the tests, the slots' users and the kit library ahead, e.g. in an image)\n"
    "  SUBMISSION      a student's copy of starter/ (a folder with NN-name/ folders, or a checkout with starter/)\n"
    "  --lessons LIST  only these lessons, e.g. 01,03 (default: every lesson)\n"
    "  --jobs J        test J submissions at once, each in its own sandbox slot (default 1), while the next builds\n"
    "  --out DIR       where results go (default build/grading/results)\n"
    "  --timeout S     wall-clock limit of one test case, in seconds (default 60)\n"
    "  --tests-build D a build folder of the kit to take the test binaries from (default build/grading/kit-tests)\n"
    "  --name NAME     the submission's name in the results (one submission only; default: its folder's name)\n"
    "  --check-rubrics only check that every test case has a rubric entry and every entry a test case\n";

struct Options {
    std::vector<fs::path> submissions{};
    std::vector<std::string> lessons{};
    int jobs = 1;
    fs::path out{};
    int timeout_seconds = 60;
    fs::path tests_build{};
    std::string name{};
    bool check_rubrics = false;
    bool prepare = false;
};

int whole_number(const std::string& option, const std::string& text, int min, int max) {
    std::size_t used = 0;
    int value = 0;
    try {
        value = std::stoi(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || value < min || value > max)
        throw UsageError(option + " wants a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                         ", not '" + text + "'");
    return value;
}

Options parse_options(const Args& args, const fs::path& root) {
    Options options{.out = root / "build/grading/results", .tests_build = root / "build/grading/kit-tests"};
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& word = args[i];
        auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) throw UsageError(word + " needs a value (see kit grade --help)");
            return args[++i];
        };
        if (word == "--help" || word == "-h") throw HelpRequested(std::string(usage));
        else if (word == "--lessons") {
            std::istringstream list(value());
            for (std::string item; std::getline(list, item, ',');)
                if (!item.empty()) options.lessons.push_back(item);
        } else if (word == "--jobs") options.jobs = whole_number(word, value(), 1, 32);
        else if (word == "--out") options.out = fs::absolute(value());
        else if (word == "--timeout") options.timeout_seconds = whole_number(word, value(), 1, 3600);
        else if (word == "--tests-build") options.tests_build = fs::absolute(value());
        else if (word == "--name") options.name = value();
        else if (word == "--check-rubrics") options.check_rubrics = true;
        else if (word == "--prepare") options.prepare = true;
        else if (word.starts_with("-")) throw UsageError("unknown option '" + word + "' (see kit grade --help)");
        else options.submissions.push_back(fs::absolute(word));
    }
    if (options.submissions.empty() && !options.check_rubrics && !options.prepare)
        throw UsageError("no submission to grade (see kit grade --help)");
    if (!options.name.empty() && options.submissions.size() != 1)
        throw UsageError("--name names one submission, and there are " + std::to_string(options.submissions.size()));
    for (const auto& submission : options.submissions)
        if (!fs::is_directory(submission)) throw UsageError("submission " + submission.string() + " is not a folder");
    return options;
}

struct LessonPlan {
    Lesson lesson{};
    Rubric rubric{};
    fs::path test_binary{};
};

// The rubric check: every test case of the lesson has an entry with points > 0 and a section of the lesson
// text, and every entry names a real test case. Returns one line per problem.
std::vector<std::string> rubric_problems(const fs::path& root, const LessonPlan& plan) {
    std::vector<std::string> problems{};
    const auto file = rubric_path(root, plan.lesson).string();
    const auto listed = test_case_names(plan.test_binary);
    std::set<std::string> names(listed.begin(), listed.end());
    for (const auto& name : listed)
        if (!plan.rubric.find(name)) problems.push_back(file + ": test case \"" + name + "\" has no entry (no weight)");
    std::set<std::string> seen;
    for (const auto& entry : plan.rubric.tests) {
        if (!names.contains(entry.name)) problems.push_back(file + ": \"" + entry.name + "\" is not a test case of test" + plan.lesson.number);
        if (!seen.insert(entry.name).second) problems.push_back(file + ": \"" + entry.name + "\" is listed twice");
        if (entry.points <= 0) problems.push_back(file + ": \"" + entry.name + "\" has no positive points");
        if (!heading_line(plan.lesson.text(root), entry.section))
            problems.push_back(file + ": section \"" + entry.section + "\" is not a heading of " + plan.lesson.text(root).string());
    }
    return problems;
}

// Where a submission's lesson folders are: <submission>/starter/ in a checkout of the whole kit, else the
// submission itself.
fs::path lesson_tree_of(const fs::path& submission, const std::vector<LessonPlan>& plans) {
    const fs::path starter = submission / "starter";
    for (const auto& plan : plans)
        if (fs::is_directory(starter / plan.lesson.slug)) return starter;
    return submission;
}

// Copies a lesson folder: regular files only (no symlink into the grader's machine), at most 1 MiB each.
void copy_lesson(const fs::path& from, const fs::path& to) {
    fs::create_directories(to);
    for (const auto& entry : fs::directory_iterator(from)) {
        if (!entry.is_regular_file(/*no follow*/) || entry.is_symlink()) continue;
        if (entry.file_size() > (1u << 20)) continue;
        fs::copy_file(entry.path(), to / entry.path().filename(), fs::copy_options::overwrite_existing);
    }
}

// What a student release leaves out, which no graded code may read: the reference solutions, the mutants,
// the hostile suite, the kit's history (when it has solutions), the control's build, and the solutions'
// programs in a tests' build made from them (--tests-build build/solutions). The ones that exist here.
std::vector<fs::path> answers(const fs::path& root, const fs::path& tests_build, const fs::path& control_build,
                              const std::vector<LessonPlan>& plans) {
    std::vector<fs::path> paths{root / "solutions", root / "tests/grading", control_build};
    if (fs::exists(root / "solutions")) paths.push_back(root / ".git");
    std::ifstream cache(tests_build / "CMakeCache.txt");
    bool built_from_solutions = false;
    for (std::string line; std::getline(cache, line);)
        if (line.starts_with("CLUSTERKIT_TREE:")) built_from_solutions = line.ends_with("=solutions");
    for (const auto& plan : plans) {
        paths.push_back(root / "tests" / plan.lesson.slug / "mutants");
        if (built_from_solutions) paths.push_back(tests_build / "bin" / ("lesson" + plan.lesson.number));
    }
    std::erase_if(paths, [](const fs::path& path) { return !fs::exists(path); });
    return paths;
}

// Which of `paths` a run in the sandbox can read (a shell tries each, as the tests would run).
std::vector<std::string> readable_in(Sandbox& sandbox, const std::vector<fs::path>& paths) {
    SandboxRun run{.program = "/bin/sh", .args = {"-c", "for p do if [ -r \"$p\" ]; then echo \"$p\"; fi; done", "sh"}};
    for (const auto& path : paths) run.args.push_back(path.string());
    run.limits.wall_clock = std::chrono::seconds(30);
    const auto result = sandbox.run(run);
    if (!result.status) return {"(the check could not start: " + result.start_error + ")"};
    std::vector<std::string> readable{};
    std::istringstream lines(result.out);
    for (std::string line; std::getline(lines, line);)
        if (!line.empty()) readable.push_back(line);
    return readable;
}

// The control's first failure, in one line: the kind of cause where the text shows one, and the line that
// shows it (else the failure's first line).
std::string control_failure(const SubmissionGrade& control) {
    const std::vector<std::pair<std::string_view, std::string_view>> kinds{
        {"Permission denied", "permissions"},       {"not executable", "permissions"},
        {"Operation not permitted", "permissions"}, {"could not start", "the sandbox"},
        {"cgroup", "cgroups"},                      {"No such file", "a missing file or tool"},
        {"cannot find", "a missing file or tool"},  {"Resource temporarily unavailable", "a limit on processes"},
        {"memory limit", "a memory limit"},         {"deadline", "a deadline (an overloaded machine?)"}};
    for (const auto& lesson : control.lessons) {
        for (const auto& test : lesson.cases) {
            if (test.passed) continue;
            std::vector<std::string> lines{};
            std::istringstream text(test.output);
            for (std::string line; std::getline(text, line);)
                if (const auto start = line.find_first_not_of(" \t"); start != std::string::npos)
                    lines.push_back(line.substr(start));
            const std::string where = "lesson " + lesson.slug + ", \"" + test.name + "\": ";
            for (const auto& [phrase, kind] : kinds)
                for (const auto& line : lines)
                    if (line.find(phrase) != std::string::npos) return std::string(kind) + ": " + where + line;
            return where + (lines.empty() ? "failed" : lines.front());
        }
    }
    return "no test case failed";
}

// Whether the run may publish grades: decided once, by the control; the slots wait for it before they write
// a grade.
class Verdict {
public:
    void decide(bool publish) {
        std::lock_guard lock(mutex_);
        decided_ = true;
        publish_ = publish;
        changed_.notify_all();
    }
    bool wait() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return decided_; });
        return publish_;
    }
    bool refused() {
        std::lock_guard lock(mutex_);
        return decided_ && !publish_;
    }

private:
    std::mutex mutex_{};
    std::condition_variable changed_{};
    bool decided_ = false;
    bool publish_ = false;
};

// The one build folder of a grading run (build/grading/slot-N of the build slot, owned by its user): every
// submission is built there, one at a time and with every CPU, while the job slots test the submissions
// built before. So a file compiled once, for any submission or from the starter (--prepare), is a cache hit
// for every later one, and the user who compiles never runs graded code (the test runs are the job slots').
struct BuildSlot {
    BuildSlot(const fs::path& root, int slot, const fs::path& work, const std::vector<fs::path>& hidden)
        : sandbox(slot, work, hidden),
          build(root, root / "build/grading" / ("slot-" + std::to_string(slot)),
                static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), &sandbox) {}
    std::mutex mutex{};  // one submission's build at a time
    Sandbox sandbox;
    SlotBuild build;
};

// Thrown by Grader::grade() when the control refused the run: the grade is not written.
struct Refused : std::runtime_error {
    Refused() : std::runtime_error("the control refused this run") {}
};

class Grader {
public:
    Grader(fs::path root, Options options, std::vector<LessonPlan> plans, Verdict* verdict, BuildSlot* builder)
        : root_(std::move(root)), options_(std::move(options)), plans_(std::move(plans)), verdict_(verdict),
          builder_(builder) {}

    // A student's submission: its lesson folders are copied to <out>/<name>/tree, built in the build slot (in
    // its sandbox), and each built lesson's test cases run in this job slot's sandbox.
    SubmissionGrade grade(const fs::path& submission, const std::string& name, Sandbox& sandbox) {
        const auto started = Clock::now();
        SubmissionGrade grade = begin(name, submission, sandbox);
        const fs::path dir = options_.out / name;
        fs::remove_all(dir);
        fs::create_directories(dir / "bin");
        const fs::path tree = lesson_tree_of(submission, plans_);
        std::vector<std::string> present{};
        for (const auto& plan : plans_) {
            if (!fs::is_directory(tree / plan.lesson.slug)) continue;
            copy_lesson(tree / plan.lesson.slug, dir / "tree" / plan.lesson.slug);
            present.push_back(plan.lesson.slug);
        }

        auto lessons = build_lessons(dir, present, grade);
        for (std::size_t i = 0; i < plans_.size(); ++i) test_lesson(plans_[i], dir / "bin", sandbox, lessons[i], grade);
        if (!verdict_->wait()) throw Refused{};
        finish(grade, dir, started);
        return grade;
    }

    // The control, start to end: the reference solutions' programs built (once, in `build`), graded, and the
    // problem in one line if they do not get full marks (empty if they do).
    std::string check_control(Sandbox& sandbox, const fs::path& build, const std::vector<std::string>& numbers) {
        const fs::path dir = control_dir(options_.out);
        fs::remove_all(dir);
        try {
            build_control(root_, build, numbers, dir / "bin");
        } catch (const std::exception& error) {
            return std::string("the control (the reference solutions) does not build (a missing tool or library?): ") +
                   error.what();
        }
        const auto control = grade_control(sandbox);
        std::error_code ignored;
        fs::remove_all(dir / "bin", ignored);
        if (control.score() != control.max_score())
            return "the control (the reference solutions, graded first in the same sandbox and output folder) scored " +
                   std::to_string(control.score()) + "/" + std::to_string(control.max_score()) + ": " +
                   control_failure(control) + " (all of it: " + (dir / "report.md").string() + ")";
        fs::remove_all(dir, ignored);
        std::ostringstream line;
        line << "kit grade: control: the reference solutions scored " << control.score() << "/" << control.max_score()
             << " in this sandbox (" << std::fixed << std::setprecision(1) << control.seconds << " s)\n";
        std::cout << line.str() << std::flush;
        return {};
    }

    // The control: the reference solutions' programs, already in <out>/.control/bin (build_control), graded
    // like a submission, in the same sandbox and the same output folder. Full marks, or the grader is broken.
    SubmissionGrade grade_control(Sandbox& sandbox) {
        const auto started = Clock::now();
        SubmissionGrade grade = begin("the control (the reference solutions)", root_ / "solutions", sandbox);
        const fs::path dir = control_dir(options_.out);
        for (const auto& plan : plans_) {
            LessonGrade lesson{.slug = plan.lesson.slug, .title = plan.lesson.title, .build = BuildState::built};
            test_lesson(plan, dir / "bin", sandbox, lesson, grade);
        }
        finish(grade, dir, started);
        return grade;
    }

    static fs::path control_dir(const fs::path& out) { return out / ".control"; }

private:
    // A lesson library (lessons.json "provides": lesson 03's supervisor.cpp, which lessons 05 and 06 link) that
    // the copy lacks comes, as CMake takes it (clusterkit_add_lesson_library), from solutions/ or else starter/:
    // the sandboxed build must see that one file. Its code is then within the submission's reach at compile
    // time; it is the answer of a lesson this grade does not include.
    std::vector<fs::path> lesson_libraries_missing_from(const fs::path& tree) const {
        std::vector<fs::path> files{};
        for (const auto& lesson : read_lessons(root_)) {
            if (lesson.provides.empty()) continue;
            const fs::path file = fs::path(lesson.slug) / (lesson.provides + ".cpp");
            if (fs::exists(tree / file)) continue;
            for (const auto& fallback : {root_ / "solutions", root_ / "starter"}) {
                if (!fs::exists(fallback / file)) continue;
                files.push_back(fallback / file);
                break;
            }
        }
        return files;
    }

    // Each lesson of the plans as the submission's build left it: built, a compile error (with the first error),
    // or missing. Built in the build slot, after the submissions before it; the wait is not building time.
    std::vector<LessonGrade> build_lessons(const fs::path& dir, const std::vector<std::string>& present,
                                           SubmissionGrade& grade) {
        std::vector<LessonGrade> lessons{};
        std::vector<std::string> numbers{};      // of the lessons the submission has
        std::vector<std::size_t> present_at{};  // where those are in `lessons`
        for (const auto& plan : plans_) {
            LessonGrade lesson{.slug = plan.lesson.slug, .title = plan.lesson.title};
            if (std::ranges::find(present, plan.lesson.slug) != present.end()) {
                present_at.push_back(lessons.size());
                numbers.push_back(plan.lesson.number);
            } else {
                lesson.build = BuildState::missing;
                lesson.build_message = "the submission has no folder " + plan.lesson.slug + "/";
            }
            lessons.push_back(std::move(lesson));
        }
        if (numbers.empty()) return lessons;

        const auto asked = Clock::now();
        std::lock_guard lock(builder_->mutex);
        const auto started = Clock::now();
        grade.waited_seconds = std::chrono::duration<double>(started - asked).count();
        const auto configured = builder_->build.configure(dir / "tree", present, dir / "configure.log",
                                                          lesson_libraries_missing_from(dir / "tree"));
        std::vector<BuildOutcome> built{};
        if (configured.ok) built = builder_->build.build_lessons(numbers, dir / "bin", dir);
        for (std::size_t i = 0; i < numbers.size(); ++i) {
            auto& lesson = lessons[present_at[i]];
            if (!configured.ok) {
                lesson.build = BuildState::compile_error;
                lesson.build_message = "CMake could not configure the submission: " + configured.first_error;
                continue;
            }
            lesson.build = built[i].ok ? BuildState::built : BuildState::compile_error;
            lesson.build_message = built[i].first_error;
        }
        grade.build_seconds = std::chrono::duration<double>(Clock::now() - started).count();
        return lessons;
    }

    static SubmissionGrade begin(const std::string& name, const fs::path& source, const Sandbox& sandbox) {
        SubmissionGrade grade{.name = name, .source = source};
        grade.sandbox = sandbox.layers();
        for (const auto& missing : sandbox.missing_layers()) grade.sandbox.push_back("not in force: " + missing);
        return grade;
    }

    // Every test case of the lesson's rubric: run when the lesson built, else 0 points with the reason.
    void test_lesson(const LessonPlan& plan, const fs::path& bin, Sandbox& sandbox, LessonGrade& lesson,
                     SubmissionGrade& grade) {
        int index = 0;
        for (const auto& entry : plan.rubric.tests) {
            CaseGrade test{.name = entry.name, .section = entry.section, .max_points = entry.points};
            if (lesson.build == BuildState::built) {
                run_case(plan, bin, bin.parent_path() / ("case-" + plan.lesson.number + "-" + std::to_string(++index)),
                         sandbox, test);
                grade.test_seconds += test.seconds;
            } else {
                test.output = lesson.build == BuildState::missing ? "missing: " + lesson.build_message
                                                                  : "does not compile:\n" + lesson.build_message;
            }
            if (const auto read = read_line(root_, plan.lesson, test.name); !test.passed && !read.empty())
                test.output += (test.output.ends_with('\n') ? "" : "\n") + read + "\n";
            lesson.cases.push_back(std::move(test));
        }
        grade.lessons.push_back(std::move(lesson));
    }

    static void finish(SubmissionGrade& grade, const fs::path& dir, Clock::time_point started) {
        grade.seconds = std::chrono::duration<double>(Clock::now() - started).count() - grade.waited_seconds;
        write_results_json(grade, dir / "results.json");
        write_junit_xml(grade, dir / "junit.xml");
        write_markdown_report(grade, dir / "report.md");
    }

    // One test case through the pipeline (pipeline.hpp), with the sandbox as its runner: the same record,
    // the same CaseResult and the same failure text as `kit verify` shows the student.
    void run_case(const LessonPlan& plan, const fs::path& bin, const fs::path& work, Sandbox& sandbox, CaseGrade& test) {
        // The run sees the test binary, the helper it starts (its path is built in) and the programs under test.
        SandboxRunner runner(sandbox, {plan.test_binary.parent_path() / "clusterkit-test-child", bin},
                             std::chrono::seconds(options_.timeout_seconds));
        CaseRun run{.binary = plan.test_binary, .name = test.name, .environment = {{"CLUSTERKIT_BIN_DIR", bin.string()}},
                    .work = work};
        if (const char* deadline = std::getenv("CLUSTERKIT_TEST_DEADLINE_MS"))
            run.environment.emplace_back("CLUSTERKIT_TEST_DEADLINE_MS", deadline);
        const auto ran = runner.run(run);
        const auto result = read_case(test.name, ran);
        test.seconds = ran.seconds;
        test.passed = result.passed;
        test.points = test.passed ? test.max_points : 0;
        if (test.passed) return;
        std::string output{};
        for (const auto& line : failure_lines(result, root_)) output += line + "\n";  // test_lesson adds "read:"
        constexpr std::size_t shown = 6000;
        if (output.size() > shown) output = output.substr(0, shown) + "\n[... cut at " + std::to_string(shown) + " characters]";
        test.output = output;
    }

    fs::path root_{};
    Options options_;
    std::vector<LessonPlan> plans_{};
    Verdict* verdict_;
    BuildSlot* builder_;
};

// Progress while a class is graded, one line per finished submission: "kit grade: 3 of 8 graded (alice: ...),
// elapsed 95 s, expected end in ~158 s". The estimate assumes the rest take as long as those so far.
std::string progress_line(std::size_t done, std::size_t total, Clock::duration elapsed, const std::string& what) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    std::ostringstream line;
    line << std::fixed << std::setprecision(0) << "kit grade: " << done << " of " << total << " graded (" << what
         << "), elapsed " << seconds << " s";
    if (done < total) line << ", expected end in ~" << seconds / static_cast<double>(done) * static_cast<double>(total - done) << " s";
    line << "\n";
    return line.str();
}

std::string unique_name(std::string name, std::set<std::string>& taken) {
    if (name.empty() || name == "." || name == "..") name = "submission";
    std::string candidate = name;
    for (int n = 2; !taken.insert(candidate).second; ++n) candidate = name + "-" + std::to_string(n);
    return candidate;
}

std::string submission_name(const fs::path& submission) {
    fs::path path = submission.lexically_normal();
    if (path.filename().empty()) path = path.parent_path();
    return path.filename().string();
}

}  // namespace

int command_grade(const Args& args) {
    const fs::path root = kit_root();
    Options options = parse_options(args, root);
    ::umask(022);  // the sandbox's users must be able to read the test binaries and the submissions' programs

    // The lessons to grade, their rubrics and test binaries.
    std::vector<Lesson> lessons = read_lessons(root);
    if (!options.lessons.empty()) {
        std::vector<Lesson> chosen{};
        for (const auto& which : options.lessons) chosen.push_back(find_lesson(lessons, which));
        lessons = chosen;
    }
    std::vector<LessonPlan> plans{};
    for (const auto& lesson : lessons) {
        auto rubric = read_rubric(root, lesson);
        if (!rubric) throw std::runtime_error("lesson " + lesson.slug + " has no rubric: " + rubric_path(root, lesson).string());
        plans.push_back({lesson, *rubric, options.tests_build / "bin" / ("test" + lesson.number)});
    }
    std::cout << "kit grade: building the kit's tests in " << options.tests_build.string() << "\n" << std::flush;
    std::vector<std::string> numbers{};
    for (const auto& plan : plans) numbers.push_back(plan.lesson.number);
    build_tests(root, options.tests_build, numbers);

    std::vector<std::string> problems{};
    for (const auto& plan : plans)
        for (auto& problem : rubric_problems(root, plan)) problems.push_back(std::move(problem));
    for (const auto& problem : problems) std::cerr << "kit: error: " << problem << "\n";
    if (!problems.empty()) {
        std::cerr << "kit: error: the rubrics do not match the tests (" << problems.size() << " problem(s)); nothing graded\n";
        return exit_status::failure;
    }
    if (options.check_rubrics) {
        std::size_t cases = 0;
        for (const auto& plan : plans) cases += plan.rubric.tests.size();
        std::cout << "kit grade: rubrics OK: " << plans.size() << " lesson(s), " << cases
                  << " test cases, each with a weight and a section\n";
        return exit_status::ok;
    }

    // Slots: a lock each (two graders on one machine never share a slot), a user each, a sandbox each. The
    // first builds every submission (BuildSlot); the J others are the job slots, which test them.
    const auto claimed = claim_slots(options.jobs + 1);
    const int build_slot = claimed.front();
    const std::vector<int> slots(claimed.begin() + 1, claimed.end());
    const int last_slot = *std::ranges::max_element(claimed);
    const auto user_problems = prepare_sandbox_users(last_slot);
    // Without its unprivileged user a slot would run graded code as root: no grade from that.
    if (!user_problems.empty() && !options.prepare) {
        std::cerr << "kit: error: refusing to grade: the sandbox: " << user_problems.front()
                  << " (graded code would run as root; make the user" << (last_slot > 1 ? "s clusterkit-grade1 to " : " ")
                  << "clusterkit-grade" << last_slot << " with useradd --system)\n";
        return exit_status::failure;
    }
    for (const auto& problem : user_problems) std::cerr << "kit: warning: " << problem << "\n";
    // No graded code sees the kit or the output folder, even where they lie inside a system folder.
    const std::vector<fs::path> hidden{root, options.out};
    if (options.prepare) {
        BuildSlot builder(root, build_slot, options.out / ".sandbox", hidden);
        const auto log = root / "build/grading" / ("slot-" + std::to_string(build_slot) + ".log");
        const auto outcome = builder.build.warm(numbers, log);
        if (!outcome.ok) throw std::runtime_error("building the kit library in build slot " + std::to_string(build_slot) +
                                                  " failed: " + outcome.first_error);
        std::cout << "kit grade: prepared build slot " << build_slot << " and " << slots.size()
                  << " job slot(s): tests, users and the kit library built"
                  << (builder.build.has_cache() ? ", the starter's lessons in the compiler cache" : "") << "\n";
        return exit_status::ok;
    }
    become_subreaper();
    fs::create_directories(options.out);
    // The runs' private folders go, whatever happens (a refusal included).
    struct RemoveAtEnd {
        fs::path path;
        ~RemoveAtEnd() {
            std::error_code ignored;
            fs::remove_all(path, ignored);
        }
    } sandbox_folder{options.out / ".sandbox"};
    std::cout << "kit grade: build slot " << build_slot << ", job slots";
    for (int slot : slots) std::cout << " " << slot;
    std::cout << (::geteuid() == 0 ? " (users" : " (no users: not root");
    if (::geteuid() == 0)
        for (int slot : claimed) std::cout << " clusterkit-grade" << slot;
    std::cout << ")\n" << std::flush;

    // The grader checks itself before it writes a grade. First, no graded run may read an answer.
    const fs::path control_build = root / "build/grading/control";
    // (A compile reads as the build slot's user, a test run as a job slot's.)
    for (int slot : {build_slot, slots.front()}) {
        Sandbox sandbox(slot, options.out / ".sandbox", hidden);
        const auto readable = readable_in(sandbox, answers(root, options.tests_build, control_build, plans));
        if (!readable.empty()) {
            std::cerr << "kit: error: refusing to grade: graded code could read " << readable.front()
                      << (readable.size() > 1 ? " (and " + std::to_string(readable.size() - 1) + " more)" : "")
                      << " (permissions: no mount namespace here; make it unreadable to user "
                      << (::geteuid() == 0 ? "clusterkit-grade" + std::to_string(slot) : "you") << ")\n";
            return exit_status::failure;
        }
    }

    std::set<std::string> taken;
    std::vector<std::string> names{};
    for (const auto& submission : options.submissions)
        names.push_back(unique_name(options.name.empty() ? submission_name(submission) : options.name, taken));

    // Then the control: the first job slot grades the reference solutions while the build slot builds the
    // first submissions; no grade is written before the control has full marks, and none at all if it has not.
    const bool has_control = fs::is_directory(root / "solutions");
    if (!has_control)
        std::cout << "kit grade: control: none (this copy of the kit has no solutions/): the grades are not checked\n";
    Verdict verdict;
    std::string refusal{};
    BuildSlot builder(root, build_slot, options.out / ".sandbox", hidden);
    Grader grader(root, options, plans, &verdict, &builder);
    std::vector<SubmissionGrade> grades(options.submissions.size());
    std::atomic<std::size_t> next{0};
    std::mutex print;
    std::size_t finished = 0;  // under `print`
    const auto started = Clock::now();
    {
        std::vector<std::jthread> workers{};
        for (int slot : slots) {
            workers.emplace_back([&, slot] {
                Sandbox sandbox(slot, options.out / ".sandbox", hidden);
                if (slot == slots.front()) {
                    std::string problem{};
                    try {
                        if (has_control) problem = grader.check_control(sandbox, control_build, numbers);
                    } catch (const std::exception& error) {
                        problem = std::string("the control could not be graded: ") + error.what();
                    }
                    std::lock_guard lock(print);
                    refusal = problem;
                    verdict.decide(problem.empty());
                }
                for (std::size_t i = next++; i < options.submissions.size() && !verdict.refused(); i = next++) {
                    try {
                        grades[i] = grader.grade(options.submissions[i], names[i], sandbox);
                    } catch (const Refused&) {
                        return;
                    } catch (const std::exception& error) {
                        grades[i] = SubmissionGrade{.name = names[i], .source = options.submissions[i]};
                        std::lock_guard lock(print);
                        std::cerr << "kit: error: grading " << names[i] << ": " << error.what() << "\n";
                        std::cout << progress_line(++finished, grades.size(), Clock::now() - started,
                                                   names[i] + ": not graded (an error)") << std::flush;
                        continue;
                    }
                    std::ostringstream what;
                    what << names[i] << ": " << grades[i].score() << "/" << grades[i].max_score() << " in " << std::fixed
                         << std::setprecision(1) << grades[i].seconds << " s, build " << grades[i].build_seconds
                         << " s, tests " << grades[i].test_seconds << " s";
                    for (const auto& lesson : grades[i].lessons)
                        if (lesson.build != BuildState::built)
                            what << ", " << lesson.slug.substr(0, 2) << " "
                                 << (lesson.build == BuildState::missing ? "missing" : "does not compile");
                    std::lock_guard lock(print);
                    std::cout << progress_line(++finished, grades.size(), Clock::now() - started, what.str()) << std::flush;
                }
            });
        }
    }
    if (!refusal.empty()) {
        // What the other slots had begun (copies, builds, logs) holds no grade: it goes too.
        std::error_code ignored;
        for (const auto& name : names) fs::remove_all(options.out / name, ignored);
        std::cerr << "kit: error: refusing to grade: " << refusal << "\n";
        return exit_status::failure;
    }
    const double total = std::chrono::duration<double>(Clock::now() - started).count();
    write_gradebook(grades, options.out / "gradebook.csv");
    {
        Sandbox description(slots.front(), options.out / ".sandbox", hidden);
        std::cout << "kit grade: sandbox: ";
        for (std::size_t i = 0; i < description.layers().size(); ++i) std::cout << (i ? "; " : "") << description.layers()[i];
        std::cout << "\n";
        for (const auto& missing : description.missing_layers()) std::cout << "kit grade: not in force: " << missing << "\n";
    }
    std::cout << "kit grade: " << grades.size() << " submission(s) in " << std::fixed << std::setprecision(1) << total
              << " s with --jobs " << options.jobs << " (" << total / std::max<std::size_t>(1, grades.size())
              << " s per submission); results in " << options.out.string() << " (gradebook.csv, <name>/results.json, "
              << "junit.xml, report.md)\n";
    return exit_status::ok;
}

}  // namespace clusterkit::kit
