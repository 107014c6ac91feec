// The program under test. See program.hpp.
#include "program.hpp"

#include "record.hpp"
#include "standstill.hpp"

#include <clusterkit/process.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/readable_pipe.hpp>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdlib>
#include <functional>
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

// While a wait has nothing to do, it looks this often whether the programs under test stand still.
constexpr auto standstill_look_interval = std::chrono::milliseconds(50);

// Caps what is kept of a program's output, so that a program that floods stdout cannot exhaust memory.
constexpr std::size_t max_kept_lines = 100'000;
constexpr std::size_t max_kept_stderr = 64 * 1024;
constexpr std::size_t max_recorded_lines = 2000;  // of a program run, in the test's record

// The primaries that live Program objects own. Teardown reaps every other child of the test process:
// the orphans that the subreaper inherited.
std::set<pid_t>& owned_primaries() {
    static std::set<pid_t> pids;
    return pids;
}

error_code last_error() { return error_code(errno, boost::system::system_category()); }

// Boost.Process v2 initializers: on_exec_setup runs in the child, between fork and exec.

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

std::vector<std::string> texts_of(const std::vector<Line>& lines) {
    std::vector<std::string> texts;
    for (const auto& line : lines) texts.push_back(line.text);
    return texts;
}

// The event lines among `lines` named `name`.
std::vector<Event> events_named_in(const std::vector<std::string>& lines, std::string_view name) {
    std::vector<Event> found;
    for (const auto& line : lines)
        if (auto event = Event::parse(line); event && event->name == name) found.push_back(std::move(*event));
    return found;
}

