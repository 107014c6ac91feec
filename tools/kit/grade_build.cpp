// Building for `kit grade`. See grade_build.hpp.
#include "grade_build.hpp"

#include "build.hpp"
#include "exec.hpp"
#include "sandbox.hpp"

#include <boost/process/v2/environment.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace clusterkit::kit {
namespace bp = boost::process::v2;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::seconds configure_deadline{300};
constexpr std::chrono::seconds build_deadline{900};  // the first build of a slot compiles the kit's library too

}  // namespace

void build_tests(const fs::path& root, const fs::path& dir, const std::vector<std::string>& numbers) {
    fs::create_directories(dir);
    const fs::path log = dir / "kit-grade-build.log";
    fs::remove(log);
    if (!fs::exists(dir / "CMakeCache.txt")) {
        // The test binaries do not depend on whose programs they test; any tree with the lesson folders works,
        // and starter/ is in every copy of the kit (solutions/ is not in a student release).
        const std::string tree = fs::is_directory(root / "starter") ? "starter" : "solutions";
        if (!succeeded(run_logged({find_program("cmake"), {"-S", root.string(), "-B", dir.string(), "-G", "Ninja",
                                                           "-DCLUSTERKIT_TREE=" + tree, "-DCMAKE_BUILD_TYPE=Debug"}},
                                  log, {.append = true, .deadline = configure_deadline})))
            throw std::runtime_error("configuring the kit's tests failed: " + first_build_error(log, root));
    }
    std::vector<std::string> args{"--build", dir.string(), "-j",
                                  std::to_string(std::max(1u, std::thread::hardware_concurrency())), "--target"};
    for (const auto& number : numbers) args.push_back("test" + number);
    args.push_back("clusterkit-test-child");
    if (!succeeded(run_logged({find_program("cmake"), args}, log, {.append = true, .deadline = build_deadline})))
        throw std::runtime_error("building the kit's tests failed: " + first_build_error(log, root));
}

void build_control(const fs::path& root, const fs::path& dir, const std::vector<std::string>& numbers,
                   const fs::path& bin) {
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all);  // the grader's own: no other user reads the solutions' programs
    const fs::path log = dir / "kit-grade-build.log";
    fs::remove(log);
    if (!fs::exists(dir / "CMakeCache.txt") &&
        !succeeded(run_logged({find_program("cmake"),
                               {"-S", root.string(), "-B", dir.string(), "-G", "Ninja", "-DCLUSTERKIT_TREE=solutions",
                                "-DCLUSTERKIT_TESTS=OFF", "-DCLUSTERKIT_BENCH=OFF", "-DCLUSTERKIT_TOOL=OFF",
                                "-DCMAKE_BUILD_TYPE=Debug", "-DCMAKE_CXX_FLAGS_DEBUG=-g0", "-DCLUSTERKIT_FAST_LINK=ON"}},
                              log, {.append = true, .deadline = configure_deadline})))
        throw std::runtime_error("configuring the reference solutions failed: " + first_build_error(log, root));
    std::vector<std::string> args{"--build", dir.string(), "-j", std::to_string(std::max(1u, std::thread::hardware_concurrency()))};
    for (const auto& number : numbers) {
        args.push_back("--target");
        args.push_back("lesson" + number);
    }
    if (!succeeded(run_logged({find_program("cmake"), args}, log, {.append = true, .deadline = build_deadline})))
        throw std::runtime_error("building the reference solutions failed: " + first_build_error(log, root));
    fs::create_directories(bin);
    for (const auto& number : numbers)
        for (const auto& program : {"lesson" + number, "lesson" + number + "-worker"})
            if (fs::exists(dir / "bin" / program))
                fs::copy_file(dir / "bin" / program, bin / program, fs::copy_options::overwrite_existing);
}

