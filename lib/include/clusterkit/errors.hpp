// Errors: one helper for every lesson, after TLPI's error_functions.c.
//
// A failure is one line on stderr, "lessonNN: error: what went wrong", and a non-zero exit status:
// in this kit the exit status is part of the lesson, so no failure path may exit 0.
#pragma once

#include <stdexcept>
#include <string_view>

namespace clusterkit {

// Named exit statuses shared by every program in the kit.
namespace exit_status {
inline constexpr int ok = 0;
inline constexpr int failure = 1;  // something went wrong at run time
inline constexpr int usage = 2;    // the command line was wrong
}  // namespace exit_status

// Thrown for a bad command line; run_main() turns it into exit status 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Thrown for --help: not an error. run_main() prints the text to stdout and exits 0.
class HelpRequested : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws std::system_error for errno, naming the call that failed: "fork: Resource temporarily unavailable".
[[noreturn]] void throw_system_error(std::string_view call);

// Prints "program: error: message" to stderr as one write(2). Async-signal-safe for short messages.
void report_error(std::string_view program, std::string_view message) noexcept;

// Writes a --help text to stdout.
void print_help(std::string_view text) noexcept;

// The child-side variant for a forked child: reports "call: strerror(errno)" and ends the child with
// _exit(), which neither flushes the stdio buffers it copied from its parent nor runs the parent's
// exit handlers. Never returns and never throws.
[[noreturn]] void child_fail(std::string_view program, std::string_view call) noexcept;

// Runs a program's body and turns what it throws into the kit's error line and exit status:
// UsageError -> 2, any other exception -> 1. Use it as `return run_main("lesson01", [&] { ... });`.
template <typename Body>
int run_main(std::string_view program, Body&& body) noexcept {
    try {
        return body();
    } catch (const HelpRequested& help) {
        print_help(help.what());
        return exit_status::ok;
    } catch (const UsageError& error) {
        report_error(program, error.what());
        return exit_status::usage;
    } catch (const std::exception& error) {
        report_error(program, error.what());
        return exit_status::failure;
    } catch (...) {
        report_error(program, "unknown exception");
        return exit_status::failure;
    }
}

}  // namespace clusterkit
