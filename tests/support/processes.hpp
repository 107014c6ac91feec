// The process table, read from /proc: who is alive, who is a zombie, whose child is whom.
//
// The autograder uses it to prove that a program left nothing behind. The test process makes itself a
// "child subreaper" (prctl(PR_SET_CHILD_SUBREAPER)), so every orphan of the program under test becomes
// a child of the test process, alive or zombie, and so can be seen, killed and reaped here.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace clusterkit::testing {

struct ProcessInfo {
    pid_t pid = 0;
    pid_t ppid = 0;
    pid_t pgid = 0;
    char state = '?';  // as in ps: R running, S sleeping, Z zombie, ...
    std::string command;

    bool is_zombie() const { return state == 'Z'; }
    std::string describe() const;  // "4242 (lesson01) zombie, parent 4241"
};

// Every process this test can see, from /proc/<pid>/stat. Processes that end while it reads are skipped.
std::vector<ProcessInfo> process_table();

// The children of `pid`, and all of their descendants, alive or zombie.
std::vector<ProcessInfo> descendants_of(pid_t pid);

// The same, without the processes in `excluded` and their descendants: a test that runs two programs at
// once leaves the other one's process tree alone.
std::vector<ProcessInfo> descendants_of(pid_t pid, const std::set<pid_t>& excluded);

// Like descendants_of, without zombies.
std::vector<ProcessInfo> live_descendants_of(pid_t pid);

// Sends `signal` to `pid` only if it is a descendant of this test process (alive), and returns whether it
// did. Tests signal pids that the program under test printed: a wrong program may print 0 or -1, and
// kill(0) or kill(-1) would hit the test runner itself, or every process on the machine.
bool signal_descendant(pid_t pid, int signal);

// Makes this process the reaper of its orphaned descendants. Called once by the tests' main().
void become_subreaper();

// "a, b and c" for failure messages.
std::string describe(const std::vector<ProcessInfo>& processes);

// The state of process `pid`, as in ps ('R' running, 'S' sleeping, 'T' stopped, 'Z' zombie...), or '\0' once
// it is gone.
char process_state(pid_t pid);

// The nanoseconds process `pid` has run on a CPU so far (/proc/<pid>/schedstat), or -1 once it is gone.
long long cpu_time_ns(pid_t pid);

// "socket:[N]", the listening TCP socket on `port` (any local address, IPv4 or IPv6) as /proc/<pid>/fd names
// it, from /proc/net/tcp and tcp6; empty if nothing listens there.
std::string listening_socket(unsigned short port);

// Whether process `pid` has a descriptor open on `target`, as /proc/<pid>/fd names it ("socket:[N]",
// "pipe:[N]", a path). False once it is gone.
bool has_descriptor(pid_t pid, const std::string& target);

// For what the kernel sends no event about (a process has run for a while, is stopped, is blocked): looks at
// `condition` every 0.1 ms until it holds (true) or the deadline passes (false). Not a way to wait for a line,
// an exit or a socket: those have events (Program, wait_until_gone, HttpClient).
template <typename Condition, typename Duration>
bool look_until(Condition condition, Duration deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return true;
}

}  // namespace clusterkit::testing
