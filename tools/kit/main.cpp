// kit: ClusterKit's command-line tool. `./kit` (a bash bootstrap) builds it and runs it with the same words:
//   ./kit verify 01  ->  build/kit/bin/kit verify 01
// This file only dispatches; each command lives in its own file (see commands.hpp).
#include "commands.hpp"

#include <clusterkit/errors.hpp>

#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <string_view>

namespace {

using clusterkit::kit::Args;

struct Command {
    std::function<int(const Args&)> run;
    std::string_view usage;
};

const std::map<std::string, Command, std::less<>>& commands() {
    using namespace clusterkit::kit;
    static const std::map<std::string, Command, std::less<>> table{
        {"list", {command_list, "list                 every lesson of your code with its state, and your progress"}},
        {"verify", {command_verify, "verify [NN]          build and test lesson NN (default: the first one not passing)"}},
        {"watch", {command_watch, "watch [NN]           verify again each time you save a file of the lesson"}},
        {"hint", {command_hint, "hint NN [TODO]       the next hint for a TODO of lesson NN (one more each time)"}},
        {"run", {command_run, "run NN [ARGS]        build and run your program for lesson NN (--solution: the reference)"}},
        {"reset", {command_reset, "reset NN             restore lesson NN's starter files from git (asks first)"}},
        {"selftest", {command_selftest, "selftest             lint, every test on the reference solutions, then the mutant check (CI)"}},
        {"lint", {command_lint, "lint [--write]       generated lists up to date, no answer line in a release, lesson texts' shape"}},
        {"grade", {command_grade, "grade ...            grade submissions (see docs/instructor.md)"}},
        {"gradescope", {command_gradescope, "gradescope ...       the Gradescope autograder (see docs/instructor.md)"}},
        {"release", {command_release, "release ...          make the student release (see docs/instructor.md)"}},
    };
    return table;
}

void print_usage(std::ostream& out) {
    out << "usage: ./kit COMMAND [ARGS]\n\n";
    for (const auto& [name, command] : commands()) out << "  " << command.usage << '\n';
    out << "  deps                 check (as root: install) the Debian packages the kit needs\n"
           "\nOptions of verify, watch and run: --verbose (the full build and test output), --timeline FILE.svg\n"
           "(a picture of the run's processes). CLUSTERKIT_TREE=/path/to/copy works on a copy of starter/.\n";
}

}  // namespace

int main(int argc, char* argv[]) {
    const Args words(argv + 1, argv + argc);
    const std::string name = words.empty() ? "list" : words.front();
    if (name == "help" || name == "-h" || name == "--help") {
        print_usage(std::cout);
        return clusterkit::exit_status::ok;
    }
    const auto found = commands().find(name);
    if (found == commands().end()) {
        clusterkit::report_error("kit", "unknown command '" + name + "'; try ./kit help");
        return clusterkit::exit_status::usage;
    }
    const Args rest = words.empty() ? Args{} : Args(words.begin() + 1, words.end());
    return clusterkit::run_main("kit", [&] { return found->second.run(rest); });
}
