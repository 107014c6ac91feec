// Lesson 02: the worker program, lesson02-worker (the seed's index.js in C++).
// YOUR CODE: fill in the one TODO(lesson 02) below.
//
// lesson02 starts N copies of this separate program, as Node's cluster.setupPrimary({ exec }) starts a
// worker script. A worker learns who it is from its environment, as a Node worker reads NODE_UNIQUE_ID:
// CLUSTERKIT_WORKER_ID is its id (1..N), CLUSTERKIT_WORK_MS how long its work may take (MIN-MAX
// milliseconds). It works for a random time in that range, prints its event line and exits 0.
// Lesson text: lessons/02-worker-exec/README.md.
//
//     CLUSTERKIT_WORKER_ID=I [CLUSTERKIT_WORK_MS=MIN-MAX] lesson02-worker [ARGS...]    (ARGS are ignored)
#include <clusterkit/cli.hpp>
#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>

namespace {

constexpr std::string_view program = "lesson02-worker";

// How long the work takes: a random time from min_ms to max_ms. The default is the seed's
// `1000 + Math.random() * 5000`.
struct WorkRange {
    int min_ms = 1000;
    int max_ms = 6000;
};

// Who am I? The primary put the answer in the environment; a worker run by hand has none.
int worker_id() {
    // TODO(lesson 02): return this worker's id, from CLUSTERKIT_WORKER_ID. Throw clusterkit::UsageError if it
    // is unset or not a whole number of at least 1. Then remove it from the environment, as Node does.
    return 0;
}

// The primary passes --work-ms in the environment, so that the worker's arguments stay the user's own.
WorkRange work_range() {
    const char* text = std::getenv("CLUSTERKIT_WORK_MS");
    if (text == nullptr) return WorkRange{};
    const auto range = clusterkit::parse_range(text);
    if (!range)
        throw clusterkit::UsageError("CLUSTERKIT_WORK_MS wants MIN-MAX milliseconds, not '" + std::string(text) + "'");
    return WorkRange{range->min, range->max};
}

std::chrono::milliseconds random_work_time(WorkRange range) {
    std::mt19937 generator(std::random_device{}());
    std::uniform_int_distribution<int> milliseconds(range.min_ms, range.max_ms);
    return std::chrono::milliseconds(milliseconds(generator));
}

}  // namespace

int main() {
    return clusterkit::run_main(program, [] {
        const int id = worker_id();
        const auto work = random_work_time(work_range());
        std::this_thread::sleep_for(work);  // the work: the seed's setTimeout(..., 1000 + Math.random() * 5000)
        clusterkit::emit("worker", {{"id", id}, {"pid", ::getpid()}, {"ppid", ::getppid()}, {"ms", work.count()}});
        return clusterkit::exit_status::ok;
    });
}
