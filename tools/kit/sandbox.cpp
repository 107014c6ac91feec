// The grader's sandbox. See sandbox.hpp for its layers.
#include "sandbox.hpp"

#include "process_table.hpp"

#include <clusterkit/fd.hpp>
#include <clusterkit/process.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <algorithm>
#include <fstream>
#include <functional>
#include <grp.h>
#include <linux/close_range.h>
#include <pwd.h>
#include <set>
#include <sstream>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace clusterkit::kit {
namespace asio = boost::asio;
namespace bp = boost::process::v2;
namespace fs = std::filesystem;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

const fs::path shm_folder = "/dev/shm";
const std::string user_prefix = "clusterkit-grade";

error_code last_error() { return {errno, boost::system::system_category()}; }

std::string user_name(int slot) { return user_prefix + std::to_string(slot); }

// Whether process `pid` is in a cgroup named `name` (in any hierarchy), from /proc/<pid>/cgroup.
bool in_cgroup_named(pid_t pid, const std::string& name) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    for (std::string line; std::getline(in, line);)
        if (line.ends_with("/" + name)) return true;
    return false;
}

// --- writing small files (cgroup knobs) ---

bool write_text(const fs::path& file, const std::string& text) {
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.is_open()) return false;
    return ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

std::string read_text(const fs::path& file) {
    std::ifstream in(file);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// --- Boost.Process v2 initializers (on_exec_setup runs in the child between fork and exec: raw system
// calls only, since the grader has threads) ---

// The environment of the run: only the variables given, nothing of the grader's (tokens, paths).
class OwnEnvironment {
public:
    explicit OwnEnvironment(const std::vector<std::pair<std::string, std::string>>& variables) {
        for (const auto& [name, value] : variables) entries_.push_back(name + "=" + value);
        for (const auto& entry : entries_) pointers_.push_back(entry.c_str());
        pointers_.push_back(nullptr);
    }
    template <typename Launcher>
    error_code on_setup(Launcher& launcher, const fs::path&, const char* const*) {
        launcher.env = pointers_.data();
        return {};
    }

private:
    std::vector<std::string> entries_;
    std::vector<const char*> pointers_;
};

// --- the run's view of the file system (root only): a mount namespace of its own ---

// The system's folders every program needs (programs, libraries, compilers, /etc's configuration, devices,
// /proc); everything else of the machine stays out of sight.
const std::array<const char*, 11> system_folders{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
                                                 "/etc", "/dev", "/proc", "/sys"};

bool inside(const fs::path& path, const fs::path& folder) {
    const auto [end, _] = std::mismatch(folder.begin(), folder.end(), path.begin(), path.end());
    return end == folder.end();
}

// The steps that make the view, prepared in the grader; MountPlan::apply() runs them in the child between
// fork and exec, where only system calls are safe (the grader has threads): a tmpfs becomes the new root,
// the system's folders and the run's paths are bound into it at their own paths, then pivot_root.
class MountPlan {
public:
    MountPlan() = default;
    MountPlan(const fs::path& new_root, const fs::path& private_dir, const std::vector<fs::path>& hidden,
              const std::vector<fs::path>& read_only, const std::vector<fs::path>& writable) {
        root_ = new_root.string();
        add(Kind::tmpfs, "", "/", "the new root");
        for (const fs::path folder : system_folders) {
            std::error_code error;
            const auto status = fs::symlink_status(folder, error);
            if (fs::is_symlink(status)) {
                add(Kind::symlink, fs::read_symlink(folder, error).string(), folder, "");
            } else if (fs::is_directory(status)) {
                add(Kind::make_dir, "", folder, "");
                const bool writable_device = folder == "/dev" || folder == "/proc";
                add(writable_device ? Kind::bind_tree : Kind::bind_tree_read_only, folder.string(), folder, "");
            }
        }
        for (const fs::path tmp : {"/tmp", "/var/tmp"}) bind(private_dir, tmp, false, "");
        // Folders the system's folders would show (a kit kept under /usr/local): an empty tmpfs over each.
        for (const auto& folder : hidden)
            if (std::ranges::any_of(system_folders, [&](const char* system) { return inside(folder, system); }))
                if (fs::is_directory(folder)) add(Kind::tmpfs, "", folder, "an empty folder over " + folder.string());
        for (const auto& path : read_only) bind(path, path, true, path.string());
        for (const auto& path : writable) bind(path, path, false, path.string());
    }

    bool empty() const { return steps_.empty(); }

    // In the child: -1 when the view is made, else the index of the step that failed (errno says why).
    int apply() const noexcept {
        if (::unshare(CLONE_NEWNS) != 0) return 0;
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 0;
        for (std::size_t i = 0; i < steps_.size(); ++i)
            if (!run(steps_[i])) return static_cast<int>(i) + 1;
        if (::chdir(root_.c_str()) != 0 || ::syscall(SYS_pivot_root, ".", ".") != 0 || ::umount2(".", MNT_DETACH) != 0 ||
            ::chdir("/") != 0)
            return static_cast<int>(steps_.size()) + 1;
        return -1;
    }

    // What the step that apply() returned was doing, for the error message.
    std::string describe(int failed) const {
        if (failed == 0) return "making a mount namespace (unshare)";
        if (failed > static_cast<int>(steps_.size())) return "entering the new root (pivot_root)";
        const auto& step = steps_[static_cast<std::size_t>(failed - 1)];
        return "mount namespace: " + (step.what.empty() ? step.target.substr(root_.size()) : step.what);
    }

private:
    enum class Kind { tmpfs, make_dir, make_file, symlink, bind, bind_read_only, bind_tree, bind_tree_read_only };
    struct Step {
        Kind kind;
        std::string source;
        std::string target;  // inside the new root
        std::string what;    // for messages
        unsigned long keep_flags = 0;  // the source's mount flags a read-only remount must keep (nosuid, noexec)
    };

    void add(Kind kind, std::string source, const fs::path& target, std::string what) {
        // A bind keeps the flags of the mount it comes from: a noexec output folder stays noexec (the control
        // run finds out), and a remount as read-only may not drop them.
        unsigned long keep = 0;
        struct statvfs info {};
        if (!source.empty() && kind != Kind::symlink && ::statvfs(source.c_str(), &info) == 0) {
            if (info.f_flag & ST_NOSUID) keep |= MS_NOSUID;
            if (info.f_flag & ST_NODEV) keep |= MS_NODEV;
            if (info.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
        }
        steps_.push_back({kind, std::move(source), root_ + (target == "/" ? "" : target.string()), std::move(what), keep});
    }

    // Binds `source` at `target`, after making the folders above it (and the file or folder itself).
    void bind(const fs::path& source, const fs::path& target, bool read_only, const std::string& what) {
        fs::path above{"/"};
        for (const auto& part : target.parent_path().relative_path()) {
            above /= part;
            if (made_.insert(above.string()).second) add(Kind::make_dir, "", above, "");
        }
        std::error_code error;
        add(fs::is_directory(source, error) ? Kind::make_dir : Kind::make_file, "", target, "");
        add(read_only ? Kind::bind_read_only : Kind::bind, source.string(), target, what.empty() ? target.string() : what);
    }

    bool run(const Step& step) const noexcept {
        const char* target = step.target.c_str();
        switch (step.kind) {
        case Kind::tmpfs:
            return ::mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") == 0;
        case Kind::make_dir:
            return ::mkdir(target, 0755) == 0 || errno == EEXIST;
        case Kind::make_file: {
            const int fd = ::open(target, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
            return fd >= 0 && ::close(fd) == 0;
        }
        case Kind::symlink:
            return ::symlink(step.source.c_str(), target) == 0 || errno == EEXIST;
        case Kind::bind:
        case Kind::bind_read_only:
        case Kind::bind_tree:
        case Kind::bind_tree_read_only: {
            const bool tree = step.kind == Kind::bind_tree || step.kind == Kind::bind_tree_read_only;
            const bool read_only = step.kind == Kind::bind_read_only || step.kind == Kind::bind_tree_read_only;
            const unsigned long recursive = tree ? static_cast<unsigned long>(MS_REC) : 0UL;
            if (::mount(step.source.c_str(), target, nullptr, MS_BIND | recursive, nullptr) != 0) return false;
            // /dev keeps its device nodes and /proc its files as they are; everything else: no set-uid, and
            // read-only unless the run writes there.
            if (step.kind == Kind::bind_tree) return true;
            const unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID | step.keep_flags |
                                        (read_only ? static_cast<unsigned long>(MS_RDONLY) : 0UL);
            return ::mount(nullptr, target, nullptr, flags, nullptr) == 0;
        }
        }
        return false;
    }

    std::string root_{};
    std::vector<Step> steps_{};
    std::set<std::string> made_{};
};

// Everything that confines the child, in the order it must happen: a session of its own; into the
// cgroups (while still root); the rlimits (as root, so hard limits can be set); its view of the file
// system (root only); the run's folder; then the unprivileged user, checked; default signal dispositions;
// death with the grader.
struct Confine {
    std::vector<int> cgroup_procs{};  // open cgroup.procs files: writing "0" moves the writer
    std::vector<std::pair<int, rlimit>> limits{};
    const MountPlan* view = nullptr;
    int report_fd = -1;  // where the child writes which step of the view failed
    std::string directory{};
    std::optional<std::pair<uid_t, gid_t>> user{};
    pid_t grader = ::getpid();

    template <typename Launcher>
    error_code on_exec_setup(Launcher&, const fs::path&, const char* const*&) {
        // Only stdin, stdout and stderr go on past exec. Boost.Process 1.81 closes the descriptors above its
        // exec-error pipe only (its close_all skips the gaps between the ones it keeps), so a run would keep
        // whatever the grader's other threads hold open below it: another submission's report being written,
        // a program being copied, whose exec then fails with "Text file busy" for as long as the run lives.
        if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) return last_error();
        if (::setsid() == -1) return last_error();
        for (int fd : cgroup_procs)
            if (::write(fd, "0", 1) != 1) return last_error();
        for (const auto& [resource, limit] : limits)
            if (::setrlimit(resource, &limit) != 0) return last_error();
        if (view && !view->empty()) {
            if (const int failed = view->apply(); failed >= 0) {
                const int saved = errno;
                [[maybe_unused]] const auto written = ::write(report_fd, &failed, sizeof failed);
                errno = saved;  // what the launcher reports
                return {saved, boost::system::system_category()};
            }
        }
        if (::chdir(directory.c_str()) != 0) return last_error();
        if (user) {
            const auto [uid, gid] = *user;
            if (::syscall(SYS_setgroups, 0, nullptr) != 0) return last_error();
            if (::syscall(SYS_setresgid, gid, gid, gid) != 0) return last_error();
            if (::syscall(SYS_setresuid, uid, uid, uid) != 0) return last_error();
            uid_t real, effective, saved;
            if (::getresuid(&real, &effective, &saved) != 0 || real != uid || effective != uid || saved != uid ||
                uid == 0)
                return {EPERM, boost::system::system_category()};
        }
        for (int signal : {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2})
            ::signal(signal, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != grader) return last_error();
        return {};
    }
};

bool is_cgroup2(const fs::path& dir) { return fs::exists(dir / "cgroup.procs") && fs::exists(dir / "cgroup.controllers"); }

}  // namespace

// --- cgroups: a v1 pids group, a v1 memory group and a v2 group (for cgroup.kill), each if possible ---

struct Sandbox::Cgroups {
    std::string name{};               // the run's, the same in every hierarchy
    std::vector<fs::path> groups{};   // every group made for this run
    std::optional<fs::path> v2{};     // the one with cgroup.kill
    std::optional<fs::path> memory{}; // the v1 memory group
    std::vector<UniqueFd> procs{};    // their cgroup.procs, open for the child

    ~Cgroups() {
        for (const auto& group : groups) {
            // Zombies may keep a v1 group busy for a moment after the kill; they are reaped by then.
            for (int attempt = 0; attempt < 50; ++attempt) {
                if (::rmdir(group.c_str()) == 0 || errno == ENOENT) break;
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
    }

    // Makes <root>/clusterkit-grade/<name>; returns it, or std::nullopt with the reason in `why`.
    std::optional<fs::path> make(const fs::path& root, const std::string& name, std::string& why) {
        if (!fs::exists(root / "cgroup.procs")) {
            why = "not mounted at " + root.string();
            return std::nullopt;
        }
        const fs::path parent = root / "clusterkit-grade";
        if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
            why = std::strerror(errno);
            return std::nullopt;
        }
        const fs::path group = parent / name;
        if (::mkdir(group.c_str(), 0755) != 0 && errno != EEXIST) {
            why = std::strerror(errno);
            return std::nullopt;
        }
        UniqueFd fd(::open((group / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd.is_open()) {
            why = std::strerror(errno);
            ::rmdir(group.c_str());
            return std::nullopt;
        }
        groups.push_back(group);
        procs.push_back(std::move(fd));
        return group;
    }

    std::vector<pid_t> members() const {
        std::vector<pid_t> pids;
        for (const auto& group : groups) {
            std::istringstream in(read_text(group / "cgroup.procs"));
            for (pid_t pid; in >> pid;) pids.push_back(pid);
        }
        return pids;
    }

    bool holds(pid_t pid) const { return !groups.empty() && in_cgroup_named(pid, "clusterkit-grade/" + name); }

    void kill_all() const {
        if (v2) write_text(*v2 / "cgroup.kill", "1");
        for (pid_t pid : members()) kill_if(pid, [&](const ProcessEntry& now) { return holds(now.pid); });
    }

    // How many processes the kernel killed for the memory limit (v1 memory.oom_control's oom_kill).
    int oom_kills() const {
        if (!memory) return 0;
        std::istringstream in(read_text(*memory / "memory.oom_control"));
        for (std::string key; in >> key;) {
            long long value = 0;
            if (!(in >> value)) break;
            if (key == "oom_kill") return static_cast<int>(value);
        }
        return 0;
    }
};

std::vector<std::string> prepare_sandbox_users(int slots) {
    std::vector<std::string> problems;
    if (::geteuid() != 0) return problems;
    for (int slot = 1; slot <= slots; ++slot) {
        const auto name = user_name(slot);
        if (::getpwnam(name.c_str()) != nullptr) continue;
        auto useradd = bp::environment::find_executable("useradd");
        if (useradd.empty()) useradd = "/usr/sbin/useradd";
        asio::io_context context;
        try {
            bp::process adding(context, useradd,
                               {"--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell",
                                "/usr/sbin/nologin", "--user-group", name},
                               bp::process_stdio{nullptr, nullptr, nullptr});
            if (adding.wait() != 0) problems.push_back("useradd " + name + " failed");
        } catch (const std::exception& error) {
            problems.push_back("useradd " + name + ": " + error.what());
        }
    }
    return problems;
}

void become_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }

std::vector<int> claim_slots(int count) {
    const fs::path folder = ::access("/run/lock", W_OK) == 0 ? fs::path("/run/lock") : fs::temp_directory_path();
    std::vector<int> slots;
    for (int slot = 1; static_cast<int>(slots.size()) < count; ++slot) {
        if (slot > 256) throw std::runtime_error("no free grading slot: 256 are held by other graders");
        const fs::path file = folder / (user_prefix + "-" + std::to_string(slot) + ".lock");
        const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) throw std::runtime_error("cannot open " + file.string() + ": " + std::strerror(errno));
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
            slots.push_back(slot);  // the descriptor stays open, and the lock held, until the grader ends
        } else {
            ::close(fd);
        }
    }
    return slots;
}

// Whether this process may make a mount namespace (not in a container without CAP_SYS_ADMIN): a child tries.
bool can_make_mount_namespace() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(::unshare(CLONE_NEWNS) == 0 ? 0 : 1);  // system calls only: the grader has threads
    int status = 0;
    return child > 0 && ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Sandbox::Sandbox(int slot, fs::path work_dir, std::vector<fs::path> hidden)
    : slot_(slot), work_dir_(std::move(work_dir)), hidden_(std::move(hidden)), root_(::geteuid() == 0) {
    fs::create_directories(work_dir_);
    fs::permissions(work_dir_, fs::perms(0755));
    layers_ = {"wall-clock deadline", "rlimits (CPU, processes, file size, address space, open files, no core)",
               "own session and process group", "private TMPDIR, HOME and CLUSTERKIT_SHM_PREFIX",
               "own environment", "output capped"};
    if (!root_) {
        missing_.push_back("not root: the tests run as the grader's own user, RLIMIT_NPROC counts all of its "
                           "processes, and no cgroup is made; run `kit grade` as root for full isolation");
        return;
    }
    find_user();
    namespace_ = can_make_mount_namespace();
    if (namespace_)
        layers_.push_back("mount namespace: the run sees the system's folders, the test and the submission's programs only");
    else
        missing_.push_back("mount namespace: not allowed here (a container without CAP_SYS_ADMIN?): the run sees what "
                           "user " + user_name_ + " may read, so the kit's solutions must not be readable to it");
    // Probe the cgroups once, so that the report can say which are in force.
    Cgroups probe;
    std::string why;
    const std::string name = "probe-" + std::to_string(::getpid()) + "-" + std::to_string(slot_);
    if (probe.make("/sys/fs/cgroup/pids", name, why) && write_text(probe.groups.back() / "pids.max", "10"))
        layers_.push_back("cgroup v1 pids.max");
    else
        missing_.push_back("cgroup v1 pids: " + (why.empty() ? "pids.max not writable" : why));
    why.clear();
    if (probe.make("/sys/fs/cgroup/memory", name, why) &&
        write_text(probe.groups.back() / "memory.limit_in_bytes", std::to_string(1 << 30)))
        layers_.push_back("cgroup v1 memory limit");
    else
        missing_.push_back("cgroup v1 memory: " + (why.empty() ? "memory.limit_in_bytes not writable" : why));
    why.clear();
    const fs::path v2_root = is_cgroup2("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
    if (auto group = probe.make(v2_root, name, why); group && fs::exists(*group / "cgroup.kill"))
        layers_.push_back("cgroup v2 cgroup.kill");
    else
        missing_.push_back("cgroup v2 kill: " + (why.empty() ? "no cgroup.kill (kernel before 5.14)" : why));
}

Sandbox::~Sandbox() = default;

void Sandbox::find_user() {
    user_name_ = user_name(slot_);
    if (const passwd* entry = ::getpwnam(user_name_.c_str())) {
        user_ = std::pair{entry->pw_uid, entry->pw_gid};
        layers_.push_back("unprivileged user " + user_name_ + " (uid " + std::to_string(entry->pw_uid) + ")");
    } else {
        missing_.push_back("user " + user_name_ + " does not exist and could not be made: the tests run as root");
    }
}

SandboxResult Sandbox::run(const SandboxRun& request) {
    SandboxResult result;
    const auto started = Clock::now();
    const std::string run_name = "s" + std::to_string(slot_) + "-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(++run_count_);
    const std::string shm_prefix = "ckg-" + run_name;

    // The run's private folder: its TMPDIR, HOME and working directory, writable only by its user.
    const fs::path private_dir = work_dir_ / run_name;
    fs::remove_all(private_dir);
    fs::create_directories(private_dir);
    fs::permissions(private_dir, fs::perms(0700));
    if (user_ && ::chown(private_dir.c_str(), user_->first, user_->second) != 0) {
        result.start_error = "chown " + private_dir.string() + ": " + std::strerror(errno);
        return result;
    }

    Cgroups cgroups{.name = run_name};
    if (root_) {
        std::string ignored;
        if (auto group = cgroups.make("/sys/fs/cgroup/pids", run_name, ignored))
            write_text(*group / "pids.max", std::to_string(request.limits.processes));
        if (auto group = cgroups.make("/sys/fs/cgroup/memory", run_name, ignored)) {
            write_text(*group / "memory.limit_in_bytes", std::to_string(request.limits.memory));
            cgroups.memory = group;
        }
        const fs::path v2_root = is_cgroup2("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
        if (auto group = cgroups.make(v2_root, run_name, ignored); group && fs::exists(*group / "cgroup.kill"))
            cgroups.v2 = group;
    }

    auto limit = [](long long value) { return rlimit{static_cast<rlim_t>(value), static_cast<rlim_t>(value)}; };
    // Its view of the file system: a new root (an empty folder of the grader's, mounted over in the run's
    // namespace only), the program, the paths it names and its private folder.
    const fs::path new_root = work_dir_ / (run_name + ".root");
    MountPlan view{};
    if (namespace_) {
        fs::create_directories(new_root);
        fs::permissions(new_root, fs::perms(0700));
        auto read_only = request.read_only;
        if (std::ranges::none_of(system_folders, [&](const char* system) { return inside(request.program, system); }))
            read_only.push_back(request.program);
        auto writable = request.writable;
        writable.push_back(private_dir);
        view = MountPlan(new_root, private_dir, hidden_, read_only, writable);
    }
    Pipe report = Pipe::open();
    Confine confine{.limits = {{RLIMIT_CPU, limit(request.limits.cpu_seconds)},
                               {RLIMIT_NPROC, limit(request.limits.processes)},
                               {RLIMIT_FSIZE, limit(request.limits.file_size)},
                               {RLIMIT_AS, limit(request.limits.address_space)},
                               {RLIMIT_NOFILE, limit(request.limits.open_files)},
                               {RLIMIT_CORE, limit(0)}},
                    .view = &view,
                    .report_fd = report.write_end.get(),
                    .directory = request.directory.empty() ? private_dir.string() : request.directory.string(),
                    .user = user_};
    for (const auto& fd : cgroups.procs) confine.cgroup_procs.push_back(fd.get());

    std::vector<std::pair<std::string, std::string>> variables{
        {"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"LANG", "C.UTF-8"},          {"HOME", private_dir.string()},
        {"TMPDIR", private_dir.string()},         {"USER", user_ ? user_name_ : "grader"},
        {"CLUSTERKIT_SHM_PREFIX", shm_prefix}};
    variables.insert(variables.end(), request.environment.begin(), request.environment.end());

    asio::io_context context;
    asio::readable_pipe out(context), err(context);
    std::optional<bp::process> process;
    try {
        process.emplace(context, request.program, request.args, bp::process_stdio{nullptr, out, err},
                        OwnEnvironment(variables), confine);
    } catch (const std::exception& error) {
        result.start_error = error.what();
        report.write_end.reset();
        int failed = -1;
        if (::read(report.read_end.get(), &failed, sizeof failed) == sizeof failed)
            result.start_error = view.describe(failed) + ": " + result.start_error;
    }

    pid_t session = 0;
    // The run's processes: with a cgroup, its members (no process can leave it, and every process the run
    // starts is one); without, its session, or else every process of the slot's user. A session id outlives
    // its leader and may come back as a new process's pid, and the user alone is not proof where another
    // grader shares the machine's processes with the same user ids (one in a chroot): so the cgroup first.
    auto ours = [&](const ProcessEntry& entry) {
        if (!cgroups.groups.empty()) return cgroups.holds(entry.pid);
        if (session > 1 && entry.session == session) return true;
        return user_ && entry.uid == user_->first;
    };
    auto kill_everything = [&] {
        for (const auto& entry : process_table())
            if (entry.state != 'Z' && ours(entry) && kill_if(entry.pid, ours)) ++result.processes_killed;
        cgroups.kill_all();
    };

    if (process) {
        session = process->id();
        std::array<char, 16 * 1024> out_buffer{}, err_buffer{};
        bool out_open = true, err_open = true, exited = false, flooded = false;
        asio::steady_timer deadline(context, request.limits.wall_clock);
        asio::steady_timer drain(context);

        auto keep = [](std::string& text, std::size_t& dropped, std::size_t cap, const char* data, std::size_t size) {
            const std::size_t room = cap - std::min(cap, text.size());
            text.append(data, std::min(room, size));
            dropped += size - std::min(room, size);
        };
        std::function<void()> read_out = [&] {
            out.async_read_some(asio::buffer(out_buffer), [&](error_code error, std::size_t size) {
                keep(result.out, result.out_dropped, request.limits.output_cap, out_buffer.data(), size);
                // Past the cap the run has failed already: stop it now rather than read a flood to its end.
                if (result.out_dropped > 0 && !exited && !flooded) {
                    flooded = true;
                    kill_everything();
                }
                if (!error) return read_out();
                out_open = false;
                if (!err_open) drain.cancel();
            });
        };
        std::function<void()> read_err = [&] {
            err.async_read_some(asio::buffer(err_buffer), [&](error_code error, std::size_t size) {
                keep(result.err, result.err_dropped, request.limits.error_cap, err_buffer.data(), size);
                if (!error) return read_err();
                err_open = false;
                if (!out_open) drain.cancel();
            });
        };
        read_out();
        read_err();
        deadline.async_wait([&](error_code error) {
            if (error || exited) return;
            result.timed_out = true;
            kill_everything();
        });
        process->async_wait([&](error_code error, int) {
            exited = true;
            result.status = error ? WaitStatus{.code = -1} : WaitStatus::from_raw(process->native_exit_code());
            deadline.cancel();
            // The program has ended: whatever it left running is a leftover, and may hold the pipes open.
            kill_everything();
            if (!out_open && !err_open) return;
            drain.expires_after(std::chrono::seconds(2));
            drain.async_wait([&](error_code cancelled) {
                if (cancelled) return;
                error_code ignored;
                out.close(ignored);
                err.close(ignored);
            });
        });
        context.run();
    }

    // Every process of the run is dead or dying: reap the ones that came back to the grader (a subreaper),
    // and make sure that none is left.
    for (int round = 0; round < 250; ++round) {
        bool left = false;
        for (const auto& entry : process_table()) {
            // A child of the grader's own, so its pid cannot be reused before this waitpid.
            const bool came_back = entry.ppid == ::getpid() &&
                                   (user_ ? entry.uid == user_->first : (session > 1 && entry.session == session));
            if (came_back) {
                if (entry.state != 'Z') ::kill(entry.pid, SIGKILL);
                ::waitpid(entry.pid, nullptr, 0);
            } else if (ours(entry)) {
                left = true;
                if (entry.state != 'Z') kill_if(entry.pid, ours);
            }
        }
        if (!left) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a dying process's parent reaps it
    }
    result.oom_kills = cgroups.oom_kills();
    cleanup(result, shm_prefix);
    std::error_code ignored;
    fs::remove_all(private_dir, ignored);
    fs::remove(new_root, ignored);  // empty on the grader's side: the mounts were the run's namespace's
    result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return result;
}

// Removes what the run left in shared places: /dev/shm objects with its prefix or of its user, SysV IPC
// objects of its user, and /tmp and /var/tmp entries of its user.
void Sandbox::cleanup(SandboxResult& result, const std::string& shm_prefix) {
    auto owned = [&](const fs::path& path) {
        struct stat info {};
        return user_ && ::lstat(path.c_str(), &info) == 0 && info.st_uid == user_->first;
    };
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(shm_folder, error)) {
        if (entry.path().filename().string().starts_with(shm_prefix) || owned(entry.path())) {
            std::error_code ignored;
            if (fs::remove_all(entry.path(), ignored) > 0) ++result.objects_removed;
        }
    }
    if (!user_) return;
    for (const fs::path folder : {"/tmp", "/var/tmp"}) {
        for (const auto& entry : fs::directory_iterator(folder, error)) {
            std::error_code ignored;
            if (owned(entry.path()) && fs::remove_all(entry.path(), ignored) > 0) ++result.objects_removed;
        }
    }
    // /proc/sysvipc/{shm,msg,sem}: a header line, then one object per line; the id is the 2nd field and
    // the owner's uid the 8th (shm), 9th (msg) or 5th (sem).
    const std::array<std::tuple<const char*, int, int (*)(int)>, 3> tables{{
        {"/proc/sysvipc/shm", 8, [](int id) { return ::shmctl(id, IPC_RMID, nullptr); }},
        {"/proc/sysvipc/msg", 9, [](int id) { return ::msgctl(id, IPC_RMID, nullptr); }},
        {"/proc/sysvipc/sem", 5, [](int id) { return ::semctl(id, 0, IPC_RMID); }},
    }};
    for (const auto& [file, uid_field, remove] : tables) {
        std::ifstream in(file);
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::vector<long long> values;
            for (long long value; fields >> value;) values.push_back(value);
            if (static_cast<int>(values.size()) >= uid_field && values[uid_field - 1] == user_->first &&
                remove(static_cast<int>(values[1])) == 0)
                ++result.objects_removed;
        }
    }
}

}  // namespace clusterkit::kit
