// Whether the programs under test have come to a standstill: every thread of every process this test started
// waits for something that nothing can bring any more. Then no line can come however long a test waits, so a
// wait may end at once, instead of at its deadline (that is what makes a failing check fail in a fraction of a
// second instead of 5 s).
//
// A thread is at a standstill when it sleeps in a system call that waits without a time limit (read, accept,
// wait4, pause, epoll_wait / poll / select / futex without a timeout) and its process has no timer armed
// (timerfd, POSIX timers). Everything else (running, sleeping with a timeout, a call this does not know, a file
// it cannot read) counts as "may still move". The test process's own other threads are looked at too: a client
// thread of the test may be about to send something.
//
// One look can be fooled by a thread that was woken a moment ago but has not run yet. So the standstill must
// hold, with no thread of them having run in between (its context switch counts unchanged), over several looks
// spanning `settle`.
//
// A wait that gives up at `until` need not wait for a timer due after it: a timerfd that fires only after `until`
// counts as no timer (a primary whose grace period is 200 s instead of 200 ms is at a standstill for a 5 s wait).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <sys/types.h>

namespace clusterkit::testing {

class Standstill {
public:
    explicit Standstill(std::chrono::steady_clock::time_point until = std::chrono::steady_clock::time_point::max(),
                        std::chrono::milliseconds settle = std::chrono::milliseconds(300))
        : until_(until), settle_(settle) {}

    // Takes a look now; true once the standstill has held, unchanged, over `settle`. Call it every so often
    // while waiting (each look reads /proc: a few milliseconds).
    bool holds();

    // What the last look saw moving, or the standstill it saw ("4 processes, all waiting ..."), for messages.
    const std::string& description() const { return description_; }

private:
    std::chrono::steady_clock::time_point until_;  // when the wait gives up: timers due later do not count
    std::chrono::milliseconds settle_;
    std::map<pid_t, long long> switches_;                  // thread -> context switches, at the first still look
    std::chrono::steady_clock::time_point still_since_{};  // when the standstill was first seen
    bool still_ = false;
    std::string description_;
};

}  // namespace clusterkit::testing
