// Checks that several lessons' autograders make the same way, with Catch2 assertions.
#pragma once

#include "program.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace clusterkit::testing {

// Every one of `workers` workers was forked, then came online, then exited with code 0, in that order, with
// the same pid in its three events; and `done` is the last line.
void check_worker_lifecycles(const Run& run, std::size_t workers);

// A usage error: exit status 2, exactly one stderr line "<program>: error: ...", no worker started, nothing
// left behind.
void check_usage_error(const Run& run, std::string_view program);

// A run-time error: exit status 1 and exactly one stderr line "<program>: error: ...". Returns that line, for
// the checks of what it says.
std::string check_runtime_error(const Run& run, std::string_view program);

// Stops a running `program` with SIGTERM: it must exit with code 0, print `done` as its last line, and leave
// nothing behind.
void check_stops_cleanly_on_sigterm(Program& program);

}  // namespace clusterkit::testing
