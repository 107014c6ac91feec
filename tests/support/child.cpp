// clusterkit-test-child: a purpose-built program for the autograder to start in place of a worker (after
// Boost.Process's own tests). Its arguments are steps, done in order:
//
//   print-args            print "child id=I pid=P argc=K", then "arg[1]=..." .. "arg[K]=..." (all arguments)
//   print-env NAME        print "env NAME=value", or "env NAME is unset"
//   sleep-ms-by-id A,B,.. sleep A ms if CLUSTERKIT_WORKER_ID is 1, B ms if it is 2, ... (0 past the list)
//   exit-code N           exit with code N now
//   ignore-sigterm        ignore SIGTERM from now on
//   forever               wait until a signal ends the process
//   exit-code-by-id A,B,..  exit with code A if CLUSTERKIT_WORKER_ID is 1, B if it is 2, ... (go on past the list)
//   on-sigusr1-exit C     from now on SIGUSR1 ends the process with exit code C
//   if-id I STEP          do STEP (a step without a value) only if CLUSTERKIT_WORKER_ID is I
//   clear-death-signal    clear the parent-death signal (prctl(PR_SET_PDEATHSIG, 0)) that this process inherited
//   exec PROGRAM ARGS..   become PROGRAM (a full path) with the remaining arguments (execv); the last step
//   forks-allowed N, kill-at-write SIGNUM, hold-exits N, hold-exits-in-turn N, hold-death-signal,
//   fail-sched-getaffinity, interrupt-first-wait
//                         rules for `run` (see child_faults.hpp)
//   run PROGRAM ARGS..    run PROGRAM (a full path) with the remaining arguments under those rules, and end
//                         as it ended; the last step
//   channel05 SPEC        be a lesson 05 worker that misbehaves as SPEC says (child_channel.cpp)
//
// With no step that exits, it exits 0 after the last step. Lines are written whole, one write(2) each.
// A program under test that chooses its workers' arguments itself (lesson05 --exec) starts the child with
// arguments of its own: then CLUSTERKIT_TEST_CHILD_STEPS (space-separated) gives the steps instead, and
// CLUSTERKIT_TEST_CHILD_STEPS_<I> those of the worker whose CLUSTERKIT_WORKER_ID is I.
#include "child_channel.hpp"
#include "child_faults.hpp"

#include <clusterkit/errors.hpp>
#include <clusterkit/fd.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <sys/prctl.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

void print_line(const std::string& text) {
    const std::string line = text + '\n';
    clusterkit::write_all(STDOUT_FILENO, std::as_bytes(std::span(line)));
}

int worker_id() {
    const char* id = std::getenv("CLUSTERKIT_WORKER_ID");
    return id ? std::atoi(id) : 0;
}

int sleep_for_this_id(const std::string& list) {
    std::istringstream in(list);
    std::string item;
    for (int id = 1; std::getline(in, item, ','); ++id)
        if (id == worker_id()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(item)));  // the work under test
            return 0;
        }
    return 0;
}

// The code listed for this worker's id by exit-code-by-id, if any.
std::optional<int> exit_code_for_this_id(const std::string& list) {
    std::istringstream in(list);
    std::string item;
    for (int id = 1; std::getline(in, item, ','); ++id)
        if (id == worker_id()) return std::stoi(item);
    return std::nullopt;
}

volatile std::sig_atomic_t sigusr1_exit_code = 0;
extern "C" void exit_on_sigusr1(int) { ::_exit(sigusr1_exit_code); }

void handle(int signal, void (*handler)(int)) {
    struct sigaction action {};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    if (::sigaction(signal, &action, nullptr) != 0) clusterkit::throw_system_error("sigaction");
}

