// The program under test. See program.hpp.
#include "program.hpp"

#include <clusterkit/process.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/readable_pipe.hpp>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iomanip>
#include <sched.h>
#include <set>
#include <sstream>
#include <stdexcept>
#include <clusterkit/fd.hpp>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace clusterkit::testing {
namespace asio = boost::asio;
namespace bp = boost::process::v2;
using boost::system::error_code;

namespace {

// Caps what is kept of a program's output, so that a program that floods stdout cannot exhaust memory.
constexpr std::size_t max_kept_lines = 100'000;
constexpr std::size_t max_kept_stderr = 64 * 1024;

// The primaries that live Program objects own. Teardown reaps every other child of the test process:
// the orphans that the subreaper inherited.
std::set<pid_t>& owned_primaries() {
    static std::set<pid_t> pids;
    return pids;
}

error_code last_error() { return error_code(errno, boost::system::system_category()); }

// Boost.Process v2 initializers: on_exec_setup runs in the child, between fork and exec.

// The program leads a process group of its own, so that teardown can kill it and its workers in one call.
struct OwnProcessGroup {
    template <typename Launcher>
    error_code on_exec_setup(Launcher&, const bp::filesystem::path&, const char* const*&) {
        return ::setpgid(0, 0) == 0 ? error_code{} : last_error();
    }
};

// Signal dispositions set to "ignore" survive exec (a shell starting a background job ignores SIGINT), and
// Catch2 blocks nothing but may be run by something that does: give the program a clean slate.
struct DefaultSignals {
    template <typename Launcher>
    error_code on_exec_setup(Launcher&, const bp::filesystem::path&, const char* const*&) {
        for (int signal : {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2})
            ::signal(signal, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        return ::sigprocmask(SIG_SETMASK, &none, nullptr) == 0 ? error_code{} : last_error();
    }
};

// Runs the program on the given CPUs only, as `taskset -c` would.
struct CpuAffinity {
    std::vector<int> cpus;
    template <typename Launcher>
    error_code on_exec_setup(Launcher&, const bp::filesystem::path&, const char* const*&) {
        if (cpus.empty()) return {};
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int cpu : cpus) CPU_SET(cpu, &set);
        return ::sched_setaffinity(0, sizeof set, &set) == 0 ? error_code{} : last_error();
    }
};

// For `kit verify --timeline`: when CLUSTERKIT_TIMELINE_DIR is set, each program run is recorded there as
// "run-N.events" (its command line, its status, and each stdout line with the milliseconds since the start
// at which the test read it), the event log that tools/kit/timeline.hpp draws.
void record_timeline(const std::string& command, Clock::time_point start, const std::vector<Line>& lines,
                     const std::optional<WaitStatus>& status, bool ended_by_test) {
    const char* dir = std::getenv("CLUSTERKIT_TIMELINE_DIR");
    if (!dir || !*dir) return;
    static int runs = 0;
    std::ofstream out(std::filesystem::path(dir) / ("run-" + std::to_string(++runs) + ".events"));
    out << "# program: " << command << "\n# status: "
        << (status && !ended_by_test ? status->describe() : "still running when the test ended it") << '\n' << std::fixed
        << std::setprecision(3);
    for (const auto& line : lines)
        out << std::chrono::duration<double, std::milli>(line.time - start).count() << ' ' << line.text << '\n';
}

void reap_blocking(pid_t pid) {
    while (::waitpid(pid, nullptr, 0) == -1 && errno == EINTR) {
    }
}

// Kills every descendant of this test process except the primaries other Program objects still own and
// their workers (a test may run two programs at once: ending one must not kill the other's workers), then
// reaps the orphans among them, until none is left. SIGKILL cannot be caught, so each waitpid returns soon.
void kill_and_reap_orphans() {
    const pid_t self = ::getpid();
    for (int round = 0; round < 1000; ++round) {
        std::vector<pid_t> orphans;
        for (const auto& process : descendants_of(self, owned_primaries())) {
            if (process.pid <= 1) continue;
            ::kill(process.pid, SIGKILL);
            if (process.ppid == self) orphans.push_back(process.pid);
        }
        if (orphans.empty()) return;
        for (pid_t pid : orphans) reap_blocking(pid);
    }
}

}  // namespace

std::chrono::milliseconds deadline_from_environment() {
    const char* text = std::getenv("CLUSTERKIT_TEST_DEADLINE_MS");
    const int milliseconds = text ? std::atoi(text) : 0;
    return std::chrono::milliseconds(milliseconds > 0 ? milliseconds : 5000);
}

std::filesystem::path program_path(std::string_view name) {
    const char* bin_dir = std::getenv("CLUSTERKIT_BIN_DIR");
    const std::filesystem::path dir = bin_dir && *bin_dir ? bin_dir : CLUSTERKIT_DEFAULT_BIN_DIR;
    return dir / std::string(name);
}

