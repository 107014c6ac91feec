// A supervisor, a primary that keeps N workers alive, and DieWithParent: lesson 03 writes them. This header is
// the kit's; its one implementation is lesson 03's supervisor.cpp of the tree being built (your own, in
// starter/ or your copy; the reference in solutions/), compiled into the library clusterkit::supervisor, which
// every program that includes this header links (cmake/ClusterKit.cmake). So the lessons after 03 run on the
// supervisor you wrote, and no file handed to students holds lesson 03's answer. A tree without lesson 03
// (a grader's copy of one lesson) gets the reference's, or the starter's where there is no reference.
//
// Node's cluster.on('exit', () => cluster.fork()) in C++: every worker is watched with Asio, so deaths are
// noticed (and reaped) the moment they happen, in any order, however many at once. A dead worker is
// described (exit code or signal) and replaced under the same id. A deliberate stop (SIGTERM or SIGINT to
// the primary) is not a crash: nothing is replaced, workers get SIGTERM, then SIGKILL after a grace period.
// A crash loop ends: more than max_restarts restarts within `within` stops everything (Erlang/OTP's
// supervisor intensity).
//
//     boost::asio::io_context context;
//     clusterkit::Supervisor supervisor(context, {.program = "lesson06", .worker_program = path, .workers = 4});
//     supervisor.start();
//     context.run();                      // returns once every worker has ended after a stop
//     return supervisor.exit_status();
#pragma once

#include "clusterkit/process.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/writable_pipe.hpp>

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace clusterkit {

// A Boost.Process v2 initializer: the kernel sends the child SIGKILL when the process that started it dies,
// so a primary killed with SIGKILL leaves no orphan. If that process died before the child could ask, the
// child's parent is already someone else: the child gives up at once. The signal is tied to the *thread*
// that forked: start workers from a thread that lives as long as the primary.
struct DieWithParent {
    pid_t parent = ::getpid();

    // Run in the child between fork and exec: only async-signal-safe calls (lesson 03 writes it).
    boost::system::error_code in_child() const;

    template <typename Launcher>
    boost::system::error_code on_exec_setup(Launcher&, const std::filesystem::path&, const char* const*&) const {
        return in_child();
    }
};
static_assert(detail::LauncherCallsOnExecSetup<DieWithParent>);  // see process.hpp

// At most max_restarts restarts within any window of `within`: Erlang/OTP's MaxR and MaxT.
class RestartBudget {
public:
    using Clock = std::chrono::steady_clock;

    RestartBudget(int max_restarts, std::chrono::seconds within);
    // Records a restart at `now`; false if it is one more than the budget allows.
    bool spend(Clock::time_point now);
    int max_restarts() const { return max_restarts_; }
    std::chrono::seconds within() const { return within_; }

private:
    int max_restarts_;
    std::chrono::seconds within_;
    std::deque<Clock::time_point> recent_;  // the restarts inside the current window, oldest first
};

struct SupervisorConfig {
    std::string program = "supervisor";  // names the primary in its error lines: "lesson06: error: ..."
    std::filesystem::path worker_program;
    std::vector<std::string> worker_args{};
    // Added to each worker's environment, beside CLUSTERKIT_WORKER_ID (its id, 1..workers).
    std::vector<std::pair<std::string, std::string>> worker_environment{};
    // Descriptors each worker inherits, such as a listening socket: {target in the worker, fd in the primary}.
    std::vector<BindFd> worker_fds{};
    int workers = 1;
    int max_restarts = 5;
    std::chrono::seconds within{60};
    std::chrono::milliseconds grace{3000};  // from SIGTERM to SIGKILL when stopping
    // Called once, in the event loop, when a stop begins (SIGTERM, SIGINT, or giving up on a failure),
    // before the workers are asked to exit.
    std::function<void()> on_stop{};
};

class Supervisor {
public:
    Supervisor(boost::asio::io_context& context, SupervisorConfig config);

    // Prints `primary pid=P workers=N`, starts the workers and listens for SIGTERM and SIGINT. Run the
    // io_context afterwards: it returns when every worker has ended after a stop.
    void start();
    // The primary's exit status once the io_context has returned: 0 after a deliberate stop, 1 otherwise.
    int exit_status() const { return failed_ ? 1 : 0; }

private:
    struct Worker {
        int id;
        pid_t pid;  // kept here: after detach() the process object no longer knows it
        boost::process::v2::process process;
        boost::asio::writable_pipe lifeline;  // the worker's stdin: end-of-file tells it the primary is gone
        bool running = true;
    };

    void start_worker(int id);
    void watch(Worker& worker);
    void on_worker_exit(int id, int raw_status);
    void replace(int id);
    void stop();
    void kill_remaining();
    void finish_if_all_ended();
    void fail(const std::string& message);

    boost::asio::io_context& context_;
    SupervisorConfig config_;
    RestartBudget restarts_;
    boost::asio::signal_set stop_signals_;
    boost::asio::steady_timer grace_timer_;
    std::map<int, std::unique_ptr<Worker>> workers_;  // by id; unique_ptr: a pending wait holds a reference
    bool stopping_ = false;
    bool failed_ = false;
};

}  // namespace clusterkit
