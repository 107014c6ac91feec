// A copy of the kit for students: everything git tracks except what gives the answers away.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace clusterkit::kit {

// What a student copy leaves out: the reference solutions, the mutants (each is a solution with one
// mistake), the hostile suite (its correct case and patches are solutions too), the mutant check and the
// benchmarks (both build the solutions) and the kit's own CI.
bool left_out_of_release(const std::string& path);

// Copies the kit at `root` into `dir` (which must not exist or be empty), without what left_out_of_release()
// names. Throws std::runtime_error if a file of the copy has the content of a solution file that differs
// from its starter (an answer that slipped through). Returns the paths copied.
std::vector<std::string> write_release(const std::filesystem::path& root, const std::filesystem::path& dir);

}  // namespace clusterkit::kit
