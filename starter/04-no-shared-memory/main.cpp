// Lesson 04: no shared memory. One program, two modes:
//
//     lesson04 copies [--workers N] [--increments K]
//         each worker adds K to its own copy of a global counter: the seed's "each process has its own
//         copy of every variable" (copies.cpp)
//     lesson04 shared [--workers N] [--increments K] [--no-lock] [--crash-worker I] [--name-prefix P]
//         the workers add to one counter in a shared memory segment, under a lock (shared.cpp, segment.hpp)
//
// This file reads the command line (given). The primary's loop is in team.cpp.
// Lesson text: lessons/04-no-shared-memory/README.md.
#include "lesson04.hpp"
#include "segment.hpp"

#include <clusterkit/cli.hpp>
#include <clusterkit/cpus.hpp>
#include <clusterkit/errors.hpp>

#include <cstdlib>
#include <string>

namespace {

using lesson04::program;
namespace po = clusterkit::program_options;

constexpr std::string_view copies_usage = "lesson04 copies [--workers N] [--increments K]";
constexpr std::string_view shared_usage =
    "lesson04 shared [--workers N] [--increments K] [--no-lock] [--crash-worker I] [--name-prefix P]";

void add_common_options(po::options_description& options, std::string_view default_increments) {
    options.add_options()
        ("workers", po::value<std::string>(), "how many workers (default: one per usable CPU)")
        ("increments", po::value<std::string>()->default_value(std::string(default_increments)),
         "how many times each worker adds 1 to the counter");
}

int workers_option(const po::variables_map& values) {
    return values.count("workers") ? clusterkit::positive_count(values, "workers") : clusterkit::usable_cpu_count();
}

lesson04::CopiesOptions read_copies(int argc, const char* const argv[]) {
    po::options_description options("options");
    add_common_options(options, "1000");
    const auto values = clusterkit::parse_command_line(argc, argv, copies_usage, options);
    return {.workers = workers_option(values), .increments = clusterkit::number_option(values, "increments", 0)};
}

lesson04::SharedOptions read_shared(int argc, const char* const argv[]) {
    po::options_description options("options");
    add_common_options(options, "1000000");
    options.add_options()
        ("no-lock", "add without the lock: a demonstration of lost updates")
        ("crash-worker", po::value<std::string>(), "worker I calls abort() halfway through its increments")
        ("name-prefix", po::value<std::string>(),
         "segment names start with P (default: $CLUSTERKIT_SHM_PREFIX, else clusterkit-lesson04)");
    const auto values = clusterkit::parse_command_line(argc, argv, shared_usage, options);

    lesson04::SharedOptions shared;
    shared.workers = workers_option(values);
    shared.increments = clusterkit::number_option(values, "increments", 0);
    shared.lock = values.count("no-lock") == 0;
    if (values.count("crash-worker")) shared.crash_worker = clusterkit::number_option(values, "crash-worker", 1, shared.workers);
    if (values.count("name-prefix")) {
        shared.name_prefix = values["name-prefix"].as<std::string>();
    } else if (const char* from_environment = std::getenv("CLUSTERKIT_SHM_PREFIX")) {
        shared.name_prefix = from_environment;
    } else {
        shared.name_prefix = lesson04::default_name_prefix;
    }
    lesson04::check_name_prefix(shared.name_prefix);
    return shared;
}

int run(int argc, const char* const argv[]) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "--help")
        throw clusterkit::HelpRequested("usage: " + std::string(copies_usage) + "\n       " + std::string(shared_usage) +
                                        "\n(lesson04 MODE --help for the options of MODE)\n");
    // The mode is the first word; the options after it are parsed as if it were the program's name.
    if (mode == "copies") return lesson04::run_copies(read_copies(argc - 1, argv + 1));
    if (mode == "shared") return lesson04::run_shared(read_shared(argc - 1, argv + 1));
    if (mode.empty() || mode.starts_with("-")) throw clusterkit::UsageError("missing mode: copies or shared (see --help)");
    throw clusterkit::UsageError("unknown mode '" + mode + "': copies or shared (see --help)");
}

}  // namespace

int main(int argc, char* argv[]) {
    return clusterkit::run_main(program, [&] { return run(argc, argv); });
}
