// Running other programs with Boost.Process v2. See exec.hpp.
#include "exec.hpp"

#include <clusterkit/errors.hpp>
#include <clusterkit/fd.hpp>
#include <clusterkit/process.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process/v2/start_dir.hpp>

#include <csignal>
#include <memory>

#include <fcntl.h>
#include <unistd.h>
#include <stdexcept>

namespace clusterkit::kit {
namespace asio = boost::asio;
namespace bp = boost::process::v2;

namespace {

bool interrupt_seen = false;

std::string describe_command(const Command& command) {
    std::string text = command.program.filename().string();
    for (const auto& arg : command.args) text += " " + arg;
    return text;
}

// Launches and waits; `stdio` says where the child's streams go.
WaitStatus launch_and_wait(const Command& command, bp::process_stdio stdio) {
    const fs::path directory = command.directory.empty() ? fs::current_path() : command.directory;
    bp::process child(kit_context(), command.program, command.args, std::move(stdio),
                      bp::process_start_dir(directory), EnvironmentWith(command.environment));
    return wait_for(child);
}

}  // namespace

asio::io_context& kit_context() {
    static asio::io_context context;
    return context;
}

void catch_interrupts() {
    static std::unique_ptr<asio::signal_set> signals;
    if (signals) return;
    signals = std::make_unique<asio::signal_set>(kit_context(), SIGINT, SIGTERM);
    struct Handler {
        void operator()(boost::system::error_code error, int) const {
            if (error) return;
            interrupt_seen = true;
            signals->async_wait(Handler{});  // keep catching: a second Ctrl-C must not kill the kit halfway
        }
    };
    signals->async_wait(Handler{});
}

bool interrupted() { return interrupt_seen; }

WaitStatus wait_for(bp::process& child) {
    auto& context = kit_context();
    bool done = false;
    child.async_wait([&](boost::system::error_code, int) { done = true; });
    while (!done) {
        if (context.stopped()) context.restart();
        context.run_one();
    }
    return WaitStatus::from_raw(child.native_exit_code());
}

fs::path find_program(const std::string& name) {
    const auto path = bp::environment::find_executable(name);
    if (path.empty()) throw std::runtime_error(name + " is not installed (./kit deps installs what the kit needs)");
    return path;
}

WaitStatus run_in_terminal(const Command& command) { return launch_and_wait(command, bp::process_stdio{}); }

WaitStatus run_logged(const Command& command, const fs::path& log, const LogOptions& options) {
    fs::create_directories(log.parent_path());
    const int mode = options.append ? O_APPEND : O_TRUNC;
    const UniqueFd file(::open(log.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | mode, 0644));
    if (!file.is_open()) throw_system_error("open " + log.string());
    const bp::process_stdio stdio{nullptr, file.get(), file.get()};
    if (!options.deadline) return launch_and_wait(command, stdio);

    asio::io_context context;
    const fs::path directory = command.directory.empty() ? fs::current_path() : command.directory;
    bp::process child(context, command.program, command.args, stdio, bp::process_start_dir(directory),
                      EnvironmentWith(command.environment), OwnProcessGroup{});
    const pid_t group = child.id();
    bool killed = false;
    asio::steady_timer timer(context, *options.deadline);
    timer.async_wait([&](boost::system::error_code cancelled) {
        if (cancelled || group <= 1) return;
        killed = true;
        ::kill(-group, SIGKILL);  // the group it leads (pid checked > 1)
    });
    child.async_wait([&](boost::system::error_code, int) { timer.cancel(); });
    context.run();
    if (killed) {
        const std::string note = "\nkit: stopped after " + std::to_string(options.deadline->count()) + " s (the deadline)\n";
        [[maybe_unused]] const auto written = ::write(file.get(), note.data(), note.size());
    }
    return WaitStatus::from_raw(child.native_exit_code());
}

bool succeeded(const WaitStatus& status) { return !status.killed_by_signal && status.code == 0; }

std::string run_for_output(const Command& command, bool any_status) {
    asio::readable_pipe out(kit_context());
    const fs::path directory = command.directory.empty() ? fs::current_path() : command.directory;
    bp::process child(kit_context(), command.program, command.args, bp::process_stdio{nullptr, out, {}},
                      bp::process_start_dir(directory), EnvironmentWith(command.environment));
    std::string text;
    boost::system::error_code error;
    asio::read(out, asio::dynamic_buffer(text), error);  // to end-of-file
    const auto status = wait_for(child);
    if (status.killed_by_signal || (status.code != 0 && !any_status))
        throw std::runtime_error(describe_command(command) + ": " + status.describe());
    return text;
}

int shell_status(const WaitStatus& status) { return status.killed_by_signal ? 128 + status.signal : status.code; }

}  // namespace clusterkit::kit
