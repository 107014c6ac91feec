// Building for `kit grade`: the kit's tests once, and each submission's lessons in the build slot's folder.
//
// The build slot's folder is configured again for each submission, so the kit's library and precompiled
// headers, which do not depend on the submission, are compiled once; the submission's lessons are then built
// together, Ninja going on past a lesson that fails, so a compile error costs that lesson only. The
// submission's lesson folders are copied to the slot's one source folder (<slot>.tree), so a file compiles
// with the same command whoever submitted it: with ccache installed (and the sandbox's own user for the
// slot), a file compiled before, for an earlier submission or from the starter (warm()), is a cache hit,
// found by its content.
// A submission's code is hostile from its first #include on: given a sandbox, CMake and the compiler run in
// it, as the slot's user, and see the kit's build files (CMakeLists.txt, cmake/, lib/, lessons/), the
// submission's copy and the slot's build folder only: `#include "<kit>/solutions/01-fork-per-cpu/main.cpp"`
// finds nothing. The slot's build folder belongs to the slot's user, who runs no graded program.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace clusterkit::kit {

class Sandbox;

struct BuildOutcome {
    bool ok = true;
    std::string first_error{};  // first_build_error(): the compiler's first error, paths relative to the submission
    double seconds = 0;
};

// Configures (once) and builds the kit's test binaries testNN for the given lesson numbers in `dir`.
// Throws std::runtime_error with the build's first error when they do not build.
void build_tests(const std::filesystem::path& root, const std::filesystem::path& dir,
                 const std::vector<std::string>& numbers);

// The reference solutions' programs (the control run of `kit grade`), built in `dir`, a folder of the
// grader's that no sandboxed run sees, configured once and built again only when a source changed; copies
// lessonNN (and its worker) of each number to `bin`. Throws std::runtime_error with the first error.
void build_control(const std::filesystem::path& root, const std::filesystem::path& dir,
                   const std::vector<std::string>& numbers, const std::filesystem::path& bin);

class SlotBuild {
public:
    // `sandbox`: where CMake and the compiler run (nullptr: as the grader, e.g. for the kit's own code).
    SlotBuild(std::filesystem::path root, std::filesystem::path dir, int jobs, Sandbox* sandbox = nullptr);

    // Points the build folder at a submission's tree, with only the given lessons. `also_read`: files of the
    // kit the build needs besides its own (a lesson library the tree lacks: see grade.cpp).
    BuildOutcome configure(const std::filesystem::path& tree, const std::vector<std::string>& slugs,
                           const std::filesystem::path& log, std::vector<std::filesystem::path> also_read = {});
    // Builds what every submission shares (the kit library, the precompiled headers) and, when the slot has a
    // compiler cache, the starter's lessons of these numbers: the files a student leaves as given are then
    // cache hits.
    BuildOutcome warm(const std::vector<std::string>& numbers, const std::filesystem::path& log);
    // Whether the slot's builds go through ccache (installed, and the slot has a user of its own).
    bool has_cache() const { return !cache_.empty(); }
    // Builds the lessons of these numbers together, with every job Ninja may run (a lesson that fails does not
    // stop the others: -k 0), into `folder`/build.log, and copies each built lesson's programs to `bin`. A
    // lesson that did not build is built again alone, into `folder`/build-NN.log, for its first error. One
    // outcome per number, in order.
    std::vector<BuildOutcome> build_lessons(const std::vector<std::string>& numbers, const std::filesystem::path& bin,
                                            const std::filesystem::path& folder);

private:
    // Builds lessonNN (and its worker) alone and copies the programs to `bin`.
    BuildOutcome build_lesson(const std::string& number, const std::filesystem::path& bin,
                              const std::filesystem::path& log);
    // The programs of lessonNN in the build folder: lessonNN, and lessonNN-worker where the lesson has one.
    std::vector<std::filesystem::path> programs_of(const std::string& number) const;
    // Copies the programs of lessonNN that the build folder has to `bin`.
    void copy_programs(const std::string& number, const std::filesystem::path& bin) const;
    // ccache's settings for the slot's builds (none without a cache).
    std::vector<std::pair<std::string, std::string>> cache_environment() const;
    // Replaces the slot's source folder with a copy of `tree`.
    void copy_tree(const std::filesystem::path& tree) const;
    // cmake with `args`, its output appended to `log`: in the sandbox if there is one. Returns the exit code.
    int cmake(const std::vector<std::string>& args, const std::filesystem::path& log, std::chrono::seconds deadline);

    std::filesystem::path root_{};
    std::filesystem::path dir_{};
    std::filesystem::path tree_{};   // the slot's source folder, which holds the submission's lesson folders
    std::filesystem::path cache_{};  // ccache's folder in the slot, or empty: no compiler cache
    std::vector<std::filesystem::path> also_read_{};
    int jobs_;
    Sandbox* sandbox_;
};

}  // namespace clusterkit::kit
