// Building for `kit grade`. See grade_build.hpp.
#include "grade_build.hpp"

#include "build.hpp"
#include "exec.hpp"
#include "sandbox.hpp"

#include <clusterkit/process.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace clusterkit::kit {
namespace asio = boost::asio;
namespace bp = boost::process::v2;
namespace fs = std::filesystem;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::seconds configure_deadline{300};
constexpr std::chrono::seconds build_deadline{900};  // the first build of a slot compiles the kit's library too

}  // namespace

int run_logged(const fs::path& program, const std::vector<std::string>& args, const fs::path& log,
               std::chrono::seconds deadline) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(log.c_str(), "a"), &std::fclose);
    if (!file) throw std::runtime_error("cannot write " + log.string());
    asio::io_context context;
    bp::process child(context, program, args, bp::process_stdio{nullptr, file.get(), file.get()}, OwnProcessGroup{});
    const pid_t group = child.id();
    bool killed = false;
    asio::steady_timer timer(context, deadline);
    timer.async_wait([&](error_code cancelled) {
        if (cancelled || group <= 1) return;
        killed = true;
        ::kill(-group, SIGKILL);  // the group it leads (pid checked > 1)
    });
    int code = -1;
    child.async_wait([&](error_code error, int exit_code) {
        timer.cancel();
        if (!error) code = exit_code;
    });
    context.run();
    if (killed) {
        std::fprintf(file.get(), "\nkit grade: stopped after %lld s (the build's deadline)\n",
                     static_cast<long long>(deadline.count()));
        return -1;
    }
    return code;
}

std::string first_error(const fs::path& log, const fs::path& tree) {
    std::ifstream in(log);
    const std::string prefix = tree.string() + "/";
    std::string fallback;
    for (std::string line; std::getline(in, line);) {
        for (auto at = line.find(prefix); at != std::string::npos; at = line.find(prefix)) line.erase(at, prefix.size());
        if (line.find(" error: ") != std::string::npos || line.find("fatal error:") != std::string::npos ||
            line.find("error: ") == 0)
            return line;
        if (fallback.empty() && (line.find("undefined reference") != std::string::npos ||
                                 line.find("stopped after") != std::string::npos))
            fallback = line;
    }
    return fallback.empty() ? last_lines(log, 8) : fallback;
}

void build_tests(const fs::path& root, const fs::path& dir, const std::vector<std::string>& numbers) {
    fs::create_directories(dir);
    const fs::path log = dir / "kit-grade-build.log";
    fs::remove(log);
    if (!fs::exists(dir / "CMakeCache.txt")) {
        // The test binaries do not depend on whose programs they test; any tree with the lesson folders works,
        // and starter/ is in every copy of the kit (solutions/ is not in a student release).
        const std::string tree = fs::is_directory(root / "starter") ? "starter" : "solutions";
        if (run_logged(find_program("cmake"), {"-S", root.string(), "-B", dir.string(), "-G", "Ninja",
                                       "-DCLUSTERKIT_TREE=" + tree, "-DCMAKE_BUILD_TYPE=Debug"},
                       log, configure_deadline) != 0)
            throw std::runtime_error("configuring the kit's tests failed: " + first_error(log, root));
    }
    std::vector<std::string> args{"--build", dir.string(), "-j",
                                  std::to_string(std::max(1u, std::thread::hardware_concurrency())), "--target"};
    for (const auto& number : numbers) args.push_back("test" + number);
    args.push_back("clusterkit-test-child");
    if (run_logged(find_program("cmake"), args, log, build_deadline) != 0)
        throw std::runtime_error("building the kit's tests failed: " + first_error(log, root));
}