std::filesystem::path test_child_path() { return CLUSTERKIT_TEST_CHILD; }

bool wait_until_gone(pid_t pid, std::chrono::milliseconds deadline) {
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) return errno == ESRCH;  // no such process: already gone
    UniqueFd owner(pidfd);
    pollfd ready{.fd = pidfd, .events = POLLIN, .revents = 0};
    const auto until = Clock::now() + deadline;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
        const int result = ::poll(&ready, 1, static_cast<int>(std::max<long long>(0, left.count())));
        if (result > 0) return true;  // a pidfd is readable once its process has ended (zombie or reaped)
        if (result == 0) return false;
        if (errno != EINTR) return false;
    }
}

struct Program::Impl {
    asio::io_context context;
    asio::readable_pipe out{context};
    asio::readable_pipe err{context};
    std::optional<bp::process> process;
    pid_t pid = 0;

    std::array<char, 4096> out_buffer{};
    std::array<char, 4096> err_buffer{};
    std::string partial_line;
    std::vector<Line> lines;
    std::size_t unread = 0;  // index of the first line no next_line() has returned
    std::string stderr_text;
    bool out_closed = false;
    bool err_closed = false;
    std::optional<WaitStatus> status;
    bool torn_down = false;
    std::string command;                    // for the timeline recording
    Clock::time_point start = Clock::now();

    void add_line(std::string text) {
        if (lines.size() < max_kept_lines) lines.push_back(Line{std::move(text), Clock::now()});
    }

    void read_stdout() {
        out.async_read_some(asio::buffer(out_buffer), [this](error_code error, std::size_t size) {
            partial_line.append(out_buffer.data(), size);
            for (auto newline = partial_line.find('\n'); newline != std::string::npos;
                 newline = partial_line.find('\n')) {
                add_line(partial_line.substr(0, newline));
                partial_line.erase(0, newline + 1);
            }
            if (!error) return read_stdout();
            if (!partial_line.empty()) add_line(std::exchange(partial_line, {}));
            out_closed = true;
        });
    }

    void read_stderr() {
        err.async_read_some(asio::buffer(err_buffer), [this](error_code error, std::size_t size) {
            const std::size_t room = max_kept_stderr - std::min(max_kept_stderr, stderr_text.size());
            stderr_text.append(err_buffer.data(), std::min(size, room));
            if (!error) return read_stderr();
            err_closed = true;
        });
    }

    void watch_exit() {
        process->async_wait([this](error_code error, int) {
            // native_exit_code() is the raw waitpid status, which tells an exit code from a signal.
            status = error ? WaitStatus{.code = -1} : WaitStatus::from_raw(process->native_exit_code());
            owned_primaries().erase(pid);
        });
    }

    // Runs the event loop until `done()` or the deadline. Returns done().
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
        const auto deadline = Clock::now() + timeout;
        while (!done()) {
            if (context.stopped()) context.restart();
            if (context.run_one_until(deadline) == 0) {
                if (Clock::now() >= deadline) return done();
                if (context.stopped()) return done();  // nothing left that could change the answer
            }
        }
        return true;
    }
};

Program::Program(std::string_view name, Launch launch) : impl_(std::make_unique<Impl>()) {
    const auto path = program_path(name);
    if (::access(path.c_str(), X_OK) != 0)
        throw std::runtime_error("the program under test is missing or not executable: " + path.string());
    auto args = launch.args;
    auto executable = path;
    if (!launch.faults.empty()) {  // the test child runs the program under these rules
        args = launch.faults;
        args.push_back("run");
        args.push_back(path.string());
        args.insert(args.end(), launch.args.begin(), launch.args.end());
        executable = test_child_path();
    }
    impl_->process.emplace(impl_->context, executable, args, bp::process_stdio{nullptr, impl_->out, impl_->err},
                           EnvironmentWith(launch.environment), OwnProcessGroup{}, DefaultSignals{},
                           CpuAffinity{launch.cpus});
    impl_->pid = impl_->process->id();
    impl_->command = std::string(name);
    for (const auto& arg : launch.args) impl_->command += " " + arg;
    owned_primaries().insert(impl_->pid);
    impl_->read_stdout();
    impl_->read_stderr();
    impl_->watch_exit();
}

Program::~Program() { teardown(); }

pid_t Program::pid() const { return impl_->pid; }

std::optional<std::string> Program::next_line(std::chrono::milliseconds deadline) {
    auto& impl = *impl_;
    impl.run_until([&] { return impl.unread < impl.lines.size() || impl.out_closed; }, deadline);
    if (impl.unread < impl.lines.size()) return impl.lines[impl.unread++].text;
    return std::nullopt;
}

std::optional<Event> Program::wait_for_event(std::string_view name, std::chrono::milliseconds deadline) {
    const auto until = Clock::now() + deadline;
    while (Clock::now() < until) {
        const auto line = next_line(std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()));
        if (!line) return std::nullopt;
        if (auto event = Event::parse(*line); event && event->name == name) return event;
    }
    return std::nullopt;
}