// A program's output for a failure message (INFO); the test's record names the run instead of repeating it.
std::string transcript_of(int number, pid_t pid, const std::vector<std::string>& lines, const std::string& errors,
                          const std::string& ending) {
    std::ostringstream text;
    text << "stdout of " << pid << ":\n";
    for (const auto& line : lines) text << "  " << line << '\n';
    text << "stderr:\n";
    std::istringstream error_lines(errors);
    for (std::string line; std::getline(error_lines, line);) text << "  " << line << '\n';
    text << ending;
    record::note_transcript(number, text.str());
    return text.str();
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
    Standstill standstill(until);  // a process at a standstill never ends by itself
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
        const auto slice = std::clamp<long long>(left.count(), 0, standstill_look_interval.count());
        const int result = ::poll(&ready, 1, static_cast<int>(slice));
        if (result > 0) return true;  // a pidfd is readable once its process has ended (zombie or reaped)
        if (result < 0 && errno != EINTR) return false;
        if (result == 0 && (left.count() <= slice || standstill.holds())) return false;
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
    std::string command;                    // for the test's record
    Clock::time_point start = Clock::now();
    int number = record::next_run_number();  // this run's number in the test's record
    std::string left_behind;                 // what left_behind() found, for the record
    std::string stopped_by;                 // why the last run_until() stopped short of done()
    std::string gave_up;                    // the last wait that ended without what it waited for, and why

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

    // The run, for the test's record (record.hpp): what `kit verify` shows and draws.
    void record_run(bool ended_by_test) const {
        record::ProgramRun run{.number = number, .command = command, .pid = pid};
        for (const auto& line : lines) {
            if (run.lines.size() == max_recorded_lines) break;
            run.lines.push_back({record::milliseconds(start, line.time), line.text});
        }
        run.lines_dropped = lines.size() - run.lines.size();
        run.stderr_text = stderr_text;
        run.ended = status && !ended_by_test ? status->describe() : "still running when the test ended it";
        run.left_behind = left_behind;
        run.gave_up = gave_up;
        record::add_run(run, start);
    }

    void watch_exit() {
        process->async_wait([this](error_code error, int) {
            // native_exit_code() is the raw waitpid status, which tells an exit code from a signal.
            status = error ? WaitStatus{.code = -1} : WaitStatus::from_raw(process->native_exit_code());
            owned_primaries().erase(pid);
        });
    }

    // Runs the event loop until `done()`, or the deadline, or until nothing can change the answer any more:
    // the event loop has no work left, or the programs under test stand still (standstill.hpp). Returns
    // done(); when false, stopped_by says why it stopped.
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
        const auto deadline = Clock::now() + timeout;
        Standstill standstill(deadline);
        stopped_by.clear();
        while (!done() && stopped_by.empty()) {
            if (context.stopped()) context.restart();
            if (context.run_one_until(std::min(deadline, Clock::now() + standstill_look_interval)) > 0) continue;
            if (Clock::now() >= deadline)
                stopped_by = timeout == default_deadline
                                 ? "the deadline (" + std::to_string(timeout.count()) + " ms, CLUSTERKIT_TEST_DEADLINE_MS)"
                                 : "the test's deadline for it";
            else if (context.stopped())
                stopped_by = "the program has ended and its output is closed";
            else if (standstill.holds())
                stopped_by = "nothing can come any more: " + standstill.description();
        }
        return done();
    }

    // The next line of stdout; std::nullopt at end-of-file, a standstill or the deadline (stopped_by says which).
    std::optional<std::string> next_line(std::chrono::milliseconds deadline) {
        if (!run_until([&] { return unread < lines.size() || out_closed; }, deadline) || unread == lines.size()) {
            if (stopped_by.empty()) stopped_by = "its stdout is closed (by it and by everything it started)";
            return std::nullopt;
        }
        return lines[unread++].text;
    }

    // Notes a wait for `what` that began at `begin` and ended without it, for transcript().
    void give_up(std::string_view what, Clock::time_point begin) {
        std::ostringstream text;
        text << "gave up waiting for " << what << " after " << std::fixed << std::setprecision(1)
             << std::chrono::duration<double>(Clock::now() - begin).count() << " s: " << stopped_by;
        gave_up = text.str();
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

int Program::record_number() const { return impl_->number; }

std::optional<std::string> Program::next_line(std::chrono::milliseconds deadline) {
    const auto begin = Clock::now();
    impl_->gave_up.clear();
    auto line = impl_->next_line(deadline);
    if (!line) impl_->give_up("a line on stdout", begin);
    return line;
}

// Every wait for an event line: the next one that `matches`, or nothing once the deadline passes or no line can
// come any more (the transcript then says what was waited for and why the wait stopped).
std::optional<Event> Program::wait_for_match(const std::string& what, const std::function<bool(const Event&)>& matches,
                                             std::chrono::milliseconds deadline) {
    const auto begin = Clock::now();
    const auto until = begin + deadline;
    impl_->gave_up.clear();
    while (Clock::now() < until) {
        const auto line = impl_->next_line(std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()));
        if (!line) break;
        if (auto event = Event::parse(*line); event && matches(*event)) return event;
    }
    if (impl_->stopped_by.empty()) impl_->stopped_by = "the deadline, with other lines still coming";
    impl_->give_up(what, begin);
    return std::nullopt;
}

std::optional<Event> Program::wait_for_event(std::string_view name, std::chrono::milliseconds deadline) {
    return wait_for_match("an event line '" + std::string(name) + "'",
                          [&](const Event& event) { return event.name == name; }, deadline);
}

namespace {

bool has_fields(const Event& event, const std::vector<Field>& fields) {
    return std::ranges::all_of(fields, [&](const Field& field) { return event.has(field.key) && event.text(field.key) == field.value; });
}

}  // namespace

std::optional<Event> Program::wait_for_any_event(std::initializer_list<std::string_view> names,
                                                 std::chrono::milliseconds deadline) {
    std::string what = "an event line";
    for (const auto name : names) what += " '" + std::string(name) + "'";
    return wait_for_match(what, [&](const Event& event) { return std::ranges::find(names, event.name) != names.end(); },
                          deadline);
}

