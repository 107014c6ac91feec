// Lesson 04, part 2: a named shared memory segment, owned by an RAII object.
//
// A segment outlives the processes that use it: its name stays in /dev/shm, and its pages in RAM, until
// someone removes it (shm_unlink) or the machine reboots. So the primary that creates one owns it like any
// other resource: OwnedSegment removes the name in its destructor, which runs on every way out of the scope
// (a normal end, an exception, a stop by SIGTERM turned into an exception). Only a SIGKILL to the primary
// skips it, and for that the next run sweeps stale segments of dead primaries (remove_stale_segments).
// Lesson text: lessons/04-no-shared-memory/README.md, "Nothing left behind".
#pragma once

#include <boost/interprocess/managed_shared_memory.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace lesson04 {

// The default name prefix; --name-prefix or $CLUSTERKIT_SHM_PREFIX choose another.
inline constexpr std::string_view default_name_prefix = "clusterkit-lesson04";

// "<prefix>-<pid>-<random>": unique to this run, and tells which process created it.
std::string unique_segment_name(std::string_view prefix);

// Throws UsageError unless `prefix` can start a segment name (letters, digits, '-', '_', '.'; not too long).
void check_name_prefix(std::string_view prefix);

// Removes the segments "<prefix>-<pid>-..." whose process <pid> no longer exists: left by a primary killed
// with SIGKILL. Prints `removed-stale segment=NAME` for each.
void remove_stale_segments(std::string_view prefix);

class OwnedSegment {
public:
    // Creates the segment (never opens an existing one: create_only). Throws if it cannot.
    OwnedSegment(std::string name, std::size_t size);
    // Removes the name. The memory itself lives on while any process still has it mapped.
    ~OwnedSegment();
    OwnedSegment(const OwnedSegment&) = delete;
    OwnedSegment& operator=(const OwnedSegment&) = delete;

    const std::string& name() const { return name_; }
    boost::interprocess::managed_shared_memory& memory() { return memory_; }

private:
    std::string name_;
    boost::interprocess::managed_shared_memory memory_;
};

}  // namespace lesson04
