// Lesson 04, part 1: `lesson04 copies`. YOUR CODE: fill in the TODO(lesson 04) below; there are more in
// shared.cpp, segment.cpp and team.cpp.
// No process shares memory with another: after fork(2) each worker
// has its own copy of every variable, this global counter included.
//
// The seed: "none of the processes involved share memory. Each process has its own copy of every variable".
// Here that sentence is C++: the primary sets `counter` to 100 and forks; each worker adds K to *its*
// counter and sees 100 + K, whatever the other workers do; the primary's counter is still 100 at the end.
// (The kernel does not copy the memory at fork time: parent and child share the pages read-only until one
// of them writes, and only the page written to is copied: copy-on-write.)
// Lesson text: lessons/04-no-shared-memory/README.md, "Part 1: copies".
#include "lesson04.hpp"
#include "team.hpp"

#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>
#include <clusterkit/wait_status.hpp>

#include <cstdint>
#include <stdexcept>
#include <unistd.h>

namespace lesson04 {
namespace {

constexpr std::int64_t start_value = 100;

// A global variable: every process started by fork() has one of its own.
std::int64_t counter = 0;

// What a worker does, in its own process: add to its own copy of the counter, and say what it sees.
int count_in_worker(int id, [[maybe_unused]] int increments) {
    // TODO(lesson 04): add 1 to `counter`, `increments` times (the line below then says what this worker sees).
    clusterkit::emit("worker", {{"id", id}, {"pid", ::getpid()}, {"counter", counter}});
    return clusterkit::exit_status::ok;
}

}  // namespace

int run_copies(const CopiesOptions& options) {
    const BlockedSignals signals;  // from here on, SIGTERM and SIGINT wait for run_team()
    clusterkit::emit("primary", {{"pid", ::getpid()}, {"workers", options.workers}});
    counter = start_value;  // set before the workers start: each of them starts from a copy of this
    clusterkit::emit("copies", {{"counter", counter}, {"increments", options.increments}});

    const auto outcome = run_team(signals, options.workers, [&](int id) { return count_in_worker(id, options.increments); },
                                  [] {});

    // The workers' increments happened in their copies, which ended with them.
    clusterkit::emit("primary-counter", {{"value", counter}});
    clusterkit::emit("done");
    if (outcome.stop_signal != 0) throw std::runtime_error("stopped by " + clusterkit::signal_name(outcome.stop_signal));
    if (!outcome.failure.empty()) throw std::runtime_error(outcome.failure);
    return clusterkit::exit_status::ok;
}

}  // namespace lesson04
