// Checking one lesson of the student's code: is it untouched, does it build, do its tests pass.
//
// A lesson's state (what `kit list` shows, documented in README.md):
//   not started   every file of the lesson folder is exactly the shipped starter (git's HEAD), none added
//   not building  the lesson's programs do not compile (verify shows the first compiler error)
//   failing       it builds, and a test fails
//   passing       it builds, and every test passes
#pragma once

#include "junit.hpp"
#include "repo.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace clusterkit::kit {

enum class State { not_started, not_building, failing, passing };
std::string describe(State state);

// A CMake build folder of this checkout, from one of CMakePresets.json's presets: "starter" (the student's
// code: starter/ or $CLUSTERKIT_TREE) or "solutions" (the reference).
class Build {
public:
    Build(fs::path root, std::string preset);

    const fs::path& directory() const { return directory_; }
    fs::path program(const std::string& name) const { return directory_ / "bin" / name; }
    fs::path kit_files() const { return directory_ / "kit"; }  // the kit's logs and reports

    // Configures the folder unless it is already configured for the right tree. Throws std::runtime_error
    // (with the log's end) when CMake fails.
    void configure(bool verbose) const;

    struct Result {
        bool ok = false;
        fs::path log;
        std::string first_error;  // the compiler's first error, with its source lines, when !ok
        std::chrono::duration<double> time{};
    };
    // Builds the lesson's programs and its test binary (the target lessonNN).
    Result build_lesson(const Lesson& lesson, bool verbose) const;

private:
    fs::path root_;
    std::string preset_;
    fs::path directory_;
    std::string tree_;  // the CLUSTERKIT_TREE value this folder must be configured with
};

struct TestOptions {
    bool stop_at_first_failure = true;  // rustlings' way: the loop stays short
    bool record_timelines = false;      // each test's program runs recorded for a timeline (CLUSTERKIT_TIMELINE_DIR)
    int parallel = 2;
};

struct TestRun {
    std::vector<std::string> names;                 // every test case of the lesson, in order
    std::vector<std::optional<TestResult>> results; // per name; std::nullopt: not run
    std::vector<fs::path> timeline_dirs;            // per name, when recorded
    bool interrupted = false;                       // Ctrl-C: the kit stopped starting tests
    std::chrono::duration<double> time{};

    int passed() const;
    int failed() const;
    int not_run() const;
    // Index of the first failing test case in lesson order, or -1.
    int first_failure() const;
};

// Runs the lesson's test binary (<build>/bin/testNN) once per test case, `parallel` at a time, each writing
// Catch2's JUnit report, and reads the reports back.
TestRun run_lesson_tests(const Build& build, const Lesson& lesson, const TestOptions& options);

// True when every file of the student's lesson folder is exactly the shipped starter (git's HEAD version of
// starter/NN-name) and none is added; std::nullopt when git cannot tell (no git, not a checkout).
std::optional<bool> untouched(const fs::path& root, const fs::path& tree, const Lesson& lesson);

struct LessonCheck {
    State state = State::not_started;
    Build::Result build;
    TestRun tests;
};

// The whole check of the student's lesson: untouched (unless always_test), build, tests.
LessonCheck check_lesson(const Build& build, const Lesson& lesson, const TestOptions& options, bool verbose,
                         bool always_test);

// Ctrl-C during a check: set by run_lesson_tests's signal handler; commands stop at the next step.
bool interrupted();

}  // namespace clusterkit::kit

namespace clusterkit::kit {

// The first lesson that does not pass (untouched lessons count as not passing, without a build), and its
// check when one was made; nullptr when every lesson passes.
struct FirstNotPassing {
    const Lesson* lesson = nullptr;
    std::optional<LessonCheck> check;
};
FirstNotPassing first_not_passing(const Build& build, const std::vector<Lesson>& lessons);

// Where the kit remembers the lesson last verified (for `kit hint` without a number).
fs::path current_lesson_file(const fs::path& root);

}  // namespace clusterkit::kit
