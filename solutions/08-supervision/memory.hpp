// Lesson 08: a worker's memory, seen from the primary: the ceiling it runs under, and how much of it is resident.
#pragma once

#include <cstddef>
#include <optional>
#include <sys/types.h>

namespace lesson08 {

// For the child, between fork and exec (SupervisorConfig::in_child): the kernel refuses it any address space
// beyond `bytes`, so an allocation past that fails and the worker dies. False, with errno set, if it cannot.
bool limit_memory(std::size_t bytes) noexcept;

// The resident set of process `pid` (the memory it really uses, in RAM) in KiB; nothing if it has ended.
std::optional<long> resident_kb(pid_t pid);

}  // namespace lesson08
