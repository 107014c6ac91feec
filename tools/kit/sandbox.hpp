// The grader's sandbox: runs one program of a student's submission (in practice, one test case of the
// kit's tests, which starts the student's programs) as if it were hostile, and leaves nothing behind.
//
// Layers, each used where this machine allows it (Sandbox::layers() says which are in force):
//   - a wall-clock deadline, then SIGKILL to everything the run started;
//   - rlimits: CPU seconds, processes per user (RLIMIT_NPROC), file size, address space, open files, no core;
//   - its own session and process group;
//   - as root: an unprivileged user per job slot (clusterkit-grade1, -grade2, ...; created when missing),
//     because RLIMIT_NPROC does not bind root, and so that "every process of the run" is "every process of
//     that user";
//   - as root: a cgroup v1 `pids` group (pids.max) and `memory` group, and a cgroup v2 group whose
//     `cgroup.kill` ends every process in it at once;
//   - as root: a mount namespace of its own, in which the file system is only the system's folders (/usr,
//     /etc, /dev, /proc, /sys, ...), its private folder (also /tmp and /var/tmp) and the paths the run names
//     (the test binary, the submission's programs), each at its own path: not the kit (solutions, mutants,
//     hostile suite), not the output folder, not the other submissions or builds. Bind mounts do not look at
//     the folders above a path, so an output folder inside a private (0700) home folder works as well;
//   - a private /dev/shm name prefix (CLUSTERKIT_SHM_PREFIX), a private writable TMPDIR and HOME, and an
//     environment of its own (nothing of the grader's leaks in);
//   - output captured up to a size cap (a flood fills neither memory nor disk).
// Afterwards: the cgroup is killed, every process of the slot's user is killed and reaped, and every
// /dev/shm object, SysV IPC object and /tmp entry of the run (its prefix, or owned by the slot's user) is
// removed. Not root: rlimits, session and deadline only; the layers say so.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <clusterkit/wait_status.hpp>

namespace clusterkit::kit {

struct SandboxLimits {
    std::chrono::milliseconds wall_clock{60'000};
    long cpu_seconds = 60;                       // RLIMIT_CPU, per process
    long processes = 256;                        // RLIMIT_NPROC (per user) and pids.max (per run)
    long long file_size = 64LL << 20;            // RLIMIT_FSIZE, bytes
    long long address_space = 2LL << 30;         // RLIMIT_AS, bytes per process
    long long memory = 2LL << 30;                // cgroup memory.limit_in_bytes, the whole run
    long open_files = 256;                       // RLIMIT_NOFILE
    std::size_t output_cap = 8u << 20;           // bytes of stdout kept; the rest is counted and dropped
    std::size_t error_cap = 64u << 10;           // bytes of stderr kept
};

struct SandboxRun {
    std::filesystem::path program{};
    std::vector<std::string> args{};
    std::vector<std::pair<std::string, std::string>> environment{};  // added to the sandbox's own few variables
    SandboxLimits limits{};
    // The paths the run may see besides the system's folders, its private folder and `program` (as root;
    // otherwise it sees what its user may see).
    std::vector<std::filesystem::path> read_only{};
    std::vector<std::filesystem::path> writable{};
    std::filesystem::path directory{};  // where it starts; default: its private folder
};

struct SandboxResult {
    std::optional<WaitStatus> status;  // std::nullopt: it did not start
    bool timed_out = false;            // killed at the wall-clock deadline
    std::string out{};                   // stdout, up to the cap
    std::size_t out_dropped = 0;       // bytes beyond the cap
    std::string err{};
    std::size_t err_dropped = 0;
    double seconds = 0;
    int processes_killed = 0;          // processes of the run still alive at the end, killed by the cleanup
    int oom_kills = 0;                 // processes the kernel killed at the run's memory limit (cgroup)
    int objects_removed = 0;           // /dev/shm, SysV IPC and /tmp objects the run left, removed
    std::string start_error{};           // why it did not start
};

// One job slot: the grader runs one sandboxed program at a time per slot, so a slot's user and cgroups
// belong to exactly one run at a time. Thread-compatible: use one Sandbox per thread.
class Sandbox {
public:
    // `slot` counts from 1; `work_dir` is where the runs' private folders go (created if needed). `hidden`:
    // folders no run may see even when they lie inside a system folder (the kit, the output folder).
    Sandbox(int slot, std::filesystem::path work_dir, std::vector<std::filesystem::path> hidden = {});
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    SandboxResult run(const SandboxRun& request);

    // The layers in force, one short phrase each: "user clusterkit-grade1", "cgroup v2 kill", ...
    const std::vector<std::string>& layers() const { return layers_; }
    // What could not be used here and why ("cgroup v1 memory: Permission denied").
    const std::vector<std::string>& missing_layers() const { return missing_; }
    // The sandbox's user (root only), for files a run must own.
    std::optional<std::pair<uid_t, gid_t>> user() const { return user_; }

private:
    struct Cgroups;
    void find_user();
    void cleanup(SandboxResult& result, const std::string& shm_prefix);

    int slot_;
    std::filesystem::path work_dir_{};
    std::vector<std::filesystem::path> hidden_{};
    bool root_;
    bool namespace_ = false;  // runs get a mount namespace of their own
    std::optional<std::pair<uid_t, gid_t>> user_;
    std::string user_name_{};
    long run_count_ = 0;
    std::vector<std::string> layers_{};
    std::vector<std::string> missing_{};
};

// Makes sure the slots' users exist (root only: useradd --system). Call once, before starting threads.
// Returns a message for each user that could not be made.
std::vector<std::string> prepare_sandbox_users(int slots);

// The grader becomes the reaper of its orphaned descendants (PR_SET_CHILD_SUBREAPER): what a test binary
// leaves when it is killed comes back to the grader, which reaps it, instead of to the machine's init.
void become_subreaper();

}  // namespace clusterkit::kit

namespace clusterkit::kit {

// Claims `count` job slots for this process: slot N is held with a lock file (/run/lock/clusterkit-grade-N.lock)
// until the process ends, so that two graders on one machine never share a slot's user or build folder.
// Returns the slot numbers, from 1 up.
std::vector<int> claim_slots(int count);

}  // namespace clusterkit::kit
