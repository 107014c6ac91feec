// Lesson 04, part 2: `lesson04 shared`. Memory shared on purpose: one counter in a Boost.Interprocess
// managed_shared_memory segment, mapped by the primary before it forks, so every worker's mapping is the same
// physical memory. Now the workers' increments meet, and an increment is three steps (read, add, write) that
// another process can come between: without the lock, updates are lost.
// Lesson text: lessons/04-no-shared-memory/README.md, "Part 2: shared".
#include "lesson04.hpp"
#include "segment.hpp"
#include "team.hpp"

#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>
#include <clusterkit/fd.hpp>
#include <clusterkit/wait_status.hpp>

#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <sys/resource.h>
#include <unistd.h>

namespace lesson04 {
namespace bip = boost::interprocess;

namespace {

constexpr std::size_t segment_size = 64 * 1024;  // the counter and Boost's bookkeeping fit easily

// What lives in the segment. The mutex is process-shared (interprocess_mutex). The value is a std::atomic
// only so that the unlocked demonstration is a race on purpose and not undefined behaviour; its loads and
// stores are still separate steps, exactly like a plain `value = value + 1`.
struct SharedCounter {
    bip::interprocess_mutex mutex;
    std::atomic<std::int64_t> value{0};
};
static_assert(std::atomic<std::int64_t>::is_always_lock_free, "a lock-free atomic works across processes");

// One increment: read, add, write. Another worker may write between our read and our write; then one of
// the two increments is lost.
void add_one(SharedCounter& counter) {
    const std::int64_t seen = counter.value.load(std::memory_order_relaxed);
    counter.value.store(seen + 1, std::memory_order_relaxed);
}

// --crash-worker: the worker dies as a bug would, by a signal, with no chance to clean anything up. Never
// while holding the lock (see the lesson text for what that would do). No core file is left behind either.
[[noreturn]] void crash() {
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    std::abort();
}

// Worker `id`: wait for the start (end-of-file on the pipe, once every worker is forked, so that they all
// count at the same time), then add one to the shared counter `increments` times.
int count_in_worker(int id, const SharedOptions& options, SharedCounter& counter, clusterkit::Pipe& start) {
    start.write_end.reset();
    std::byte ignored{};
    clusterkit::read_exact(start.read_end.get(), std::span(&ignored, 1));
    for (int i = 0; i < options.increments; ++i) {
        if (options.crash_worker == id && i == options.increments / 2) crash();
        if (options.lock) {
            const bip::scoped_lock<bip::interprocess_mutex> lock(counter.mutex);
            add_one(counter);
        } else {
            add_one(counter);  // UNSAFE, on purpose (--no-lock): the lost-update demonstration
        }
    }
    clusterkit::emit("worker", {{"id", id}, {"pid", ::getpid()}, {"added", options.increments}});
    return clusterkit::exit_status::ok;
}

}  // namespace

int run_shared(const SharedOptions& options) {
    const BlockedSignals signals;  // before the segment exists: a SIGTERM from now on cannot skip its removal
    clusterkit::emit("primary", {{"pid", ::getpid()}, {"workers", options.workers}});
    remove_stale_segments(options.name_prefix);

    OwnedSegment segment(unique_segment_name(options.name_prefix), segment_size);
    SharedCounter& counter = *segment.memory().construct<SharedCounter>("counter")();
    clusterkit::emit("segment", {{"name", segment.name()}, {"lock", options.lock ? "mutex" : "none"}});

    auto start = clusterkit::Pipe::open();
    const auto outcome = run_team(
        signals, options.workers, [&](int id) { return count_in_worker(id, options, counter, start); },
        [&] { start.write_end.reset(); });  // every worker runs: start them all at once

    const std::int64_t expected = static_cast<std::int64_t>(options.workers) * options.increments;
    clusterkit::emit("shared", {{"total", counter.value.load()}, {"expected", expected}});
    clusterkit::emit("done");
    // Throwing unwinds `segment` too: its destructor removes the segment on these paths as well.
    if (outcome.stop_signal != 0)
        throw std::runtime_error("stopped by " + clusterkit::signal_name(outcome.stop_signal) + " before the workers finished");
    if (!outcome.failure.empty()) throw std::runtime_error(outcome.failure + ": the total is incomplete");
    return clusterkit::exit_status::ok;
}

}  // namespace lesson04
