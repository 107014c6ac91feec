// The kit's one build driver: a CMake build folder of this checkout, configured when needed, building one
// lesson's target; and the compiler's first error of a failed build, which is what a student needs to see.
#pragma once

#include "repo.hpp"

#include <chrono>
#include <string>

namespace clusterkit::kit {

// A build folder from one of CMakePresets.json's presets: "starter" (the student's code: starter/ or
// $CLUSTERKIT_TREE) or "solutions" (the reference).
class Build {
public:
    Build(fs::path root, std::string preset);

    const fs::path& directory() const { return directory_; }
    fs::path program(const std::string& name) const { return directory_ / "bin" / name; }
    fs::path kit_files() const { return directory_ / "kit"; }  // the kit's logs and test records

    // Configures the folder unless it is already configured for the right tree. Throws std::runtime_error
    // (with the log's end) when CMake fails.
    void configure(bool verbose) const;

    struct Result {
        bool ok = false;
        fs::path log;
        std::string first_error;  // the compiler's first error, with its source lines, when !ok
        std::chrono::duration<double> time{};
    };
    // Builds the lesson's programs and its test binary (the target lessonNN). `verbose`: in the terminal.
    Result build_lesson(const Lesson& lesson, bool verbose) const;

private:
    fs::path root_;
    std::string preset_;
    fs::path directory_;
    std::string tree_;  // the CLUSTERKIT_TREE value this folder must be configured with
};

// The compiler's (or linker's) first error in a build log, with the "In function" line before it and the
// source lines and carets after it; paths under `root` made relative. The log's last lines if none is found.
std::string first_build_error(const fs::path& log, const fs::path& root);

// The last `count` lines of a text file.
std::string last_lines(const fs::path& file, std::size_t count);

}  // namespace clusterkit::kit
