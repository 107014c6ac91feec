// The test child's fault injection. See child_faults.hpp.
#include "child_faults.hpp"

#include <clusterkit/errors.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace clusterkit::testing::faults {
namespace {

constexpr std::string_view program_name = "clusterkit-test-child";

// A classic BPF program for seccomp(2): each rule looks at the system call number (and maybe the first
// argument) and returns what the kernel is to do; every other call is allowed.
class Filter {
public:
    Filter() {
#if defined(__x86_64__) || defined(__aarch64__)
        // A call made through another ABI (i386 on x86_64) has other numbers: allow it untouched.
        code_.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
        code_.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native_arch, 1, 0));
        code_.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
#endif
    }

    void on(long number, std::uint32_t action) {
        load_number();
        code_.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(number), 0, 1));
        code_.push_back(BPF_STMT(BPF_RET | BPF_K, action));
    }

    // For call `number`: `when_set` if argument `index` (from 0) has any bit of `mask`, else `when_clear`.
    void on_flags(long number, int index, std::uint32_t mask, std::uint32_t when_set, std::uint32_t when_clear) {
        on_argument(number, index, BPF_JSET, mask, when_set, when_clear);
    }

    // For call `number`: `when_equal` if argument `index` (from 0) is `value`, else `otherwise`.
    void on_argument_equal(long number, int index, std::uint32_t value, std::uint32_t when_equal,
                           std::uint32_t otherwise) {
        on_argument(number, index, BPF_JEQ, value, when_equal, otherwise);
    }

    // The finished program, every other call allowed. Call once.
    sock_fprog program() {
        code_.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
        return sock_fprog{static_cast<unsigned short>(code_.size()), code_.data()};
    }

private:
#if defined(__x86_64__)
    static constexpr std::uint32_t native_arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    static constexpr std::uint32_t native_arch = AUDIT_ARCH_AARCH64;
#endif

    void load_number() { code_.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr))); }

    void on_argument(long number, int index, std::uint16_t test, std::uint32_t operand, std::uint32_t when_true,
                     std::uint32_t when_false) {
        load_number();
        code_.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(number), 0, 4));
        // The low 32 bits of the argument (little-endian, as on x86_64 and aarch64).
        const auto offset = offsetof(seccomp_data, args) + static_cast<std::size_t>(index) * sizeof(std::uint64_t);
        code_.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(offset)));
        code_.push_back(BPF_JUMP(BPF_JMP | test | BPF_K, operand, 0, 1));
        code_.push_back(BPF_STMT(BPF_RET | BPF_K, when_true));
        code_.push_back(BPF_STMT(BPF_RET | BPF_K, when_false));
    }

    std::vector<sock_filter> code_;
};

constexpr std::uint32_t notify = SECCOMP_RET_USER_NOTIF;
constexpr std::uint32_t allow = SECCOMP_RET_ALLOW;

Filter filter_for(const Rules& rules) {
    Filter filter;
    if (rules.forks_allowed) {
        // clone3 keeps its flags in memory a filter cannot read: refuse it, and glibc falls back to clone.
        filter.on(SYS_clone3, SECCOMP_RET_ERRNO | ENOSYS);
        filter.on_flags(SYS_clone, 0, CLONE_THREAD, allow, notify);  // a new thread is not a new process
#ifdef SYS_fork
        filter.on(SYS_fork, notify);
        filter.on(SYS_vfork, notify);
#endif
    }
    if (rules.kill_at_write != 0) {
        filter.on(SYS_write, notify);
        filter.on(SYS_writev, notify);
    }
    if (rules.fail_sched_getaffinity) filter.on(SYS_sched_getaffinity, SECCOMP_RET_ERRNO | EPERM);
    if (rules.interrupt_first_wait && rules.hold_exits == 0) {
        filter.on_flags(SYS_wait4, 2, WNOHANG, allow, notify);
        filter.on_flags(SYS_waitid, 3, WNOHANG, allow, notify);
    }
    if (rules.hold_exits > 0) {
        filter.on(SYS_exit_group, notify);
        // Only waits that block: a WNOHANG wait only looks (Boost.Process makes one as it starts a wait).
        filter.on_flags(SYS_wait4, 2, WNOHANG, allow, notify);
        filter.on_flags(SYS_waitid, 3, WNOHANG, allow, notify);
    }
    if (rules.hold_death_signal) filter.on_argument_equal(SYS_prctl, 0, PR_SET_PDEATHSIG, notify, allow);
    return filter;
}

void print_line(const std::string& text) {
    const std::string line = text + '\n';
    [[maybe_unused]] const auto written = ::write(STDOUT_FILENO, line.data(), line.size());
}