SlotBuild::SlotBuild(fs::path root, fs::path dir, int jobs, Sandbox* sandbox)
    : root_(std::move(root)), dir_(std::move(dir)), tree_(dir_.string() + ".tree"), jobs_(jobs), sandbox_(sandbox) {
    fs::create_directories(dir_);
    // The slot's user builds here: the folder and everything in it are its own (once; a build folder made by
    // an older grader, as root, is handed over).
    const auto user = sandbox_ ? sandbox_->user() : std::nullopt;
    if (!user) return;
    // A cache only where the slot has a user of its own: the graded programs of later runs (another user, or
    // none at all without root) must not be able to write what the next submission's build takes from it. In
    // the slot, only CMake, Ninja and the compiler run as that user, and the cache is in its build folder,
    // which no test run sees.
    if (!bp::environment::find_executable("ccache").empty()) cache_ = dir_ / "ccache";
    auto hand_over = [&](const fs::path& path) {
        struct stat info {};
        if (::lstat(path.c_str(), &info) == 0 && info.st_uid != user->first && ::lchown(path.c_str(), user->first, user->second) != 0)
            throw std::runtime_error("cannot hand " + path.string() + " to the sandbox's user: " + std::strerror(errno));
    };
    struct stat top {};
    if (::lstat(dir_.c_str(), &top) == 0 && top.st_uid == user->first) return;
    hand_over(dir_);
    for (const auto& entry : fs::recursive_directory_iterator(dir_)) hand_over(entry.path());
}

int SlotBuild::cmake(const std::vector<std::string>& args, const fs::path& log, std::chrono::seconds deadline) {
    if (!sandbox_) {
        const auto status = run_logged({find_program("cmake"), args}, log, {.append = true, .deadline = deadline});
        return status.killed_by_signal ? -1 : status.code;
    }
    SandboxRun run{.program = find_program("cmake"), .args = args, .environment = cache_environment(), .limits = {},
                   // What CMake reads (CLUSTERKIT_TESTS, _TOOL and _BENCH off) and the submission's copy; it writes
                   // only the build folder.
                   .read_only = {root_ / "CMakeLists.txt", root_ / "cmake", root_ / "lib", root_ / "lessons", tree_},
                   .writable = {dir_},
                   .directory = dir_};
    run.read_only.insert(run.read_only.end(), also_read_.begin(), also_read_.end());
    run.limits.wall_clock = deadline;
    run.limits.cpu_seconds = static_cast<long>(deadline.count());
    run.limits.file_size = 4LL << 30;      // precompiled headers are large
    run.limits.address_space = 8LL << 30;  // so is a compiler that loads them
    run.limits.memory = 6LL << 30;
    run.limits.open_files = 1024;
    run.limits.processes = 1024;  // not root, RLIMIT_NPROC counts every process of the user
    run.limits.output_cap = 32u << 20;  // a compiler's errors on a template can be long
    run.limits.error_cap = 1u << 20;
    const auto result = sandbox_->run(run);
    std::ofstream out(log, std::ios::app);
    out << result.out << result.err;
    if (!result.start_error.empty()) out << "kit grade: the build could not start in the sandbox: " << result.start_error << "\n";
    if (result.timed_out) out << "\nkit grade: stopped after " << deadline.count() << " s (the build's deadline)\n";
    if (!result.status || result.timed_out || result.status->killed_by_signal) return -1;
    return result.status->code;
}

std::vector<std::pair<std::string, std::string>> SlotBuild::cache_environment() const {
    if (cache_.empty()) return {};
    // Precompiled headers are cacheable only with pch_defines and time_macros (ccache's manual, "Precompiled
    // headers"); nothing writes the sources while the slot builds, so their times need no check either. And a
    // header whose size, mtime and ctime are those seen before is not read again (file_stat_matches): a hit
    // would otherwise hash the ~100 MB precompiled header each time. The submission's copy always has a new
    // ctime, which no program can set back, so its files are always read.
    return {{"CCACHE_DIR", cache_.string()},
            {"CCACHE_SLOPPINESS", "pch_defines,time_macros,include_file_mtime,include_file_ctime,file_stat_matches"},
            {"CCACHE_MAXSIZE", "2G"}};
}

