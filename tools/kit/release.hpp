// A copy of the kit for students: everything git tracks except what gives the answers away, checked line by
// line (answers.hpp) before anything is written.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace clusterkit::kit {

// What a student copy leaves out: the reference solutions, the mutants (each is a solution with one
// mistake), the hostile suite (its correct case and patches are solutions too), the mutant check and the
// benchmarks (both build the solutions), the kit's own CI, and the instructors' answers to the lessons'
// "Check yourself" questions (lessons/NN-name/answers.md).
bool left_out_of_release(const std::string& path);

// The kit's files, relative to `root`: what git tracks, or, outside a git checkout, every file outside build/.
std::vector<std::string> kit_files(const std::filesystem::path& root);

// The files a release of the kit at `root` holds, relative to it: kit_files() without what
// left_out_of_release() names.
std::vector<std::string> release_files(const std::filesystem::path& root);

// Copies those files into `dir` (which must not exist or be empty). Throws std::runtime_error, naming each
// file, line and text, if any of them holds an answer line (answers.hpp); nothing is written then.
// Returns the paths copied.
std::vector<std::string> write_release(const std::filesystem::path& root, const std::filesystem::path& dir);

}  // namespace clusterkit::kit
