// Building for `kit grade`: the kit's tests once, and each submission's lessons in a job slot's build folder.
//
// A slot's build folder is configured again for each submission (CLUSTERKIT_TREE=<its copy>), so the kit's
// library and precompiled headers, which do not depend on the submission, are compiled once per slot;
// each lesson is then built on its own target, so a compile error costs that lesson only.
// A submission's code is hostile from its first #include on: given a sandbox, CMake and the compiler run in
// it, as the slot's user, and see the kit's build files (CMakeLists.txt, cmake/, lib/, lessons/), the
// submission's copy and the slot's build folder only: `#include "<kit>/solutions/01-fork-per-cpu/main.cpp"`
// finds nothing. The slot's build folder belongs to the slot's user.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace clusterkit::kit {

class Sandbox;

struct BuildOutcome {
    bool ok = true;
    std::string first_error{};  // the compiler's first error line (paths relative to the submission)
    double seconds = 0;
};

// Runs a program with its output (stdout and stderr) appended to `log`, in a process group of its own,
// killed with the group at the deadline. Returns the exit code; -1 if it was killed or did not start.
int run_logged(const std::filesystem::path& program, const std::vector<std::string>& args,
               const std::filesystem::path& log, std::chrono::seconds deadline);

// The first error of a build log: a compiler "error:" line, else a linker "undefined reference", else its
// last lines. `tree` is cut from paths.
std::string first_error(const std::filesystem::path& log, const std::filesystem::path& tree);

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
    // Builds what every submission shares (the kit library, the precompiled headers) with the starter tree.
    BuildOutcome warm(const std::filesystem::path& log);
    // Builds lessonNN (and its worker) and copies the programs to `bin`.
    BuildOutcome build_lesson(const std::string& number, const std::filesystem::path& bin,
                              const std::filesystem::path& log);

private:
    // cmake with `args`, its output appended to `log`: in the sandbox if there is one. Returns the exit code.
    int cmake(const std::vector<std::string>& args, const std::filesystem::path& log, std::chrono::seconds deadline);

    std::filesystem::path root_{};
    std::filesystem::path dir_{};
    std::filesystem::path tree_{};
    std::vector<std::filesystem::path> also_read_{};
    int jobs_;
    Sandbox* sandbox_;
};

}  // namespace clusterkit::kit
