// Lesson 02: a separate worker program.
//
// Shows Node's cluster.setupPrimary({ exec }) with Boost.Process v2 (the seed's cluster.js): the primary
// starts N copies of another program, fork(2) + execve(2) with no shell in between, gives each the same
// arguments and its own id in the environment, waits for all of them at once in one Asio io_context,
// reports each exit as it happens, and says `done` after the last one. Lesson text:
// lessons/02-worker-exec/README.md.
//
//     lesson02 [--workers N] [--exec PATH] [--work-ms MIN-MAX] [-- ARGS...]
#include <clusterkit/cli.hpp>
#include <clusterkit/cpus.hpp>
#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>
#include <clusterkit/process.hpp>
#include <clusterkit/wait_status.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/version.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <exception>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace bp = boost::process::v2;
namespace fs = std::filesystem;

constexpr std::string_view program = "lesson02";
constexpr std::string_view usage = "lesson02 [--workers N] [--exec PATH] [--work-ms MIN-MAX] [-- ARGS...]";

struct Options {
    int workers = 0;
    fs::path exec;                  // the worker program
    std::string work_ms;            // "MIN-MAX", checked; reaches each worker as CLUSTERKIT_WORK_MS
    std::vector<std::string> args;  // everything after `--`: every worker's arguments, untouched
};

struct Worker {
    int id;
    pid_t pid;
    bp::process process;  // destroying it while the worker runs kills the worker: keep it until reaped
};

// lesson02-worker in the directory of this very program, wherever it was built or installed.
fs::path default_worker_path() { return fs::read_symlink("/proc/self/exe").parent_path() / "lesson02-worker"; }

// The flags before the first `--` are lesson02's. Everything after it is the workers', passed on as it
// is: a worker's own flags (even one spelt `--workers`) never reach lesson02's parser.
Options read_command_line(int argc, char* argv[]) {
    char** const end = argv + argc;
    char** const separator = std::find_if(argv + 1, end, [](const char* arg) { return std::string_view(arg) == "--"; });

    namespace po = clusterkit::program_options;
    po::options_description options("options");
    options.add_options()
        ("workers", po::value<std::string>(), "how many workers (default: one per usable CPU)")
        ("exec", po::value<std::string>(), "the worker program (default: lesson02-worker beside lesson02)")
        ("work-ms", po::value<std::string>()->default_value("1000-6000"),
         "each worker works a random time in MIN-MAX milliseconds");
    const auto values = clusterkit::parse_command_line(static_cast<int>(separator - argv), argv, usage, options);

    Options result;
    result.workers = values.count("workers") ? clusterkit::positive_count(values, "workers")
                                             : clusterkit::usable_cpu_count();
    result.exec = values.count("exec") ? fs::path(values["exec"].as<std::string>()) : default_worker_path();
    result.work_ms = values["work-ms"].as<std::string>();
    if (!clusterkit::parse_range(result.work_ms))
        throw clusterkit::UsageError("--work-ms wants MIN-MAX milliseconds with 0 <= MIN <= MAX, not '" +
                                     result.work_ms + "'");
    if (separator != end) result.args.assign(separator + 1, end);
    return result;
}

// Throws, naming the path, unless execve(2) may run it. Checked before any worker starts, so that a typo
// in --exec is one clear error instead of N children that fail.
void check_runnable(const fs::path& path) {
    if (::access(path.c_str(), X_OK) != 0)
        throw std::system_error(errno, std::generic_category(), "cannot run " + path.string());
    if (fs::is_directory(path))  // for a directory, X_OK is search permission: access() says yes
        throw std::system_error(EISDIR, std::generic_category(), "cannot run " + path.string());
}

// Boost's launcher forks, then learns through a close-on-exec pipe whether execve worked. When it did not,
// Boost 1.81 to 1.87 return the error without ever waiting for the child they forked (launcher.pid), which
// would stay a zombie: it is reaped here. From Boost 1.88 the launcher reaps that child itself, and
// launcher.pid names a process that no longer exists: its number may already belong to another process, so
// it is never signalled or waited for then. pid -1: fork itself failed, so there is no child.
void reap_failed_start(pid_t pid) {
    constexpr bool boost_reaps_it = BOOST_VERSION >= 108800;
    if (boost_reaps_it || pid <= 0) return;
    ::kill(pid, SIGKILL);  // it has normally exited already; if not, this makes sure the wait returns
    while (::waitpid(pid, nullptr, 0) == -1 && errno == EINTR) {
    }
}

