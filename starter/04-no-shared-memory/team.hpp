// Lesson 04: the primary's side of a run: fork the workers, then wait for each of them to end, or for a
// SIGTERM or SIGINT that stops them all. Both modes (copies and shared) use it.
//
// Reaping and stopping are the kit's (clusterkit::reap_children, stop_children: lessons 01 and 03). What
// is new here is how the primary waits: SIGCHLD, SIGTERM and SIGINT are *blocked*, so no handler ever runs,
// and sigwaitinfo() takes them one at a time as ordinary events. Whatever the primary then does (stopping
// workers, removing the shared memory segment on the way out) runs in normal code, never in a handler.
#pragma once

#include <csignal>
#include <functional>
#include <string>

namespace lesson04 {

// The signals the primary waits for, blocked from construction to destruction. Construct it before the
// first fork: a SIGTERM that arrives from then on stays pending until wait() takes it.
class BlockedSignals {
public:
    BlockedSignals();
    ~BlockedSignals();
    BlockedSignals(const BlockedSignals&) = delete;
    BlockedSignals& operator=(const BlockedSignals&) = delete;

    // Waits for one of the blocked signals and returns it (SIGCHLD, SIGTERM or SIGINT).
    int wait() const;
    // In a forked worker: the signal mask the primary had before, so that SIGTERM ends the worker again.
    void restore() const noexcept;

private:
    sigset_t blocked_{};
    sigset_t previous_{};
};

struct TeamOutcome {
    std::string failure;  // the first worker that did not exit with code 0, and how it ended; "" if none
    int stop_signal = 0;  // SIGTERM or SIGINT if one stopped the run, else 0
};

// Forks `count` workers; worker I runs work(I) and exits with its result. Prints `fork id=I pid=P` for each,
// calls all_forked() once every worker runs, and `exit id=I pid=P code=C|signal=S` as each ends. If a
// worker fails, or a SIGTERM or SIGINT comes, the remaining workers are stopped (stop_children). Returns
// once every worker has been reaped.
// `signals` must have been constructed before anything that has to be cleaned up on a stop.
TeamOutcome run_team(const BlockedSignals& signals, int count, const std::function<int(int id)>& work,
                     const std::function<void()>& all_forked);

}  // namespace lesson04