[[noreturn]] void exec_rest(const std::vector<std::string>& args, std::size_t first) {
    if (first >= args.size()) throw clusterkit::UsageError("exec wants a program");
    std::vector<std::string> command(args.begin() + static_cast<std::ptrdiff_t>(first), args.end());
    std::vector<char*> argv;
    for (auto& argument : command) argv.push_back(argument.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    clusterkit::throw_system_error(command.front());
}

// The steps in CLUSTERKIT_TEST_CHILD_STEPS_<worker id>, else in CLUSTERKIT_TEST_CHILD_STEPS, if one is set.
std::optional<std::vector<std::string>> steps_from_environment() {
    const std::string for_this_id = "CLUSTERKIT_TEST_CHILD_STEPS_" + std::to_string(worker_id());
    const char* text = std::getenv(for_this_id.c_str());
    if (!text) text = std::getenv("CLUSTERKIT_TEST_CHILD_STEPS");
    if (!text) return std::nullopt;
    std::vector<std::string> steps;
    std::istringstream in(text);
    for (std::string step; in >> step;) steps.push_back(step);
    return steps;
}

}  // namespace

int main(int argc, char* argv[]) {
    return clusterkit::run_main("clusterkit-test-child", [&] {
        const std::vector<std::string> args =
            steps_from_environment().value_or(std::vector<std::string>(argv + 1, argv + argc));
        clusterkit::testing::faults::Rules rules;
        for (std::size_t i = 0; i < args.size(); ++i) {
            const auto& step = args[i];
            const auto parameter = [&] {
                if (i + 1 >= args.size()) throw clusterkit::UsageError(step + " wants a value");
                return args[++i];
            };
            if (step == "print-args") {
                print_line("child id=" + std::to_string(worker_id()) + " pid=" + std::to_string(::getpid()) +
                           " argc=" + std::to_string(args.size()));
                for (std::size_t k = 0; k < args.size(); ++k)
                    print_line("arg[" + std::to_string(k + 1) + "]=" + args[k]);
            } else if (step == "print-env") {
                const auto name = parameter();
                const char* value = std::getenv(name.c_str());
                print_line(value ? "env " + name + "=" + value : "env " + name + " is unset");
            } else if (step == "sleep-ms-by-id") {
                sleep_for_this_id(parameter());
            } else if (step == "exit-code") {
                return std::stoi(parameter());
            } else if (step == "ignore-sigterm") {
                std::signal(SIGTERM, SIG_IGN);
            } else if (step == "forever") {
                for (;;) ::pause();
            } else if (step == "exit-code-by-id") {
                if (const auto code = exit_code_for_this_id(parameter())) return *code;
            } else if (step == "on-sigusr1-exit") {
                sigusr1_exit_code = std::stoi(parameter());
                handle(SIGUSR1, exit_on_sigusr1);
            } else if (step == "if-id") {
                const int id = std::stoi(parameter());
                if (i + 1 >= args.size()) throw clusterkit::UsageError("if-id wants a step");
                if (id != worker_id()) ++i;  // skip the step
            } else if (step == "clear-death-signal") {
                if (::prctl(PR_SET_PDEATHSIG, 0) != 0) clusterkit::throw_system_error("prctl");
            } else if (step == "exec") {
                exec_rest(args, i + 1);
            } else if (step == "forks-allowed") {
                rules.forks_allowed = std::stoi(parameter());
            } else if (step == "kill-at-write") {
                rules.kill_at_write = std::stoi(parameter());
            } else if (step == "hold-exits") {
                rules.hold_exits = std::stoi(parameter());
            } else if (step == "hold-exits-in-turn") {
                rules.hold_exits = std::stoi(parameter());
                rules.hold_exits_in_turn = true;
            } else if (step == "hold-death-signal") {
                rules.hold_death_signal = true;
            } else if (step == "fail-sched-getaffinity") {
                rules.fail_sched_getaffinity = true;
            } else if (step == "interrupt-first-wait") {
                rules.interrupt_first_wait = true;
            } else if (step == "run") {
                clusterkit::testing::faults::run_under(rules, std::vector<std::string>(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end()));
            } else if (step == "channel05") {
                return clusterkit::testing::serve_channel05(parameter());
            } else {
                throw clusterkit::UsageError("unknown step '" + step + "'");
            }
        }
        return clusterkit::exit_status::ok;
    });
}
