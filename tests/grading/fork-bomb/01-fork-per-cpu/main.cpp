// Hostile submission: a fork bomb. Every process forks as fast as it can, and so does every child, but the
// bomb stops itself at 2,000 processes in all (a counter in memory the whole tree shares), so that a
// sandbox that fails cannot take the machine down. The sandbox should stop it far sooner: RLIMIT_NPROC and
// the cgroup's pids.max (256).
#include <atomic>
#include <new>
#include <sys/mman.h>
#include <unistd.h>

int main() {
    void* shared = ::mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) return 1;
    auto* started = new (shared) std::atomic<int>(1);
    constexpr int limit = 2000;
    while (started->fetch_add(1) < limit) {
        if (::fork() == -1) started->fetch_sub(1);  // refused (a limit): try again, forever
    }
    for (;;) ::pause();
}
