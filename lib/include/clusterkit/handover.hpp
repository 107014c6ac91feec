// A supervisor whose workers can hand their id over to a successor without a gap (lessons 07 and 08): given
// code around lesson 03's clusterkit::Supervisor (supervisor.hpp), which still watches, reaps, replaces and
// stops every worker it serves with; this adds what a reload and a recycle need.
//
// - A *successor* for worker id I is started beside the worker serving I (start_successor()). It is not yet
//   supervised: if it dies, it is reaped here and not replaced.
// - promote() makes it the one serving I: the old worker is *retired* (SIGTERM: it drains and exits, SIGKILL
//   after the grace period) and, once it has ended, the supervisor takes the successor on as worker I instead
//   of starting a new process (SupervisorConfig::take_over), without spending its restart budget.
// - Each worker may get a control pipe (`control_fd`): it writes event lines there ("ready", "beat"), and
//   on_message hears them. A worker's own environment (environment_for) and a delay before a replacement
//   (restart_delay, after the restart budget allowed it) complete the hooks.
//
//     clusterkit::Handover workers(context, {.supervisor = lesson06::supervisor_config(...), .control_fd = 4,
//                                             .on_message = [](const auto& worker, const auto& event) { ... }});
//     workers.start();
//     const pid_t next = workers.start_successor(2);   // later, when it says "ready": workers.promote(next)
#pragma once

#include "clusterkit/events.hpp"
#include "clusterkit/fd.hpp"
#include "clusterkit/supervisor.hpp"
#include "clusterkit/wait_status.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sys/types.h>
#include <vector>

namespace clusterkit {

struct HandoverConfig {
    // The supervisor's own configuration. Its on_exit hears of every worker that ended, successors included.
    SupervisorConfig supervisor;
    // Not 0: each worker gets the write end of a pipe as this descriptor, named in CLUSTERKIT_CONTROL_FD, and
    // every event line it writes there is passed to on_message (not during a stop).
    int control_fd = 0;
    std::function<void(const WorkerRef&, const Event&)> on_message{};
    // How long to wait before replacing a serving worker that died (the restart budget allows it). None: at once.
    std::function<std::chrono::milliseconds(const WorkerRef& dead)> restart_delay{};
    // More environment for the worker about to start with this id, beside the supervisor's worker_environment.
    std::function<Environment(int id)> environment_for{};
};

class Handover {
public:
    Handover(boost::asio::io_context& context, HandoverConfig config);

    void start() { supervisor_.start(); }  // the supervisor's start(): run the io_context afterwards
    int exit_status() const { return supervisor_.exit_status(); }
    bool stopping() const { return supervisor_.stopping(); }
    const SupervisorConfig& config() const { return supervisor_.config(); }

    // Starts another process for worker `id` beside the one serving it (prints `fork` and `online`). Until
    // promote(), it is not replaced when it ends; its `exit` line is printed all the same. Throws if it cannot
    // start.
    pid_t start_successor(int id);
    // The successor takes its id over; the worker that served the id (if any) is retired.
    void promote(pid_t successor);
    // Asks a worker or a successor to end for good (SIGTERM, then SIGKILL after the grace period); it is not
    // replaced.
    void retire(pid_t pid);
    // Kills a worker or a successor at once (SIGKILL). A serving worker is then replaced, as after any death.
    void kill(pid_t pid);
    // The process serving each id now, by id (an id between a death and its replacement has none).
    std::vector<WorkerRef> serving() const;

private:
    struct Successor {
        Supervisor::Started started;
        bool promoted = false;
    };
    struct ControlLines;  // the read end of a worker's control pipe (handover.cpp)

    SupervisorConfig with_hooks(SupervisorConfig config);
    void before_start(int id, Environment& environment, std::vector<BindFd>& fds);
    void after_start(const WorkerRef& worker);
    void read_control(std::shared_ptr<ControlLines> lines);
    bool take_over(int id);
    bool delay_restart(int id);
    void on_exit(const WorkerRef& worker);
    void reap_successor(pid_t pid);
    void kill_after_grace(pid_t pid);
    void on_stop();
    bool supervised(pid_t pid) const;

    boost::asio::io_context& context_;
    HandoverConfig hooks_;  // all but .supervisor, which the supervisor keeps
    std::map<pid_t, Successor> successors_;  // started, not yet taken on by the supervisor
    std::set<pid_t> retiring_;               // supervised workers asked to drain: they serve no more
    std::map<pid_t, std::unique_ptr<boost::asio::steady_timer>> kill_timers_;  // after retire(), by pid
    std::map<int, std::unique_ptr<boost::asio::steady_timer>> restart_timers_;  // delayed replacements, by id
    std::unique_ptr<Pipe> control_;  // the control pipe of the worker being started (before_start to after_start)
    Supervisor supervisor_;          // last: its hooks call the members above
};

}  // namespace clusterkit