void SlotBuild::copy_tree(const fs::path& tree) const {
    fs::remove_all(tree_);
    fs::copy(tree, tree_, fs::copy_options::recursive);
    // Readable by the slot's user whatever modes the student's files had; written by the grader only. The
    // copies are newer than any object the slot holds, so Ninja compiles each file again (a cache hit when
    // its content was compiled before).
    fs::permissions(tree_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    for (const auto& entry : fs::recursive_directory_iterator(tree_)) {
        const auto mode = entry.is_directory() ? fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                                     fs::perms::others_read | fs::perms::others_exec
                                               : fs::perms::owner_read | fs::perms::owner_write |
                                                     fs::perms::group_read | fs::perms::others_read;
        fs::permissions(entry.path(), mode);
    }
}

BuildOutcome SlotBuild::configure(const fs::path& tree, const std::vector<std::string>& slugs, const fs::path& log,
                                  std::vector<fs::path> also_read) {
    const auto started = Clock::now();
    copy_tree(tree);
    also_read_ = std::move(also_read);
    std::string lessons;
    for (const auto& slug : slugs) lessons += (lessons.empty() ? "" : ";") + slug;
    BuildOutcome outcome;
    // As the starter preset builds: no debug information (nobody debugs a graded build, and it costs compile
    // and link time) and gold where the system has it.
    const std::string launcher = cache_.empty() ? "" : bp::environment::find_executable("ccache").string();
    outcome.ok = cmake({"-S", root_.string(), "-B", dir_.string(), "-G", "Ninja", "-DCLUSTERKIT_TREE=" + tree_.string(),
                        "-DCLUSTERKIT_TESTS=OFF", "-DCLUSTERKIT_BENCH=OFF", "-DCLUSTERKIT_TOOL=OFF",
                        "-DCMAKE_BUILD_TYPE=Debug", "-DCMAKE_CXX_FLAGS_DEBUG=-g0", "-DCLUSTERKIT_FAST_LINK=ON",
                        "-DCMAKE_CXX_COMPILER_LAUNCHER=" + launcher, "-DCLUSTERKIT_LESSONS=" + lessons},
                       log, configure_deadline) == 0;
    if (!outcome.ok) outcome.first_error = first_build_error(log, tree_);
    outcome.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return outcome;
}

BuildOutcome SlotBuild::warm(const std::vector<std::string>& numbers, const fs::path& log) {
    std::vector<std::string> slugs;
    for (const auto& entry : fs::directory_iterator(root_ / "starter"))
        if (entry.is_directory()) slugs.push_back(entry.path().filename().string());
    auto outcome = configure(root_ / "starter", slugs, log);
    if (!outcome.ok) return outcome;
    std::vector<std::string> args{"--build", dir_.string(), "-j", std::to_string(jobs_), "--target", "clusterkit_prebuilt"};
    if (!cache_.empty())
        for (const auto& number : numbers) args.push_back("lesson" + number);
    outcome.ok = cmake(args, log, build_deadline) == 0;
    if (!outcome.ok) outcome.first_error = first_build_error(log, tree_);
    return outcome;
}

std::vector<fs::path> SlotBuild::programs_of(const std::string& number) const {
    return {dir_ / "bin" / ("lesson" + number), dir_ / "bin" / ("lesson" + number + "-worker")};
}

void SlotBuild::copy_programs(const std::string& number, const fs::path& bin) const {
    for (const auto& program : programs_of(number))
        if (fs::exists(program)) fs::copy_file(program, bin / program.filename(), fs::copy_options::overwrite_existing);
}

std::vector<BuildOutcome> SlotBuild::build_lessons(const std::vector<std::string>& numbers, const fs::path& bin,
                                                   const fs::path& folder) {
    // The folder last held another submission's programs: none of them may stand in for this one's.
    for (const auto& number : numbers)
        for (const auto& program : programs_of(number)) fs::remove(program);
    const auto started = Clock::now();
    std::vector<std::string> args{"--build", dir_.string(), "-j", std::to_string(jobs_)};
    for (const auto& number : numbers) {
        args.push_back("--target");
        args.push_back("lesson" + number);
    }
    args.insert(args.end(), {"--", "-k", "0"});
    const bool all_built = cmake(args, folder / "build.log", build_deadline) == 0;
    const double together = std::chrono::duration<double>(Clock::now() - started).count();

    std::vector<BuildOutcome> outcomes{};
    for (const auto& number : numbers) {
        // lessonNN depends on its worker (cmake/ClusterKit.cmake): where it exists, the whole lesson built.
        if (!all_built && !fs::exists(programs_of(number).front())) {
            outcomes.push_back(build_lesson(number, bin, folder / ("build-" + number + ".log")));
            continue;
        }
        copy_programs(number, bin);
        outcomes.push_back({.ok = true, .first_error = {}, .seconds = together});
    }
    return outcomes;
}

BuildOutcome SlotBuild::build_lesson(const std::string& number, const fs::path& bin, const fs::path& log) {
    const auto started = Clock::now();
    BuildOutcome outcome;
    outcome.ok = cmake({"--build", dir_.string(), "--target", "lesson" + number, "-j", std::to_string(jobs_)}, log,
                       build_deadline) == 0;
    if (outcome.ok) {
        copy_programs(number, bin);
    } else {
        outcome.first_error = first_build_error(log, tree_);
    }
    outcome.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return outcome;
}

}  // namespace clusterkit::kit