void send_descriptor(int socket, int fd) {
    char byte = 0;
    iovec data{.iov_base = &byte, .iov_len = 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
    if (::sendmsg(socket, &message, 0) != 1) clusterkit::child_fail(program_name, "sendmsg");
}

// The descriptor the child sent, or -1 if it ended without sending one (it said why on stderr).
int receive_descriptor(int socket) {
    char byte = 0;
    iovec data{.iov_base = &byte, .iov_len = 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    ssize_t received = 0;
    while ((received = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC)) == -1 && errno == EINTR) {
    }
    const cmsghdr* header = received == 1 ? CMSG_FIRSTHDR(&message) : nullptr;
    if (header == nullptr || header->cmsg_type != SCM_RIGHTS) return -1;
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
    return fd;
}

// In the forked child: install the filter, hand its listener to the parent, become the program.
[[noreturn]] void become_program(Filter& filter, int socket, std::vector<char*>& argv) {
    auto program = filter.program();
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) clusterkit::child_fail(program_name, "prctl(PR_SET_NO_NEW_PRIVS)");
    const long listener = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &program);
    if (listener < 0) clusterkit::child_fail(program_name, "seccomp");
    send_descriptor(socket, static_cast<int>(listener));
    ::close(static_cast<int>(listener));
    ::close(socket);
    ::execv(argv[0], argv.data());
    clusterkit::child_fail(program_name, argv[0]);
}

