// Lesson 01: fork one worker per CPU. YOUR CODE: fill in the four TODO(lesson 01) below.
//
// Shows the primary/worker split that Node's `cluster.isPrimary` expresses, with fork(2) and waitpid(2):
// the primary counts the CPUs it may run on, forks one worker for each, hears each one come online,
// reaps every one of them, and only then says `done`. Lesson text: lessons/01-fork-per-cpu/README.md.
//
//     lesson01 [--workers N]
#include <clusterkit/cli.hpp>
#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>
#include <clusterkit/fd.hpp>
#include <clusterkit/wait_status.hpp>

#include <algorithm>
#include <cerrno>
#include <sched.h>
#include <exception>
#include <span>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr std::string_view program = "lesson01";

struct Worker {
    int id;
    pid_t pid;
};

// The CPUs this process may run on, as Node's os.availableParallelism() counts them. The affinity mask is
// what `taskset` and container runtimes restrict; std::thread::hardware_concurrency() ignores it.
int usable_cpu_count() {
    // TODO(lesson 01): return the number of CPUs this process may run on (its affinity mask), at least 1.
    return 1;
}

int worker_count(int argc, char* argv[]) {
    namespace po = clusterkit::program_options;
    po::options_description options("options");
    options.add_options()("workers", po::value<std::string>(), "how many workers (default: one per usable CPU)");
    const auto values = clusterkit::parse_command_line(argc, argv, "lesson01 [--workers N]", options);
    return values.count("workers") ? clusterkit::positive_count(values, "workers") : usable_cpu_count();
}

// Everything a worker does, in the child. It must end in _exit(), never return: returning would run the
// primary's loop in the worker, and exit() would flush stdio buffers the child copied from the primary.
[[maybe_unused]] [[noreturn]] void run_worker([[maybe_unused]] int id, [[maybe_unused]] const clusterkit::Pipe& online) noexcept {
    // TODO(lesson 01): tell the primary this worker is online (write its id to the pipe), print the
    // `worker id=I pid=P ppid=Q` event line, and end the worker with exit status 0.
    ::_exit(clusterkit::exit_status::ok);
}

// Node's cluster.fork(), the fork(2) way: the child is a copy of the primary, told apart by fork's result.
Worker fork_worker(int id, [[maybe_unused]] const clusterkit::Pipe& online) {
    // TODO(lesson 01): start worker `id` as a child process that runs run_worker(), print the
    // `fork id=I pid=P` event line, and return the worker with its real pid.
    return Worker{id, -1};
}

[[maybe_unused]] const Worker& find_worker(const std::vector<Worker>& workers, pid_t pid) {
    const auto found = std::ranges::find(workers, pid, &Worker::pid);
    if (found == workers.end()) throw std::runtime_error("waitpid returned an unknown child " + std::to_string(pid));
    return *found;
}

// Reads worker ids from the pipe until every worker has said it runs, or until end-of-file: with the
// primary's own write end closed, end-of-file means no worker that could still write is alive.
void report_online(const std::vector<Worker>& workers, clusterkit::Pipe& online) {
    online.write_end.reset();
    for (std::size_t heard = 0; heard < workers.size(); ++heard) {
        int id = 0;
        if (!clusterkit::read_exact(online.read_end.get(), std::as_writable_bytes(std::span(&id, 1)))) return;
        const auto& worker = workers.at(static_cast<std::size_t>(id - 1));
        clusterkit::emit("online", {{"id", worker.id}, {"pid", worker.pid}});
    }
}

// Waits for every worker, in the order they end (not the order they started), so none stays a zombie.
void reap_all([[maybe_unused]] const std::vector<Worker>& workers) {
    // TODO(lesson 01): wait for every worker, in the order they end, and print
    // `exit id=I pid=P code=C` (or `signal=SIGNAME`) for each. find_worker() and WaitStatus help.
}

int run_primary(int count) {
    clusterkit::emit("primary", {{"pid", ::getpid()}, {"workers", count}});
    auto online = clusterkit::Pipe::open();
    std::vector<Worker> workers;
    std::exception_ptr fork_failure;  // if a fork fails, the workers already started are still reaped
    try {
        for (int id = 1; id <= count; ++id) workers.push_back(fork_worker(id, online));
    } catch (...) {
        fork_failure = std::current_exception();
    }
    report_online(workers, online);
    reap_all(workers);
    if (fork_failure) std::rethrow_exception(fork_failure);
    clusterkit::emit("done");
    return clusterkit::exit_status::ok;
}

}  // namespace

int main(int argc, char* argv[]) {
    return clusterkit::run_main(program, [&] { return run_primary(worker_count(argc, argv)); });
}
