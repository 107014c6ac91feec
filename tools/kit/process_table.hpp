// The machine's processes as /proc shows them, and a SIGKILL that cannot hit a reused pid: what the kit needs
// to stop every process of a run, the grader's sandbox (sandbox.cpp) and `kit verify`'s runner
// (pipeline.cpp) alike.
#pragma once

#include <clusterkit/fd.hpp>

#include <csignal>
#include <optional>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>
#include <vector>

namespace clusterkit::kit {

struct ProcessEntry {
    pid_t pid = 0;
    pid_t ppid = 0;
    pid_t session = 0;
    uid_t uid = 0;  // the real uid
    char state = '?';
};

// One process, from /proc/<pid>/status; std::nullopt when it is gone.
std::optional<ProcessEntry> read_process(pid_t pid);

// Every process of the machine (of this pid namespace).
std::vector<ProcessEntry> process_table();

// SIGKILL to a pid read from /proc or a cgroup, if the process it names now still `belongs` to the run.
// The pid is pinned with a pidfd before the check: pids are reused (pid_max may be 32768, a few minutes of
// a busy machine), and a pid read a moment ago may name another grader's process by now. The signal goes to
// the pidfd's process, which is the one checked (or has ended: then it goes nowhere). Never 0, 1 or
// negative: kill(0) hits our own group, kill(-1) as root every process on the machine.
template <typename Belongs>
bool kill_if(pid_t pid, Belongs belongs) {
    if (pid <= 1 || pid == ::getpid()) return false;
    const UniqueFd pinned(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pinned.is_open()) return false;
    const auto now = read_process(pid);
    if (!now || now->state == 'Z' || !belongs(*now)) return false;
    return ::syscall(SYS_pidfd_send_signal, pinned.get(), SIGKILL, nullptr, 0) == 0;
}

// Kills every process of the session `session` (its leader and every process that did not leave it with
// setsid), sweeping the process table until none is left but the leader (whose launcher reaps it): a process
// may fork while it is swept. Those that come back to this process, a subreaper (PR_SET_CHILD_SUBREAPER),
// when their parents die are reaped here; the others' parents reap them.
void kill_session(pid_t session);

}  // namespace clusterkit::kit
