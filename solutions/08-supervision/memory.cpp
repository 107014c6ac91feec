// Lesson 08: the memory ceiling and the resident set (lessons/08-supervision/README.md, "The leak, for real").
// See memory.hpp.
#include "memory.hpp"

#include <fstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

namespace lesson08 {

//tag::limit[]
bool limit_memory(std::size_t bytes) noexcept {
    // Only async-signal-safe calls here: this runs in the child of a fork, before exec.
    const rlimit limit{.rlim_cur = bytes, .rlim_max = bytes};
    return ::setrlimit(RLIMIT_AS, &limit) == 0;
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