void build_control(const fs::path& root, const fs::path& dir, const std::vector<std::string>& numbers,
                   const fs::path& bin) {
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all);  // the grader's own: no other user reads the solutions' programs
    const fs::path log = dir / "kit-grade-build.log";
    fs::remove(log);
    if (!fs::exists(dir / "CMakeCache.txt") &&
        run_logged(find_program("cmake"), {"-S", root.string(), "-B", dir.string(), "-G", "Ninja", "-DCLUSTERKIT_TREE=solutions",
                                   "-DCLUSTERKIT_TESTS=OFF", "-DCLUSTERKIT_BENCH=OFF", "-DCLUSTERKIT_TOOL=OFF",
                                   "-DCMAKE_BUILD_TYPE=Debug", "-DCMAKE_CXX_FLAGS_DEBUG=-g0", "-DCLUSTERKIT_FAST_LINK=ON"},
                   log, configure_deadline) != 0)
        throw std::runtime_error("configuring the reference solutions failed: " + first_error(log, root));
    std::vector<std::string> args{"--build", dir.string(), "-j", std::to_string(std::max(1u, std::thread::hardware_concurrency()))};
    for (const auto& number : numbers) {
        args.push_back("--target");
        args.push_back("lesson" + number);
    }
    if (run_logged(find_program("cmake"), args, log, build_deadline) != 0)
        throw std::runtime_error("building the reference solutions failed: " + first_error(log, root));
    fs::create_directories(bin);
    for (const auto& number : numbers)
        for (const auto& program : {"lesson" + number, "lesson" + number + "-worker"})
            if (fs::exists(dir / "bin" / program))
                fs::copy_file(dir / "bin" / program, bin / program, fs::copy_options::overwrite_existing);
}

SlotBuild::SlotBuild(fs::path root, fs::path dir, int jobs, Sandbox* sandbox)
    : root_(std::move(root)), dir_(std::move(dir)), jobs_(jobs), sandbox_(sandbox) {
    fs::create_directories(dir_);
    // The slot's user builds here: the folder and everything in it are its own (once; a build folder made by
    // an older grader, as root, is handed over).
    const auto user = sandbox_ ? sandbox_->user() : std::nullopt;
    if (!user) return;
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
    if (!sandbox_) return run_logged(find_program("cmake"), args, log, deadline);
    SandboxRun run{.program = find_program("cmake"), .args = args, .environment = {}, .limits = {},
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

BuildOutcome SlotBuild::configure(const fs::path& tree, const std::vector<std::string>& slugs, const fs::path& log,
                                  std::vector<fs::path> also_read) {
    const auto started = Clock::now();
    tree_ = tree;
    also_read_ = std::move(also_read);
    std::string lessons;
    for (const auto& slug : slugs) lessons += (lessons.empty() ? "" : ";") + slug;
    BuildOutcome outcome;
    // As the starter preset builds: no debug information (nobody debugs a graded build, and it costs compile
    // and link time) and gold where the system has it.
    outcome.ok = cmake({"-S", root_.string(), "-B", dir_.string(), "-G", "Ninja", "-DCLUSTERKIT_TREE=" + tree.string(),
                        "-DCLUSTERKIT_TESTS=OFF", "-DCLUSTERKIT_BENCH=OFF", "-DCLUSTERKIT_TOOL=OFF",
                        "-DCMAKE_BUILD_TYPE=Debug", "-DCMAKE_CXX_FLAGS_DEBUG=-g0", "-DCLUSTERKIT_FAST_LINK=ON",
                        "-DCLUSTERKIT_LESSONS=" + lessons},
                       log, configure_deadline) == 0;
    if (!outcome.ok) outcome.first_error = first_error(log, tree);
    outcome.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return outcome;
}

BuildOutcome SlotBuild::warm(const fs::path& log) {
    std::vector<std::string> slugs;
    for (const auto& entry : fs::directory_iterator(root_ / "starter"))
        if (entry.is_directory()) slugs.push_back(entry.path().filename().string());
    auto outcome = configure(root_ / "starter", slugs, log);
    if (!outcome.ok) return outcome;
    outcome.ok = cmake({"--build", dir_.string(), "--target", "clusterkit_prebuilt", "-j", std::to_string(jobs_)}, log,
                       build_deadline) == 0;
    if (!outcome.ok) outcome.first_error = first_error(log, root_);
    return outcome;
}

BuildOutcome SlotBuild::build_lesson(const std::string& number, const fs::path& bin, const fs::path& log) {
    const auto started = Clock::now();
    // The slot's folder last held another submission's programs: none of them may stand in for this one's.
    const std::vector<std::string> programs{"lesson" + number, "lesson" + number + "-worker"};
    for (const auto& program : programs) fs::remove(dir_ / "bin" / program);
    BuildOutcome outcome;
    outcome.ok = cmake({"--build", dir_.string(), "--target", "lesson" + number, "-j", std::to_string(jobs_)}, log,
                       build_deadline) == 0;
    if (outcome.ok) {
        for (const auto& program : programs)
            if (fs::exists(dir_ / "bin" / program))
                fs::copy_file(dir_ / "bin" / program, bin / program, fs::copy_options::overwrite_existing);
    } else {
        outcome.first_error = first_error(log, tree_);
    }
    outcome.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return outcome;
}

}  // namespace clusterkit::kit
