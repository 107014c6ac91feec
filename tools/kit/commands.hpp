// The kit's commands: one function each, given the words after the command word (`kit verify 01 --verbose`
// calls command_verify({"01", "--verbose"})). Each returns the exit status: 0 success, 1 failure (a lesson
// that does not pass is a failure), 2 a bad command line.
#pragma once

#include <string>
#include <vector>

namespace clusterkit::kit {

using Args = std::vector<std::string>;

// For students (list.cpp, verify.cpp, watch.cpp, hint.cpp, run.cpp, reset.cpp).
int command_list(const Args& args);      // every lesson with its state, and a progress bar
int command_verify(const Args& args);    // build one lesson of the student's code, run its tests, a verdict
int command_watch(const Args& args);     // verify again whenever a file of the lesson is saved
int command_hint(const Args& args);      // the next hint of a lesson
int command_run(const Args& args);       // build and run the student's program (or the solution)
int command_reset(const Args& args);     // restore a lesson's starter files from git, after asking

// For maintainers and CI (selftest.cpp, lint.cpp).
int command_selftest(const Args& args);  // the lists and answers check, the whole suite on the solutions, the mutant check
int command_lint(const Args& args);      // generated lists, no answer line in a release, the lesson texts' shape

// For instructors (grade.cpp, gradescope.cpp, release.cpp).
int command_grade(const Args& args);
int command_gradescope(const Args& args);
int command_release(const Args& args);

}  // namespace clusterkit::kit
