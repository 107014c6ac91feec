// The grader's runner of the pipeline. See sandbox_runner.hpp.
#include "sandbox_runner.hpp"

#include <clusterkit/fd.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace clusterkit::kit {

namespace {

constexpr std::size_t record_cap = 8u << 20;  // bytes of a record read; a test writes far less
constexpr std::size_t output_kept = 64u << 10; // the end of the test binary's own output, for --verbose

std::string tail(const std::string& text, std::size_t size) {
    return text.size() > size ? text.substr(text.size() - size) : text;
}

// The record the run wrote, opened without following a link (the run owns the folder: it could put a link
// to a file of the grader's there, whose text would end up in the student's report).
std::string read_record(const fs::path& file) {
    const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat info {};
    if (!fd.is_open() || ::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode) || info.st_nlink != 1) return {};
    std::string text;
    char buffer[64 * 1024];
    for (ssize_t got; text.size() < record_cap && (got = ::read(fd.get(), buffer, sizeof buffer)) > 0;)
        text.append(buffer, static_cast<std::size_t>(got));
    return text;
}

}  // namespace

std::vector<std::string> sandbox_problems(const SandboxResult& result, const SandboxLimits& limits) {
    std::vector<std::string> problems;
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(limits.wall_clock).count();
    if (result.timed_out)
        problems.push_back("stopped at the " + std::to_string(seconds) +
                           " s deadline: the program hung, or never ended (everything it started was killed)");
    if (result.out_dropped > 0)
        problems.push_back("the test's report passed the " + std::to_string(limits.output_cap >> 20) +
                           " MiB output cap: a flood of output (" + std::to_string(result.out_dropped) + " bytes dropped)");
    if (result.status && !result.timed_out && result.status->killed_by_signal)
        problems.push_back("the test process was " + result.status->describe() +
                           (result.status->signal == SIGXCPU ? " (the CPU-time limit)" : "") +
                           (result.status->signal == SIGXFSZ ? " (the file-size limit)" : ""));
    if (result.oom_kills > 0)
        problems.push_back("the kernel killed " + std::to_string(result.oom_kills) + " process(es) at the run's memory limit (" +
                           std::to_string(limits.memory >> 20) + " MiB)");
    if (!result.timed_out && result.processes_killed > 0)
        problems.push_back("left behind " + std::to_string(result.processes_killed) +
                           " process(es) still running after the test ended (killed)");
    if (result.objects_removed > 0)
        problems.push_back("left behind " + std::to_string(result.objects_removed) +
                           " object(s) in /dev/shm, /tmp or SysV IPC (removed)");
    return problems;
}

RunnerResult SandboxRunner::run(const CaseRun& run) {
    fs::remove_all(run.work);
    fs::create_directories(run.work);
    fs::permissions(run.work, fs::perms::owner_all);
    if (const auto user = sandbox_.user(); user && ::chown(run.work.c_str(), user->first, user->second) != 0)
        throw std::runtime_error("chown " + run.work.string() + ": " + std::strerror(errno));
    const fs::path record_file = run.work / "record.jsonl";

    SandboxRun request{.program = run.binary,
                       .args = test_arguments(run),
                       .environment = run.environment,
                       .limits = {},
                       .read_only = visible_,
                       .writable = {run.work}};
    request.environment.emplace_back(record::file_variable, record_file.string());
    request.limits.wall_clock = deadline_;
    const auto ran = sandbox_.run(request);

    RunnerResult result{.status = ran.status,
                        .start_error = ran.start_error,
                        .timed_out = ran.timed_out,
                        .record = read_record(record_file),
                        .output = tail(ran.out + ran.err, output_kept),
                        .problems = sandbox_problems(ran, request.limits),
                        .seconds = ran.seconds};
    std::error_code ignored;
    fs::remove_all(run.work, ignored);
    return result;
}

}  // namespace clusterkit::kit
