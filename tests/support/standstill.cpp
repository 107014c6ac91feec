// Whether the programs under test have come to a standstill. See standstill.hpp.
#include "standstill.hpp"

#include "processes.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <ios>
#include <iterator>
#include <optional>
#include <sstream>
#include <sys/syscall.h>
#include <unistd.h>

namespace clusterkit::testing {
namespace fs = std::filesystem;

namespace {

// The text of a /proc file, or nullopt when its process or thread is gone: before the open, or during the read
// (the read then fails, and libstdc++'s stream buffer throws, which an istreambuf_iterator lets through).
std::optional<std::string> read_text(const fs::path& file) {
    std::ifstream in(file);
    if (!in) return std::nullopt;
    try {
        return std::string(std::istreambuf_iterator<char>(in), {});
    } catch (const std::ios_base::failure&) {
        return std::nullopt;
    }
}

// The system calls that can wait forever, by the argument that would limit the wait (-1: none can).
struct Wait {
    long number;
    const char* name;
    int limit_arg;      // which argument holds the timeout, or -1
    bool limit_is_int;  // an int timeout (-1: forever), else a pointer (0: forever)
};
constexpr auto forever_waits = std::to_array<Wait>({
    {SYS_read, "read", -1, false},
    {SYS_readv, "readv", -1, false},
    {SYS_recvfrom, "recvfrom", -1, false},
    {SYS_recvmsg, "recvmsg", -1, false},
    {SYS_accept4, "accept4", -1, false},
    {SYS_wait4, "wait4", -1, false},
    {SYS_waitid, "waitid", -1, false},
    {SYS_rt_sigsuspend, "sigsuspend", -1, false},
    {SYS_epoll_pwait, "epoll_wait", 3, true},
    {SYS_ppoll, "poll", 2, false},
    {SYS_pselect6, "select", 4, false},
    {SYS_futex, "futex", 3, false},
#ifdef SYS_accept
    {SYS_accept, "accept", -1, false},
#endif
#ifdef SYS_pause
    {SYS_pause, "pause", -1, false},
#endif
#ifdef SYS_epoll_wait
    {SYS_epoll_wait, "epoll_wait", 3, true},
#endif
#ifdef SYS_poll
    {SYS_poll, "poll", 2, true},
#endif
#ifdef SYS_select
    {SYS_select, "select", 4, false},
#endif
});

// The name of the call a sleeping thread waits in without a time limit, from /proc/<pid>/task/<tid>/syscall
// ("number arg0 ... arg5 sp pc"); std::nullopt if it may wake by itself, or if that cannot be read.
std::optional<std::string> waiting_forever_in(const fs::path& task) {
    const auto text = read_text(task / "syscall");
    if (!text) return std::nullopt;
    std::istringstream in(*text);
    long number = 0;
    std::array<unsigned long, 6> args{};
    if (!(in >> number)) return std::nullopt;  // "running"
    for (auto& arg : args) in >> std::hex >> arg;
    if (!in) return std::nullopt;
    const auto* wait = std::ranges::find_if(forever_waits, [&](const Wait& known) { return known.number == number; });
    if (wait == forever_waits.end()) return std::nullopt;
    if (wait->limit_arg >= 0) {
        const auto limit = args[static_cast<std::size_t>(wait->limit_arg)];
        const bool forever = wait->limit_is_int ? static_cast<int>(limit) < 0 : limit == 0;
        if (!forever) return std::nullopt;
    }
    return wait->name;
}

long long context_switches(const fs::path& task) {
    long long total = 0;
    std::ifstream in(task / "status");
    for (std::string line; std::getline(in, line);)
        if (line.find("ctxt_switches:") != std::string::npos) total += std::atoll(line.substr(line.find(':') + 1).c_str());
    return total;
}

// When a timerfd fires, from its fdinfo ("it_value: (S, NS)", the time left; (0, 0): not set): std::nullopt
// if it is not set, time_point::min() if that cannot be read.
std::optional<std::chrono::steady_clock::time_point> timerfd_due(const std::string& info) {
    const auto at = info.find("it_value: (");
    if (at == std::string::npos) return std::chrono::steady_clock::time_point::min();
    std::istringstream in(info.substr(at + 11));
    long long seconds = 0;
    long long nanoseconds = 0;
    char comma = 0;
    if (!(in >> seconds >> comma >> nanoseconds) || comma != ',') return std::chrono::steady_clock::time_point::min();
    if (seconds == 0 && nanoseconds == 0) return std::nullopt;
    return std::chrono::steady_clock::now() + std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanoseconds);
}

// True if the process has a timer that will fire before `until`: a timerfd due by then, or a POSIX timer
// (whose time left /proc does not show).
bool has_timer_due_by(pid_t pid, std::chrono::steady_clock::time_point until) {
    const fs::path process = "/proc/" + std::to_string(pid);
    if (const auto timers = read_text(process / "timers"); timers && !timers->empty()) return true;
    std::error_code error;
    for (const auto& fd : fs::directory_iterator(process / "fd", error)) {
        std::error_code ignored;
        if (fs::read_symlink(fd.path(), ignored) != "anon_inode:[timerfd]") continue;
        const auto info = read_text(process / "fdinfo" / fd.path().filename());
        if (!info) return true;
        if (const auto due = timerfd_due(*info); due && *due <= until) return true;
    }
    return static_cast<bool>(error);  // cannot look: it may have one
}

}  // namespace

bool Standstill::holds() {
    const auto now = std::chrono::steady_clock::now();
    std::vector<pid_t> processes{::getpid()};
    for (const auto& process : descendants_of(::getpid()))
        if (!process.is_zombie()) processes.push_back(process.pid);

    std::map<pid_t, long long> switches;
    std::map<std::string, int> calls;  // what the threads wait in, for the description
    const pid_t caller = static_cast<pid_t>(::syscall(SYS_gettid));
    auto moving = [&](std::string why) {
        still_ = false;
        description_ = std::move(why);
        return false;
    };
    for (const pid_t pid : processes) {
        if (pid != ::getpid() && has_timer_due_by(pid, until_))
            return moving(std::to_string(pid) + " has a timer set (due before the wait gives up)");
        std::error_code error;
        for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", error)) {
            const pid_t tid = std::atoi(task.path().filename().c_str());
            if (tid == caller) continue;  // the test's thread that waits
            const auto stat = read_text(task.path() / "stat");
            if (!stat) continue;  // ended while we looked
            const char state = stat->size() > stat->rfind(')') + 2 ? (*stat)[stat->rfind(')') + 2] : '?';
            if (state == 'Z' || state == 'X') continue;
            const auto call = state == 'S' ? waiting_forever_in(task.path()) : std::nullopt;
            if (!call) return moving(std::to_string(tid) + " may still move (state " + state + ")");
            ++calls[*call];
            switches[tid] = context_switches(task.path());
        }
        if (error) return moving("cannot read the threads of " + std::to_string(pid));
    }
    if (!still_ || switches != switches_) {  // first still look, or something ran since the last one
        still_ = true;
        still_since_ = now;
        switches_ = std::move(switches);
        return false;
    }
    std::string waits;
    for (const auto& [call, count] : calls) waits += (waits.empty() ? "" : ", ") + call + (count > 1 ? " x" + std::to_string(count) : "");
    description_ = "the " + std::to_string(processes.size() - 1) + " process(es) under test all wait with no time limit (" + waits +
                   ") and have no timer due before the wait gives up";
    return now - still_since_ >= settle_;
}

}  // namespace clusterkit::testing
