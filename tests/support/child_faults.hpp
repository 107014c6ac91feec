// The test child's fault injection: runs a program under test so that faults a lesson text talks about
// (a fork that fails, a worker killed at a given moment, workers that end in a chosen order, a primary that
// dies at a chosen moment) happen on cue, deterministically, without a sleep.
//
// How: the program runs under a seccomp filter (seccomp(2), SECCOMP_RET_USER_NOTIF) that stops it at the
// system calls named by the rules and asks this process what to do: let the call go on, fail it with an
// errno, hold it for a while, or kill the caller. seccomp_unotify(2) describes the mechanism.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace clusterkit::testing::faults {

struct Rules {
    // The program may make this many processes; every later fork of its own fails with EAGAIN, as when the
    // process table or RLIMIT_NPROC is full. Threads are not counted, nor the forks of its descendants (a
    // worker run through a shell forks too: its fork must not take the program's place in the count).
    std::optional<int> forks_allowed;
    // Every descendant of the program is killed with this signal when it calls write(2), so it never
    // writes anything (0: no such rule).
    int kill_at_write = 0;
    // The first hold_exits descendants to end wait in _exit() until all of them have got there; then one
    // is let go each time the program calls wait4(2) or waitid(2) without WNOHANG, the highest pid first,
    // and a line "release pid=P" is printed just before. So they end, and are reaped, one at a time, in
    // that order.
    int hold_exits = 0;
    // With hold_exits: let the first go as soon as all have got there, and each next one once the program
    // has reaped the one before (seen at its wait that reaps it, or by looking whether it is gone). For a
    // program that calls wait only once a child has ended (an event loop watching pidfds), where the rule
    // above would never start.
    bool hold_exits_in_turn = false;
    // A descendant's prctl(PR_SET_PDEATHSIG) waits until the program has ended (a line "held pid=P" says
    // that it waits): the program dies between its worker's fork and the worker's death signal.
    bool hold_death_signal = false;
    // The program's sched_getaffinity(2) fails with EPERM, as a system call can fail.
    bool fail_sched_getaffinity = false;
    // The program's first blocking wait4(2) or waitid(2) fails with EINTR, as when a signal handler ran
    // during the wait; later waits go on.
    bool interrupt_first_wait = false;
};

// Runs `command` (a full path, then the arguments) under `rules`, prints nothing but the lines the rules
// name, and ends as the program ended: the same exit code, or killed by the same signal.
[[noreturn]] void run_under(const Rules& rules, const std::vector<std::string>& command);

}  // namespace clusterkit::testing::faults
