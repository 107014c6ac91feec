// Lesson 08: the memory ceiling and the resident set (lessons/08-supervision/README.md, "The leak, for real").
// See memory.hpp.
// YOUR CODE: fill in the TODO(lesson 08) gap in limit_memory(); the others are in supervision.cpp and worker_app.cpp.
#include "memory.hpp"

#include <fstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

namespace lesson08 {

//tag::limit[]
bool limit_memory([[maybe_unused]] std::size_t bytes) noexcept {
    // TODO(lesson 08): have the kernel refuse this process, and the program it is about to run, any memory
    // beyond `bytes` of address space. Only async-signal-safe calls: this runs in the child of a fork, before
    // exec. Return false (errno set) if the kernel refuses.
    return true;
}
//end::limit[]

std::optional<long> resident_kb(pid_t pid) {
    // statm: "size resident shared text lib data dt", in pages.
    std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
    long size = 0;
    long resident = 0;
    if (!(statm >> size >> resident)) return std::nullopt;
    return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

}  // namespace lesson08