std::optional<WaitStatus> Program::wait_exit(std::chrono::milliseconds deadline) {
    impl_->run_until([&] { return impl_->status.has_value(); }, deadline);
    return impl_->status;
}

bool Program::has_exited() const { return impl_->status.has_value(); }

bool Program::read_to_end(std::chrono::milliseconds deadline) {
    return impl_->run_until([&] { return impl_->out_closed && impl_->err_closed; }, deadline);
}

void Program::send_signal(int signal) {
    if (!impl_->status && impl_->pid > 0) ::kill(impl_->pid, signal);
}

std::vector<ProcessInfo> Program::left_behind() const { return descendants_of(::getpid(), owned_primaries()); }

const std::vector<Line>& Program::stdout_lines() const { return impl_->lines; }

std::vector<Event> Program::events_named(std::string_view name) const {
    std::vector<Event> found;
    for (const auto& line : impl_->lines)
        if (auto event = Event::parse(line.text); event && event->name == name) found.push_back(std::move(*event));
    return found;
}

const std::string& Program::stderr_text() const { return impl_->stderr_text; }

std::string Program::transcript() const {
    std::ostringstream text;
    text << "stdout of " << impl_->pid << ":\n";
    for (const auto& line : impl_->lines) text << "  " << line.text << '\n';
    text << "stderr:\n";
    std::istringstream errors(impl_->stderr_text);
    for (std::string line; std::getline(errors, line);) text << "  " << line << '\n';
    if (impl_->status) text << "status: " << impl_->status->describe() << '\n';
    return text.str();
}

void Program::teardown() noexcept {
    auto& impl = *impl_;
    if (impl.torn_down) return;
    impl.torn_down = true;
    const bool ended_by_test = !impl.status;
    try {
        if (!impl.status && impl.pid > 1) {  // never kill(0) or kill(-1): that is everyone
            ::kill(-impl.pid, SIGKILL);  // the whole group: the program and the workers it started
            ::kill(impl.pid, SIGKILL);   // in case it left its group
            impl.run_until([&] { return impl.status.has_value(); }, default_deadline);
        }
        kill_and_reap_orphans();
        // Every writer is gone now, so the pipes reach end-of-file: keep what was still in them.
        impl.run_until([&] { return impl.out_closed && impl.err_closed; }, default_deadline);
        record_timeline(impl.command, impl.start, impl.lines, impl.status, ended_by_test);
    } catch (...) {
        // teardown runs in destructors; a failure here must not terminate the test run
    }
    owned_primaries().erase(impl.pid);
    impl.out.close();
    impl.err.close();
    if (impl.process) impl.process->detach();  // reaped above: never let its destructor kill a reused pid
}

std::vector<Event> Run::events() const {
    std::vector<Event> found;
    for (const auto& line : stdout_lines)
        if (auto event = Event::parse(line)) found.push_back(std::move(*event));
    return found;
}

std::vector<Event> Run::events_named(std::string_view name) const {
    auto found = events();
    std::erase_if(found, [&](const Event& event) { return event.name != name; });
    return found;
}

long Run::index_of(std::string_view name, long long id) const {
    for (std::size_t i = 0; i < stdout_lines.size(); ++i) {
        const auto event = Event::parse(stdout_lines[i]);
        if (event && event->name == name && event->has("id") && event->number("id") == id) return static_cast<long>(i);
    }
    return -1;
}

std::vector<std::string> Run::stderr_lines() const {
    std::vector<std::string> lines;
    std::istringstream errors(stderr_text);
    for (std::string line; std::getline(errors, line);) lines.push_back(line);
    return lines;
}

bool Run::status_is_code(int code) const { return status && !status->killed_by_signal && status->code == code; }

std::string Run::transcript() const {
    std::ostringstream text;
    text << "stdout of " << pid << ":\n";
    for (const auto& line : stdout_lines) text << "  " << line << '\n';
    text << "stderr:\n";
    for (const auto& line : stderr_lines()) text << "  " << line << '\n';
    text << "status: " << (status ? status->describe() : "still running at the deadline, killed") << '\n';
    if (!left_behind.empty()) text << "left behind: " << describe(left_behind) << '\n';
    return text.str();
}

Run run_to_end(std::string_view name, Launch launch, std::chrono::milliseconds deadline) {
    Program program(name, std::move(launch));
    Run run;
    run.pid = program.pid();
    run.status = program.wait_exit(deadline);
    // The program has ended: any process of it still here (as our child, thanks to the subreaper, alive
    // or zombie) is one it left behind.
    if (run.status) run.left_behind = program.left_behind();
    program.teardown();
    for (const auto& line : program.stdout_lines()) {
        run.stdout_lines.push_back(line.text);
        run.stdout_times.push_back(line.time);
    }
    run.stderr_text = program.stderr_text();
    return run;
}

}  // namespace clusterkit::testing
