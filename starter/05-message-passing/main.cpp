// Lesson 05: message passing. The primary shares out tasks (count the primes in a range) to N workers as
// messages, collects their results as messages, and loses no task when a worker dies or misbehaves. The
// work queue is in primary.hpp, the channel in channel.hpp; this file reads the command line.
// Lesson text: lessons/05-message-passing/README.md.
//
//     lesson05 [--workers N] [--tasks T] [--task-size S] [--echo-bytes B] [--die-on-task J]
//              [--garble-on-task J] [--max-restarts R] [--grace-ms MS] [--exec PATH]
#include "primary.hpp"

#include <clusterkit/cli.hpp>
#include <clusterkit/cpus.hpp>
#include <clusterkit/errors.hpp>

#include <boost/asio/io_context.hpp>

#include <csignal>
#include <unistd.h>

namespace {

constexpr std::string_view usage =
    "lesson05 [--workers N] [--tasks T] [--task-size S] [--echo-bytes B] [--die-on-task J] [--garble-on-task J] "
    "[--max-restarts R] [--grace-ms MS] [--exec PATH]";

std::filesystem::path default_worker_program() {
    return std::filesystem::read_symlink("/proc/self/exe").parent_path() / "lesson05-worker";
}

std::filesystem::path checked_worker_program(std::filesystem::path path) {
    if (::access(path.c_str(), X_OK) != 0) clusterkit::throw_system_error("cannot run " + path.string());
    return path;
}

lesson05::PrimaryConfig read_config(int argc, char* argv[]) {
    namespace po = clusterkit::program_options;
    po::options_description options("options");
    options.add_options()
        ("workers", po::value<std::string>(), "workers to share the tasks (default: one per usable CPU)")
        ("tasks", po::value<std::string>()->default_value("20"), "tasks to hand out")
        ("task-size", po::value<std::string>()->default_value("10000"), "numbers per task: task J is [(J-1)*S, J*S)")
        ("echo-bytes", po::value<std::string>()->default_value("0"), "send each task with a payload of B bytes, echoed back")
        ("die-on-task", po::value<std::string>(), "the worker that first gets task J calls abort()")
        ("garble-on-task", po::value<std::string>(), "the worker that first gets task J answers with a broken frame")
        ("max-restarts", po::value<std::string>()->default_value("10"), "workers that may be replaced in one run")
        ("grace-ms", po::value<std::string>()->default_value("3000"), "from the shutdown message to SIGKILL")
        ("exec", po::value<std::string>(), "the worker program (default: lesson05-worker beside lesson05)");
    const auto values = clusterkit::parse_command_line(argc, argv, usage, options);

    lesson05::PrimaryConfig config;
    config.workers = values.count("workers") ? clusterkit::positive_count(values, "workers")
                                             : clusterkit::usable_cpu_count();
    config.tasks = clusterkit::number_option(values, "tasks", 1, 1'000'000);
    config.task_size = clusterkit::number_option(values, "task-size", 1, 100'000'000);
    config.echo_bytes = static_cast<std::size_t>(clusterkit::number_option(values, "echo-bytes", 0, 8 * 1024 * 1024));
    config.max_restarts = clusterkit::number_option(values, "max-restarts", 0);
    config.grace = std::chrono::milliseconds(clusterkit::number_option(values, "grace-ms", 0));
    for (const char* flag : {"die-on-task", "garble-on-task"}) {
        if (!values.count(flag)) continue;
        config.worker_args.push_back(std::string("--") + flag);
        config.worker_args.push_back(std::to_string(clusterkit::number_option(values, flag, 1, config.tasks)));
    }
    config.worker_program = checked_worker_program(
        values.count("exec") ? std::filesystem::path(values["exec"].as<std::string>()) : default_worker_program());
    return config;
}

}  // namespace

int main(int argc, char* argv[]) {
    return clusterkit::run_main("lesson05", [&] {
        // A write to a dead worker's pipe must fail with EPIPE (the channel copes), not kill the primary.
        std::signal(SIGPIPE, SIG_IGN);
        boost::asio::io_context context;
        lesson05::Primary primary(context, read_config(argc, argv));
        primary.start();
        context.run();
        return primary.exit_status();
    });
}
