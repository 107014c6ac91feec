// clusterkit-test-child: a purpose-built program for the autograder to start in place of a worker (after
// Boost.Process's own tests). Its arguments are steps, done in order:
//
//   print-args            print "child id=I pid=P argc=K", then "arg[1]=..." .. "arg[K]=..." (all arguments)
//   print-env NAME        print "env NAME=value", or "env NAME is unset"
//   sleep-ms-by-id A,B,.. sleep A ms if CLUSTERKIT_WORKER_ID is 1, B ms if it is 2, ... (0 past the list)
//   exit-code N           exit with code N now
//   ignore-sigterm        ignore SIGTERM from now on
//   forever               wait until a signal ends the process
//   channel05 SPEC        be a lesson 05 worker that misbehaves as SPEC says (child_channel.cpp)
//
// With no step that exits, it exits 0 after the last step. Lines are written whole, one write(2) each.
// A program under test that chooses its workers' arguments itself (lesson05 --exec) starts the child with
// arguments of its own: then CLUSTERKIT_TEST_CHILD_STEPS (space-separated) gives the steps instead, and
// CLUSTERKIT_TEST_CHILD_STEPS_<I> those of the worker whose CLUSTERKIT_WORKER_ID is I.
#include "child_channel.hpp"

#include <clusterkit/errors.hpp>
#include <clusterkit/fd.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <span>
#include <sstream>
#include <string>
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
            } else if (step == "channel05") {
                return clusterkit::testing::serve_channel05(parameter());
            } else {
                throw clusterkit::UsageError("unknown step '" + step + "'");
            }
        }
        return clusterkit::exit_status::ok;
    });
}
