// Running other programs (CMake, git, the test binaries, the lesson programs) with Boost.Process v2.
#pragma once

#include <clusterkit/process.hpp>
#include <clusterkit/wait_status.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace clusterkit::kit {

namespace fs = std::filesystem;

// The kit's one event loop: every wait for a child and the Ctrl-C handler run on it, so that a Ctrl-C is
// noticed while the kit waits for CMake or a test.
boost::asio::io_context& kit_context();

// From now on SIGINT and SIGTERM do not kill the kit: they set interrupted(), and the command stops at its
// next step (children in the terminal's process group, such as CMake, get the Ctrl-C themselves).
void catch_interrupts();
bool interrupted();

// Waits for `child` on kit_context(), running the loop meanwhile; how it ended.
WaitStatus wait_for(boost::process::v2::process& child);

using Environment = std::vector<std::pair<std::string, std::string>>;  // variables added to ours

struct Command {
    fs::path program;                // a full path; see find_program()
    std::vector<std::string> args{};
    fs::path directory{};            // empty: the kit's own working directory
    Environment environment{};
};

// The full path of `name` on $PATH; throws std::runtime_error ("cmake is not installed: run ./kit deps").
fs::path find_program(const std::string& name);

// Runs to its end with the kit's own stdin, stdout and stderr (what the user sees).
WaitStatus run_in_terminal(const Command& command);

struct LogOptions {
    bool append = false;  // add to the log's end (else it is emptied first)
    // Given: the command leads a process group of its own, killed whole when the deadline passes (the log's
    // last line then says so, and it ends killed by SIGKILL). It waits on a loop of its own: `kit grade` builds
    // from several threads.
    std::optional<std::chrono::seconds> deadline{};
};

// Runs to its end with stdout and stderr both written to `log`; stdin is /dev/null.
WaitStatus run_logged(const Command& command, const fs::path& log, const LogOptions& options = {});

// Whether it exited with code 0.
bool succeeded(const WaitStatus& status);

// Runs to its end and returns its stdout; stderr is the kit's. Throws std::runtime_error naming the command
// when it does not exit 0, unless any_status.
std::string run_for_output(const Command& command, bool any_status = false);

// The shell's view of an exit status: the code, or 128 + the signal number.
int shell_status(const WaitStatus& status);

}  // namespace clusterkit::kit
