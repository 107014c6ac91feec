// A supervisor, a primary that keeps N workers alive: lesson 03's answer, provided to the lessons after it
// (lesson 03's students write their own in solutions/03-exit-handling/supervisor.hpp; this is the same design).
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
//
// Lessons 07 and 08 use more of it. Each worker may get a control pipe to the primary (`control_fd`): the
// worker writes event lines there ("ready", "beat") and the primary hears them in `on_message`. A worker id
// may have two processes for a while: the one serving, and a *successor* started beside it
// (start_successor()); promote() hands the id over and *retires* the old one (SIGTERM: it drains, exits, and
// is not replaced). Hooks decide a restart's delay, a worker's own environment, and set-up in the child.
#pragma once

#include "clusterkit/events.hpp"
#include "clusterkit/process.hpp"
#include "clusterkit/wait_status.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/writable_pipe.hpp>

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace clusterkit {

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

// One worker process, as the hooks see it.
struct WorkerRef {
    int id = 0;
    pid_t pid = 0;
};

using Environment = std::vector<std::pair<std::string, std::string>>;

struct SupervisorConfig {
    std::string program = "supervisor";  // names the primary in its error lines: "lesson06: error: ..."
    std::filesystem::path worker_program;
    std::vector<std::string> worker_args{};
    // Added to each worker's environment, beside CLUSTERKIT_WORKER_ID (its id, 1..workers).
    Environment worker_environment{};
    // Descriptors each worker inherits, such as a listening socket: {target in the worker, fd in the primary}.
    std::vector<BindFd> worker_fds{};
    int workers = 1;
    int max_restarts = 5;
    std::chrono::seconds within{60};
    std::chrono::milliseconds grace{3000};  // from SIGTERM to SIGKILL when stopping or retiring a worker
    // Called once, in the event loop, when a stop begins (SIGTERM, SIGINT, or giving up on a failure),
    // before the workers are asked to exit.
    std::function<void()> on_stop{};

    // Lessons 07-08. Not 0: each worker gets the write end of a pipe as this descriptor, named in
    // CLUSTERKIT_CONTROL_FD, and every event line it writes there is passed to on_message.
    int control_fd = 0;
    std::function<void(const WorkerRef&, const Event&)> on_message{};
    // Called for every worker that has ended, after its `exit` line: serving, successor or retired.
    std::function<void(const WorkerRef&, const WaitStatus&)> on_exit{};
    // How long to wait before replacing a serving worker that died (the restart budget allows it). None: at once.
    std::function<std::chrono::milliseconds(const WorkerRef&)> restart_delay{};
    // More environment for the worker about to start with this id, beside worker_environment.
    std::function<Environment(int id)> environment_for{};
    // Runs in the child between fork and exec: only async-signal-safe calls. False (errno set) fails the start.
    std::function<bool()> in_child{};
};

class Supervisor {
public:
    Supervisor(boost::asio::io_context& context, SupervisorConfig config);

    // Prints `primary pid=P workers=N`, starts the workers and listens for SIGTERM and SIGINT. Run the
    // io_context afterwards: it returns when every worker has ended after a stop.
    void start();
    // The primary's exit status once the io_context has returned: 0 after a deliberate stop, 1 otherwise.
    int exit_status() const { return failed_ ? 1 : 0; }

    // Starts another process for worker `id` beside the one serving it (prints `fork` and `online`). It is
    // never replaced: when it ends, only on_exit hears of it. Throws if it cannot be started.
    pid_t start_successor(int id);
    // The successor takes its id over; the process that served the id (if any) is retired.
    void promote(pid_t successor);
    // Asks a worker to end for good (SIGTERM, then SIGKILL after the grace period); it is not replaced.
    void retire(pid_t pid);
    // Kills a worker at once (SIGKILL). A serving worker is then replaced, as after any death.
    void kill(pid_t pid);

    // The process serving each id now, by id (an id between a death and its replacement has none).
    std::vector<WorkerRef> serving() const;
    bool stopping() const { return stopping_; }
    const SupervisorConfig& config() const { return config_; }

private:
    enum class Role { serving, successor, retired };

    struct ControlLines;  // the read end of a worker's control pipe (supervisor.cpp)

    struct Worker {
        int id;
        pid_t pid;            // kept here: after detach() the process object no longer knows it
        unsigned long serial;  // unique in this primary's life, unlike a pid
        Role role;
        boost::process::v2::process process;
        boost::asio::writable_pipe lifeline;  // the worker's stdin: end-of-file tells it the primary is gone
        boost::asio::steady_timer kill_timer;  // after retire(): SIGKILL once the grace period is over
        bool running = true;
    };

    Worker& start_worker(int id, Role role);
    void watch(Worker& worker);
    void read_control(std::shared_ptr<ControlLines> lines);
    void on_worker_exit(Worker& worker, int raw_status);
    void replace(const WorkerRef& dead);
    void start_replacement(int id);
    void stop();
    void kill_remaining();
    void finish_if_all_ended();
    void fail(const std::string& message);
    Worker* find(pid_t pid);  // a running worker
    Worker* find_serial(unsigned long serial);

    boost::asio::io_context& context_;
    SupervisorConfig config_;
    RestartBudget restarts_;
    boost::asio::signal_set stop_signals_;
    boost::asio::steady_timer grace_timer_;
    std::list<std::unique_ptr<Worker>> workers_;  // not yet forgotten; unique_ptr: pending waits hold references
    std::map<int, std::unique_ptr<boost::asio::steady_timer>> restart_timers_;  // delayed replacements, by id
    unsigned long serials_ = 0;
    bool stopping_ = false;
    bool failed_ = false;
};

}  // namespace clusterkit
