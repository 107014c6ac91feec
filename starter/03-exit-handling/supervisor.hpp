// Lesson 03: the supervisor, a primary that keeps N workers alive.
//
// Node's cluster.on('exit', () => cluster.fork()) in C++: every worker is watched with Asio, so deaths are
// noticed (and reaped) the moment they happen, in any order, however many at once. A dead worker is
// described (exit code or signal) and replaced under the same id. A deliberate stop (SIGTERM or SIGINT to
// the primary) is not a crash: nothing is replaced, workers get SIGTERM, then SIGKILL after a grace period.
// A crash loop ends: more than max_restarts restarts within `within` stops everything (Erlang/OTP's
// supervisor intensity).
#pragma once

#include <clusterkit/process.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/writable_pipe.hpp>

#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace lesson03 {

using Clock = std::chrono::steady_clock;

// At most max_restarts restarts within any window of `within`: Erlang/OTP's MaxR and MaxT.
class RestartBudget {
public:
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
    std::filesystem::path worker_program;
    std::vector<std::string> worker_args;
    int workers = 1;
    int max_restarts = 5;
    std::chrono::seconds within{60};
    std::chrono::milliseconds grace{3000};  // from SIGTERM to SIGKILL when stopping
};

class Supervisor {
public:
    Supervisor(boost::asio::io_context& context, SupervisorConfig config);

    // Starts the workers and listens for SIGTERM and SIGINT. Run the io_context afterwards: it returns when
    // every worker has ended after a stop.
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

}  // namespace lesson03
