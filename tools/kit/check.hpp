// Checking one lesson of the student's code: is it untouched, does it build, do its tests pass. The build
// is build.hpp's, the tests run through pipeline.hpp.
//
// A lesson's state (what `kit list` shows, documented in README.md):
//   not started   every file of the lesson folder is exactly the shipped starter (git's HEAD), none added
//   not building  the lesson's programs do not compile (verify shows the first compiler error)
//   failing       it builds, and a test fails
//   passing       it builds, and every test passes
#pragma once

#include "build.hpp"
#include "pipeline.hpp"
#include "repo.hpp"

#include <optional>
#include <string>
#include <vector>

namespace clusterkit::kit {

enum class State { not_started, not_building, failing, passing };
std::string describe(State state);

// True when every file of the student's lesson folder is exactly the shipped starter (git's HEAD version of
// starter/NN-name) and none is added; std::nullopt when git cannot tell (no git, not a checkout).
std::optional<bool> untouched(const fs::path& root, const fs::path& tree, const Lesson& lesson);

struct LessonCheck {
    State state = State::not_started;
    Build::Result build;
    CasesRun tests;
};

// The whole check of the student's lesson: untouched (unless always_test), build, tests (plain runs).
LessonCheck check_lesson(const Build& build, const Lesson& lesson, const RunOptions& options, bool verbose,
                         bool always_test);

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
