// Child processes the fork(2) way; stopping and reaping them. See children.hpp.
//
// Waiting uses one pidfd per child (pidfd_open(2), Linux 5.3): poll(2) on them wakes up when any child
// ends, with an optional deadline, and only our own children are ever reaped.
#include "clusterkit/children.hpp"

#include "clusterkit/errors.hpp"
#include "clusterkit/fd.hpp"

#include <cerrno>
#include <csignal>
#include <optional>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace clusterkit {
namespace {

using Clock = std::chrono::steady_clock;

UniqueFd open_pidfd(pid_t pid) {
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) throw_system_error("pidfd_open");
    return UniqueFd(fd);
}

// Reaps every child in `waiting` that has ended, calls on_exit for it and removes it from `waiting`.
void reap_ended(std::vector<pid_t>& waiting, const OnChildExit& on_exit) {
    std::erase_if(waiting, [&](pid_t pid) {
        int raw_status = 0;
        pid_t result = 0;
        while ((result = ::waitpid(pid, &raw_status, WNOHANG)) == -1 && errno == EINTR) {
        }
        if (result == -1) throw_system_error("waitpid");
        if (result == 0) return false;
        on_exit(pid, WaitStatus::from_raw(raw_status));
        return true;
    });
}

// Blocks until one of `pids` has ended, or until the deadline. False if the deadline came first.
bool wait_for_any(const std::vector<pid_t>& pids, std::optional<Clock::time_point> deadline) {
    std::vector<UniqueFd> pidfds;
    std::vector<pollfd> watched;
    for (pid_t pid : pids) {
        pidfds.push_back(open_pidfd(pid));
        watched.push_back(pollfd{.fd = pidfds.back().get(), .events = POLLIN, .revents = 0});
    }
    for (;;) {
        int timeout_ms = -1;
        if (deadline) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
            timeout_ms = static_cast<int>(std::max<long long>(0, left.count()));
        }
        const int ready = ::poll(watched.data(), watched.size(), timeout_ms);
        if (ready > 0) return true;
        if (ready == 0) return false;
        if (errno != EINTR) throw_system_error("poll");
    }
}

}  // namespace

pid_t fork_child(std::string_view program, const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid == -1) throw_system_error("fork");
    if (pid > 0) return pid;
    int status = exit_status::failure;
    try {
        status = body();
    } catch (const std::exception& error) {
        report_error(program, error.what());
    } catch (...) {
        report_error(program, "unknown exception in a child process");
    }
    ::_exit(status);
}

void reap_children(std::span<const pid_t> pids, const OnChildExit& on_exit) {
    std::vector<pid_t> waiting(pids.begin(), pids.end());
    for (reap_ended(waiting, on_exit); !waiting.empty(); reap_ended(waiting, on_exit)) wait_for_any(waiting, {});
}

void stop_children(std::span<const pid_t> pids, std::chrono::milliseconds grace, const OnChildExit& on_exit) {
    std::vector<pid_t> waiting;
    for (pid_t pid : pids) {
        if (pid <= 0) continue;  // never kill(0) or kill(-1): those mean "my group" and "everyone"
        ::kill(pid, SIGTERM);
        waiting.push_back(pid);
    }
    const auto deadline = Clock::now() + grace;
    for (reap_ended(waiting, on_exit); !waiting.empty() && wait_for_any(waiting, deadline);)
        reap_ended(waiting, on_exit);
    for (pid_t pid : waiting) ::kill(pid, SIGKILL);
    reap_children(waiting, on_exit);
}

}  // namespace clusterkit
