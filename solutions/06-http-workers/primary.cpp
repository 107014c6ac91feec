// Lesson 06: the primary's command line and its supervisor (lessons/06-http-workers/README.md, "One socket, many
// acceptors"). See primary.hpp.
#include "primary.hpp"

#include "listener.hpp"

#include <clusterkit/cpus.hpp>
#include <clusterkit/errors.hpp>

#include <string>
#include <unistd.h>

namespace lesson06 {
namespace {

namespace po = clusterkit::program_options;

// Each worker finds the listening socket as this descriptor, named in its environment.
constexpr int listen_fd_in_worker = 3;

std::filesystem::path checked_worker_program(std::filesystem::path path) {
    if (::access(path.c_str(), X_OK) != 0) clusterkit::throw_system_error("cannot run " + path.string());
    return path;
}

}  // namespace

void add_options(po::options_description& options) {
    options.add_options()
        ("workers", po::value<std::string>(), "worker processes (default: one per usable CPU)")
        ("port", po::value<std::string>()->default_value("5000"), "the TCP port; 0 picks a free one")
        ("host", po::value<std::string>()->default_value("127.0.0.1"), "the address to listen on")
        ("grace-ms", po::value<std::string>()->default_value("3000"), "on SIGTERM, how long workers may drain")
        ("exec", po::value<std::string>(), "the worker program (default: <this program>-worker beside it)");
}

Options read_options(const po::variables_map& values, std::string_view program) {
    Options chosen;
    chosen.workers = values.count("workers") ? clusterkit::positive_count(values, "workers") : clusterkit::usable_cpu_count();
    chosen.port = clusterkit::number_option(values, "port", 0, 65535);
    chosen.host = parse_host(values["host"].as<std::string>());
    chosen.grace = std::chrono::milliseconds(clusterkit::number_option(values, "grace-ms", 0));
    const auto beside_me = std::filesystem::read_symlink("/proc/self/exe").parent_path() / (std::string(program) + "-worker");
    chosen.worker_program = checked_worker_program(values.count("exec") ? std::filesystem::path(values["exec"].as<std::string>()) : beside_me);
    return chosen;
}

//tag::share[]
clusterkit::SupervisorConfig supervisor_config(std::string_view program, const Options& options,
                                              boost::asio::ip::tcp::acceptor& listener) {
    return {
        .program = std::string(program),
        .worker_program = options.worker_program,
        .worker_environment = {{"CLUSTERKIT_LISTEN_FD", std::to_string(listen_fd_in_worker)}},
        .worker_fds = {clusterkit::BindFd{listen_fd_in_worker, listener.native_handle()}},
        .workers = options.workers,
        .grace = options.grace,
        // Stop accepting: once the workers have closed their copies too, the port is free.
        .on_stop = [&listener] { listener.close(); },
    };
}
//end::share[]

}  // namespace lesson06
