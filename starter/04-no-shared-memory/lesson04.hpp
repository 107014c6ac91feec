// Lesson 04: what the two modes of lesson04 share: their options, and the functions that run them.
// Lesson text: lessons/04-no-shared-memory/README.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lesson04 {

inline constexpr std::string_view program = "lesson04";

// `lesson04 copies`: every worker adds `increments` to its own copy of a global counter.
struct CopiesOptions {
    int workers = 1;
    int increments = 1000;
};

// `lesson04 shared`: every worker adds `increments` to one counter in a shared memory segment.
struct SharedOptions {
    int workers = 1;
    int increments = 1000000;
    bool lock = true;                   // false with --no-lock: the lost-update demonstration
    std::optional<int> crash_worker;    // --crash-worker I: worker I calls abort() halfway
    std::string name_prefix;            // segment names are "<prefix>-<pid>-<random>"
};

// Each returns the primary's exit status, or throws (run_main() turns that into an error line).
int run_copies(const CopiesOptions& options);
int run_shared(const SharedOptions& options);

}  // namespace lesson04
