// Lesson 04: the primary's side of a run. See team.hpp; lessons/04-no-shared-memory/README.md, "Nothing
// left behind". YOUR CODE: fill in the TODO(lesson 04) below.
#include "team.hpp"

#include "lesson04.hpp"

#include <clusterkit/children.hpp>
#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace lesson04 {
namespace {

// From SIGTERM to SIGKILL when stopping workers. Ours end at the first SIGTERM.
constexpr std::chrono::milliseconds stop_grace{2000};

// Whether child `pid` has ended, without reaping it (WNOWAIT): reaping stays the kit's job.
bool has_ended(pid_t pid) {
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == -1) {
        if (errno != EINTR) clusterkit::throw_system_error("waitid");
    }
    return info.si_pid == pid;
}

}  // namespace

BlockedSignals::BlockedSignals() {
    sigemptyset(&blocked_);
    sigaddset(&blocked_, SIGCHLD);  // a worker ended
    sigaddset(&blocked_, SIGTERM);  // stop
    sigaddset(&blocked_, SIGINT);   // stop (Ctrl-C)
    if (::sigprocmask(SIG_BLOCK, &blocked_, &previous_) != 0) clusterkit::throw_system_error("sigprocmask");
}

BlockedSignals::~BlockedSignals() { ::sigprocmask(SIG_SETMASK, &previous_, nullptr); }

int BlockedSignals::wait() const {
    for (;;) {
        const int signal = ::sigwaitinfo(&blocked_, nullptr);
        if (signal > 0) return signal;
        if (errno != EINTR) clusterkit::throw_system_error("sigwaitinfo");
    }
}

void BlockedSignals::restore() const noexcept { ::sigprocmask(SIG_SETMASK, &previous_, nullptr); }

TeamOutcome run_team(const BlockedSignals& signals, int count, const std::function<int(int id)>& work,
                     const std::function<void()>& all_forked) {
    const pid_t primary = ::getpid();
    TeamOutcome outcome;
    std::map<pid_t, int> ids;       // every worker forked, by pid
    std::vector<pid_t> running;     // those not reaped yet: the only pids we may ever signal
    bool stopping = false;          // once we stop them, a worker ended by our SIGTERM is no failure

    const auto on_exit = [&](pid_t pid, clusterkit::WaitStatus status) {
        std::erase(running, pid);
        clusterkit::emit("exit", {{"id", ids.at(pid)}, {"pid", pid}, status.field()});
        const bool failed = status.killed_by_signal || status.code != clusterkit::exit_status::ok;
        if (failed && !stopping && outcome.failure.empty())
            outcome.failure = "worker " + std::to_string(ids.at(pid)) + " " + status.describe();
    };
    const auto stop_all = [&] {
        stopping = true;
        const std::vector<pid_t> to_stop = running;
        clusterkit::stop_children(to_stop, stop_grace, on_exit);
    };

    try {
        for (int id = 1; id <= count; ++id) {
            const pid_t pid = clusterkit::fork_child(program, [&] {
                signals.restore();
                // The kernel ends the worker if the primary dies without stopping it (SIGKILL).
                if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != primary) return 1;
                return work(id);
            });
            ids[pid] = id;
            running.push_back(pid);
            clusterkit::emit("fork", {{"id", id}, {"pid", pid}});
        }
        all_forked();
    } catch (...) {
        stop_all();  // a fork failed: do not leave the workers already started behind
        throw;
    }

    while (!running.empty()) {
        const int signal = signals.wait();
        if (signal == SIGCHLD) {
            // Signals do not queue: one SIGCHLD may stand for several ended workers. Ask each.
            const std::vector<pid_t> candidates = running;
            for (pid_t pid : candidates)
                if (has_ended(pid)) clusterkit::reap_children(std::span(&pid, 1), on_exit);
            // A failed worker spoils the result; and one that died holding the lock would leave the others
            // waiting for it forever. Stop them.
            if (!outcome.failure.empty()) stop_all();
        } else {
            // TODO(lesson 04): SIGTERM or SIGINT: remember which signal it was in `outcome`, and stop every
            // worker that still runs (stop_all), so that this loop ends and the primary can clean up.
        }
    }
    return outcome;
}

}  // namespace lesson04
