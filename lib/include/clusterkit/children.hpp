// Child processes the fork(2) way, and stopping and reaping them: the answers of lessons 01 and 03, provided
// to the lessons after them.
//
//     std::vector<pid_t> pids;
//     for (int id = 1; id <= 4; ++id) pids.push_back(clusterkit::fork_child("lesson04", [&] { return work(id); }));
//     clusterkit::reap_children(pids, [](pid_t pid, clusterkit::WaitStatus status) { ... });
#pragma once

#include "clusterkit/wait_status.hpp"

#include <chrono>
#include <functional>
#include <span>
#include <string_view>
#include <sys/types.h>

namespace clusterkit {

// Forks a child that runs `body` and ends with _exit(body's result): it never returns into the caller's
// code, never flushes stdio buffers copied from the parent, never runs its exit handlers. An exception
// in `body` is reported as "program: error: ..." and exits 1. Returns the child's pid, in the parent.
// Only for single-threaded programs: after fork, only the forking thread exists in the child.
pid_t fork_child(std::string_view program, const std::function<int()>& body);

using OnChildExit = std::function<void(pid_t, WaitStatus)>;

// Waits for every one of `pids`, in the order they end, and calls on_exit for each as it is reaped.
// Retries on EINTR. Other children of the process are left alone.
void reap_children(std::span<const pid_t> pids, const OnChildExit& on_exit);

// Stops `pids`: SIGTERM to each, SIGKILL to those still running after `grace`, and reaps every one of them,
// calling on_exit for each. For a primary that must not leave its workers behind on an error path.
void stop_children(std::span<const pid_t> pids, std::chrono::milliseconds grace, const OnChildExit& on_exit);

}  // namespace clusterkit