// Node's cluster.fork() after setupPrimary({ exec }): fork(2) and execve(2) of the worker program. No
// shell: each of options.args is one argv entry, spaces and all. The environment is the primary's own plus
// the worker's id and work range (Boost's process_environment would replace it instead). The launcher
// returns only once execve has worked, so the worker is online: its program is loaded and running.
Worker start_worker(asio::io_context& context, int id, const Options& options) {
    bp::default_process_launcher launcher;
    boost::system::error_code error;
    // The executor, not the io_context: in 1.81 the (context, error_code&) overload throws all the same.
    bp::process process = launcher(context.get_executor(), error, options.exec, options.args,
                                   clusterkit::EnvironmentWith({{"CLUSTERKIT_WORKER_ID", std::to_string(id)},
                                                                {"CLUSTERKIT_WORK_MS", options.work_ms}}));
    if (error) {
        reap_failed_start(launcher.pid);
        // launcher.pid > 0: a child was forked and its execve failed. Otherwise no child was made at all.
        const std::string what = launcher.pid > 0 ? "cannot run " + options.exec.string()
                                                  : "cannot start worker " + std::to_string(id);
        throw std::system_error(error.value(), std::generic_category(), what);
    }
    const pid_t pid = process.id();
    clusterkit::emit("fork", {{"id", id}, {"pid", pid}});
    clusterkit::emit("online", {{"id", id}, {"pid", pid}});
    return Worker{id, pid, std::move(process)};
}

// After a failed start: ask the workers already running to stop (SIGTERM), so that they can be reaped and
// the error reported without waiting for their work to end.
void stop_all(std::vector<Worker>& workers) {
    for (auto& worker : workers) {
        boost::system::error_code ignored;  // a worker that has ended already has nothing to stop
        worker.process.request_exit(ignored);
    }
}

// Node's cluster.on('exit'): one async_wait per worker, all in one io_context, and run() until every one
// has completed. Each exit is reported when it happens, whatever the start order. Returns how each worker
// that failed ended.
std::vector<std::string> wait_for_all(asio::io_context& context, std::vector<Worker>& workers) {
    std::vector<std::string> failures;
    for (auto& worker : workers) {
        // The pending wait refers to worker.process: `workers` must not grow or move from here on.
        worker.process.async_wait([&worker, &failures](boost::system::error_code error, int /* exit_code() */) {
            if (error) throw std::system_error(error.value(), std::generic_category(), "waitpid");
            // native_exit_code() is waitpid's raw status. The int above is exit_code(), which turns
            // SIGKILL into code 9, as if the worker had called exit(9).
            const auto status = clusterkit::WaitStatus::from_raw(worker.process.native_exit_code());
            clusterkit::emit("exit", {{"id", worker.id}, {"pid", worker.pid}, status.field()});
            if (status.killed_by_signal || status.code != 0)
                failures.push_back("worker " + std::to_string(worker.id) + " " + status.describe());
        });
    }
    context.run();
    return failures;
}

std::string describe_failures(const std::vector<std::string>& failures, std::size_t workers) {
    std::string text = std::to_string(failures.size()) + " of " + std::to_string(workers) + " workers failed";
    for (std::size_t i = 0; i < failures.size(); ++i) text += (i == 0 ? ": " : ", ") + failures[i];
    return text;
}

int run_primary(const Options& options) {
    check_runnable(options.exec);
    clusterkit::emit("primary", {{"pid", ::getpid()}, {"workers", options.workers}});
    asio::io_context context;  // before the workers: their process handles use it until they are destroyed
    std::vector<Worker> workers;
    std::exception_ptr start_failure;  // if a worker cannot start, the ones already started are stopped and reaped
    try {
        for (int id = 1; id <= options.workers; ++id) workers.push_back(start_worker(context, id, options));
    } catch (...) {
        start_failure = std::current_exception();
        stop_all(workers);
    }
    const auto failures = wait_for_all(context, workers);
    if (start_failure) std::rethrow_exception(start_failure);
    clusterkit::emit("done");  // the seed's "all done"
    if (!failures.empty()) throw std::runtime_error(describe_failures(failures, workers.size()));
    return clusterkit::exit_status::ok;
}

}  // namespace

int main(int argc, char* argv[]) {
    return clusterkit::run_main(program, [&] { return run_primary(read_command_line(argc, argv)); });
}