std::optional<Event> Program::wait_for_event_with(std::string_view name, const std::vector<Field>& fields,
                                                  std::chrono::milliseconds deadline) {
    std::string what = "an event line '" + std::string(name);
    for (const auto& field : fields) what += " " + field.key + "=" + field.value;
    return wait_for_match(what + "'", [&](const Event& event) { return event.name == name && has_fields(event, fields); },
                          deadline);
}

long find_event(const std::vector<Line>& lines, std::string_view name, const std::vector<Field>& fields, std::size_t from) {
    for (std::size_t i = from; i < lines.size(); ++i) {
        const auto event = Event::parse(lines[i].text);
        if (event && event->name == name && has_fields(*event, fields)) return static_cast<long>(i);
    }
    return -1;
}

std::optional<WaitStatus> Program::wait_exit(std::chrono::milliseconds deadline) {
    const auto begin = Clock::now();
    impl_->gave_up.clear();
    if (!impl_->run_until([&] { return impl_->status.has_value(); }, deadline)) impl_->give_up("the program to exit", begin);
    return impl_->status;
}

bool Program::read_to_end(std::chrono::milliseconds deadline) {
    const auto begin = Clock::now();
    impl_->gave_up.clear();
    const bool ended = impl_->run_until([&] { return impl_->out_closed && impl_->err_closed; }, deadline);
    if (!ended) impl_->give_up("the end of its output", begin);
    return ended;
}

void Program::send_signal(int signal) {
    if (!impl_->status && impl_->pid > 0) ::kill(impl_->pid, signal);
}

std::vector<ProcessInfo> Program::left_behind() const {
    auto found = descendants_of(::getpid(), owned_primaries());
    if (!found.empty()) impl_->left_behind = describe(found);
    return found;
}

const std::vector<Line>& Program::stdout_lines() const { return impl_->lines; }

std::vector<Event> Program::events_named(std::string_view name) const {
    return events_named_in(texts_of(impl_->lines), name);
}

const std::string& Program::stderr_text() const { return impl_->stderr_text; }

const std::string& Program::gave_up() const { return impl_->gave_up; }

std::string Program::transcript() const {
    const auto& impl = *impl_;
    std::string ending = impl.status ? "status: " + impl.status->describe() + "\n" : "";
    if (!impl.gave_up.empty()) ending += impl.gave_up + "\n";
    return transcript_of(impl.number, impl.pid, texts_of(impl.lines), impl.stderr_text, ending);
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
        impl.record_run(ended_by_test);
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

std::vector<Event> Run::events_named(std::string_view name) const { return events_named_in(stdout_lines, name); }

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
    std::string ending = "status: " + (status ? status->describe() : "still running at the deadline, killed") + "\n";
    if (!gave_up.empty()) ending += gave_up + "\n";
    if (!left_behind.empty()) ending += "left behind: " + describe(left_behind) + "\n";
    return transcript_of(number, pid, stdout_lines, stderr_text, ending);
}

namespace {

enum class Output { until_exit, to_end };

Run run_program(std::string_view name, Launch launch, std::chrono::milliseconds deadline, Output output) {
    Program program(name, std::move(launch));
    Run run;
    run.pid = program.pid();
    run.number = program.record_number();
    run.status = program.wait_exit(deadline);
    run.gave_up = program.gave_up();
    // The program has ended: any process of it still here (as our child, thanks to the subreaper, alive
    // or zombie) is one it left behind.
    if (run.status) run.left_behind = program.left_behind();
    if (run.status && output == Output::to_end) program.read_to_end(deadline);
    program.teardown();
    run.stdout_lines = texts_of(program.stdout_lines());
    run.stderr_text = program.stderr_text();
    return run;
}

}  // namespace

Run run_to_end(std::string_view name, Launch launch, std::chrono::milliseconds deadline) {
    return run_program(name, std::move(launch), deadline, Output::until_exit);
}

Run run_to_end_of_output(std::string_view name, Launch launch, std::chrono::milliseconds deadline) {
    return run_program(name, std::move(launch), deadline, Output::to_end);
}

}  // namespace clusterkit::testing
