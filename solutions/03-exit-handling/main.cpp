// Lesson 03: exit handling. The primary keeps N workers alive, replaces the ones that die, stops cleanly on
// SIGTERM or SIGINT, and gives up on a crash loop. The supervisor is declared in the kit's
// <clusterkit/supervisor.hpp> and written in supervisor.cpp; this file reads the command line. Lesson
// text: lessons/03-exit-handling/README.md.
//
//     lesson03 [--workers N] [--max-restarts R] [--within SECONDS] [--grace-ms MS]
//              [--crash-after-ms MS] [--crash-code C] [--exec PATH] [-- ARGS...]
#include <clusterkit/cli.hpp>
#include <clusterkit/cpus.hpp>
#include <clusterkit/errors.hpp>
#include <clusterkit/supervisor.hpp>

#include <boost/asio/io_context.hpp>

#include <cerrno>
#include <limits>
#include <system_error>
#include <utility>

#include <unistd.h>

namespace {

constexpr std::string_view usage =
    "lesson03 [--workers N] [--max-restarts R] [--within SECONDS] [--grace-ms MS] [--crash-after-ms MS] "
    "[--crash-code C] [--exec PATH] [-- ARGS...]";

std::filesystem::path default_worker_program() {
    return std::filesystem::read_symlink("/proc/self/exe").parent_path() / "lesson03-worker";
}

std::filesystem::path checked_worker_program(std::filesystem::path path) {
    if (::access(path.c_str(), X_OK) != 0) clusterkit::throw_system_error("cannot run " + path.string());
    if (std::filesystem::is_directory(path))  // for a directory, X_OK is search permission: access() says yes
        throw std::system_error(EISDIR, std::generic_category(), "cannot run " + path.string());
    return path;
}

clusterkit::SupervisorConfig read_config(int argc, char* argv[]) {
    namespace po = clusterkit::program_options;
    po::options_description options("options");
    options.add_options()
        ("workers", po::value<std::string>(), "workers to keep alive (default: one per usable CPU)")
        ("max-restarts", po::value<std::string>()->default_value("5"), "restarts allowed within the window")
        ("within", po::value<std::string>()->default_value("60"), "the window for --max-restarts, in seconds")
        ("grace-ms", po::value<std::string>()->default_value("3000"), "from SIGTERM to SIGKILL when stopping")
        ("crash-after-ms", po::value<std::string>(), "make each worker crash after MS milliseconds")
        ("crash-code", po::value<std::string>(), "the exit code of a crashing worker (default 1)")
        ("exec", po::value<std::string>(), "the worker program (default: lesson03-worker beside lesson03)");
    const auto [values, rest] = clusterkit::parse_command_line_and_rest(argc, argv, usage, options);

    clusterkit::SupervisorConfig config;
    config.program = "lesson03";
    config.workers = values.count("workers") ? clusterkit::positive_count(values, "workers")
                                             : clusterkit::usable_cpu_count();
    config.max_restarts = clusterkit::number_option(values, "max-restarts", 0);
    config.within = std::chrono::seconds(clusterkit::number_option(values, "within", 1));
    config.grace = std::chrono::milliseconds(clusterkit::number_option(values, "grace-ms", 0));
    // Handed on to every worker, and checked here, so that a wrong value is one usage error of the primary.
    constexpr std::pair<const char*, int> worker_flags[] = {{"crash-after-ms", std::numeric_limits<int>::max()},
                                                            {"crash-code", 255}};  // an exit status is 0-255
    for (const auto& [flag, max] : worker_flags) {
        if (!values.count(flag)) continue;
        config.worker_args.push_back(std::string("--") + flag);
        config.worker_args.push_back(std::to_string(clusterkit::number_option(values, flag, 0, max)));
    }
    config.worker_args.insert(config.worker_args.end(), rest.begin(), rest.end());
    config.worker_program = checked_worker_program(
        values.count("exec") ? std::filesystem::path(values["exec"].as<std::string>()) : default_worker_program());
    return config;
}

}  // namespace

int main(int argc, char* argv[]) {
    return clusterkit::run_main("lesson03", [&] {
        boost::asio::io_context context;
        clusterkit::Supervisor supervisor(context, read_config(argc, argv));
        supervisor.start();
        context.run();
        return supervisor.exit_status();
    });
}