// Ends this process as `raw_status` says the program ended.
[[noreturn]] void end_like(int raw_status) {
    if (WIFEXITED(raw_status)) ::_exit(WEXITSTATUS(raw_status));
    const int signal = WTERMSIG(raw_status);
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    std::signal(signal, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    ::kill(::getpid(), signal);
    ::_exit(128 + signal);
}

// Answers the program's stopped system calls by the rules, until the program has ended.
class Referee {
public:
    Referee(const Rules& rules, int listener, pid_t program)
        : rules_(rules), listener_(listener), program_(program), forks_left_(rules.forks_allowed.value_or(0)) {}

    [[noreturn]] void run() {
        const int program_ended = static_cast<int>(::syscall(SYS_pidfd_open, program_, 0));
        if (program_ended < 0) clusterkit::throw_system_error("pidfd_open");
        for (;;) {
            pollfd ready[2] = {{.fd = listener_, .events = POLLIN, .revents = 0},
                               {.fd = program_ended, .events = POLLIN, .revents = 0}};
            const int woke = ::poll(ready, 2, awaiting_reap() ? reap_look_interval_ms : -1);
            if (woke == -1) {
                if (errno == EINTR) continue;
                clusterkit::throw_system_error("poll");
            }
            if (ready[0].revents & POLLIN) answer_next();
            else if (ready[1].revents & POLLIN) break;
            else if (woke == 0) look_for_reap();
        }
        int status = 0;
        while (::waitpid(program_, &status, 0) == -1 && errno == EINTR) {
        }
        // The program has ended: whatever is still held goes on (the listener closes when this process ends).
        for (const auto& held : held_exits_) go_on(held.id);
        for (const auto& held : held_death_signals_) go_on(held.id);
        end_like(status);
    }

private:
    struct Held {
        std::uint64_t id;
        pid_t pid;
    };

    // Whether thread `caller` is one of the program's (its main thread's id is the program's pid).
    bool in_program(pid_t caller) const {
        if (caller == program_) return true;
        std::ifstream status("/proc/" + std::to_string(caller) + "/status");
        for (std::string line; std::getline(status, line);)
            if (line.starts_with("Tgid:")) return std::stol(line.substr(5)) == program_;
        return false;
    }

    void answer_next() {
        seccomp_notif request{};
        if (::ioctl(listener_, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) return;  // its caller died meanwhile
        const pid_t caller = static_cast<pid_t>(request.pid);
        const long call = request.data.nr;
        if (call == SYS_clone
#ifdef SYS_fork
            || call == SYS_fork || call == SYS_vfork
#endif
        ) {
            // The program's own starts only: a worker that forks in turn (a shell that runs a command) does
            // not race the program for its budget.
            if (!in_program(caller)) return go_on(request.id);
            if (forks_left_ > 0) {
                --forks_left_;
                return go_on(request.id);
            }
            return fail(request.id, EAGAIN);
        }
        if (call == SYS_write || call == SYS_writev) {
            if (caller == program_) return go_on(request.id);
            ::kill(caller, rules_.kill_at_write);  // no answer: the call never returns
            return;
        }
        if (call == SYS_exit_group) {
            if (caller == program_ || exits_arrived_ >= rules_.hold_exits) return go_on(request.id);
            ++exits_arrived_;
            held_exits_.push_back({request.id, caller});
            return release_exits();
        }
        if (call == SYS_wait4 || call == SYS_waitid) {
            if (caller == program_ && rules_.interrupt_first_wait && !interrupted_) {
                interrupted_ = true;
                return fail(request.id, EINTR);
            }
            if (caller == program_) {
                ++waits_;
                if (last_released_ != 0 && reaps(request.data, last_released_)) last_released_reaped_ = true;
            }
            go_on(request.id);
            return release_exits();
        }
        if (call == SYS_prctl && caller != program_) {
            print_line("held pid=" + std::to_string(caller));
            held_death_signals_.push_back({request.id, caller});
            return;
        }
        go_on(request.id);
    }

    // In turn, the next exit waits until the program has reaped the one released before. A wait the filter
    // lets through unseen (WNOHANG) or that names the child another way (a pidfd) may be the one that reaps
    // it, and the program may then make no other wait until the next worker ends: so the referee also looks,
    // every few milliseconds, whether that worker is gone.
    static constexpr int reap_look_interval_ms = 10;

    bool awaiting_reap() const {
        return rules_.hold_exits_in_turn && last_released_ != 0 && !last_released_reaped_ && !held_exits_.empty();
    }

    void look_for_reap() {
        if (!awaiting_reap() || state_of(last_released_) != 0) return;
        last_released_reaped_ = true;
        release_exits();
    }

    // Once every held exit has arrived: one released per wait of the program (or, in turn, the first at once
    // and each next one once the program reaps the one before), the highest pid first.
    void release_exits() {
        if (exits_arrived_ < rules_.hold_exits) return;
        if (rules_.hold_exits_in_turn) {
            if (released_ == 0 || last_released_reaped_) release_one();
            return;
        }
        while (released_ < waits_ && !held_exits_.empty()) release_one();
    }

    void release_one() {
        if (held_exits_.empty()) return;
        const auto last = std::ranges::max_element(held_exits_, {}, &Held::pid);
        print_line("release pid=" + std::to_string(last->pid));
        go_on(last->id);
        last_released_ = last->pid;
        last_released_reaped_ = false;
        held_exits_.erase(last);
        ++released_;
    }

    // Whether a wait call of the program reaps `pid`, or an earlier one did: the call names it or waits for any
    // child (or a group), and it blocks until a child ends or `pid` is a zombie already; or `pid` is gone.
    // Releasing the next worker at any other wait could let a correct program reap that one first: a wait for
    // worker 1 while worker 3 is still dying. (The state is read, not waited for: the program may be woken,
    // through a pidfd, a moment before the kernel marks its child a zombie.)
    static bool reaps(const seccomp_data& call, pid_t pid) {
        const char state = state_of(pid);
        if (state == 0) return true;
        bool names_it = false;
        unsigned long long options = 0;
        if (call.nr == SYS_wait4) {
            const auto which = static_cast<pid_t>(call.args[0]);
            names_it = which == pid || which <= 0;  // <= 0: any child, or a process group
            options = call.args[2];
        } else {
            names_it = call.args[0] == P_ALL || call.args[0] == P_PGID ||
                       (call.args[0] == P_PID && static_cast<pid_t>(call.args[1]) == pid);
            options = call.args[3];
        }
        return names_it && ((options & WNOHANG) == 0 || state == 'Z');
    }

    // The state letter of /proc/PID/stat ('R', 'S', 'Z', ...), or 0 when the process is gone (reaped).
    static char state_of(pid_t pid) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string text;
        if (!std::getline(stat, text)) return 0;
        const auto name_end = text.rfind(')');  // the state follows the command's name, which may hold spaces
        return name_end == std::string::npos || name_end + 2 >= text.size() ? 0 : text[name_end + 2];
    }

    void go_on(std::uint64_t id) { answer(id, SECCOMP_USER_NOTIF_FLAG_CONTINUE, 0); }
    void fail(std::uint64_t id, int error) { answer(id, 0, -error); }

    void answer(std::uint64_t id, std::uint32_t flags, int error) {
        seccomp_notif_resp response{};
        response.id = id;
        response.flags = flags;
        response.error = error;
        ::ioctl(listener_, SECCOMP_IOCTL_NOTIF_SEND, &response);  // ENOENT: the caller died meanwhile
    }

    const Rules& rules_;
    int listener_;
    pid_t program_;
    int forks_left_;
    int exits_arrived_ = 0;
    int waits_ = 0;
    int released_ = 0;
    pid_t last_released_ = 0;
    bool last_released_reaped_ = false;
    bool interrupted_ = false;
    std::vector<Held> held_exits_;
    std::vector<Held> held_death_signals_;
};

}  // namespace

void run_under(const Rules& rules, const std::vector<std::string>& command) {
    if (command.empty()) throw clusterkit::UsageError("run wants a program");
    auto filter = filter_for(rules);
    std::vector<std::string> arguments = command;
    std::vector<char*> argv;
    for (auto& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);

    int sockets[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) clusterkit::throw_system_error("socketpair");
    const pid_t program = ::fork();
    if (program == -1) clusterkit::throw_system_error("fork");
    if (program == 0) {
        ::close(sockets[0]);
        become_program(filter, sockets[1], argv);
    }
    ::close(sockets[1]);
    const int listener = receive_descriptor(sockets[0]);
    ::close(sockets[0]);
    if (listener < 0) {  // the child could not set up the filter and said why: end as it ended
        int status = 0;
        while (::waitpid(program, &status, 0) == -1 && errno == EINTR) {
        }
        end_like(status);
    }
    Referee(rules, listener, program).run();
}

}  // namespace clusterkit::testing::faults
