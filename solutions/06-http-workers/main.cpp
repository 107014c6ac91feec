// Lesson 06: HTTP workers, the seed's server.js. The primary opens one listening socket, prints its port, and
// keeps N workers (lesson06-worker) that all accept on that one socket, replaced when they die (the kit's
// Supervisor, lesson 03's answer). SIGTERM drains: no new connections, in-flight requests finish, exit 0.
// Lesson text: lessons/06-http-workers/README.md.
//
//     lesson06 [--workers N] [--port P] [--host H] [--grace-ms MS] [--exec PATH]
#include "listener.hpp"

#include <clusterkit/cli.hpp>
#include <clusterkit/cpus.hpp>
#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>
#include <clusterkit/supervisor.hpp>

#include <boost/asio/io_context.hpp>

#include <unistd.h>

namespace {

namespace asio = boost::asio;

constexpr std::string_view program = "lesson06";
constexpr std::string_view usage = "lesson06 [--workers N] [--port P] [--host H] [--grace-ms MS] [--exec PATH]";

// Each worker finds the listening socket as this descriptor, named in its environment.
constexpr int listen_fd_in_worker = 3;

struct Options {
    int workers = 1;
    int port = 5000;
    asio::ip::address host;
    std::chrono::milliseconds grace{3000};
    std::filesystem::path worker_program;
};

std::filesystem::path checked_worker_program(std::filesystem::path path) {
    if (::access(path.c_str(), X_OK) != 0) clusterkit::throw_system_error("cannot run " + path.string());
    return path;
}

Options read_options(int argc, char* argv[]) {
    namespace po = clusterkit::program_options;
    po::options_description options("options");
    options.add_options()
        ("workers", po::value<std::string>(), "worker processes (default: one per usable CPU)")
        ("port", po::value<std::string>()->default_value("5000"), "the TCP port; 0 picks a free one")
        ("host", po::value<std::string>()->default_value("127.0.0.1"), "the address to listen on")
        ("grace-ms", po::value<std::string>()->default_value("3000"), "on SIGTERM, how long workers may drain")
        ("exec", po::value<std::string>(), "the worker program (default: lesson06-worker beside lesson06)");
    const auto values = clusterkit::parse_command_line(argc, argv, usage, options);
    Options chosen;
    chosen.workers = values.count("workers") ? clusterkit::positive_count(values, "workers") : clusterkit::usable_cpu_count();
    chosen.port = clusterkit::number_option(values, "port", 0, 65535);
    chosen.host = lesson06::parse_host(values["host"].as<std::string>());
    chosen.grace = std::chrono::milliseconds(clusterkit::number_option(values, "grace-ms", 0));
    const auto beside_me = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "lesson06-worker";
    chosen.worker_program = checked_worker_program(values.count("exec") ? std::filesystem::path(values["exec"].as<std::string>()) : beside_me);
    return chosen;
}

}  // namespace

int main(int argc, char* argv[]) {
    return clusterkit::run_main(program, [&] {
        const auto options = read_options(argc, argv);
        asio::io_context context;
        // The primary holds the listening socket for its workers but never accepts on it, so the socket lives
        // on an io_context that never runs: otherwise every new connection would wake the primary too.
        asio::io_context holder;
        auto listener = lesson06::open_listener(holder, options.host, options.port);
        clusterkit::emit("listening", {{"port", lesson06::listening_port(listener)}});

        //tag::share[]
        clusterkit::Supervisor supervisor(context, {
            .program = std::string(program),
            .worker_program = options.worker_program,
            .worker_environment = {{"CLUSTERKIT_LISTEN_FD", std::to_string(listen_fd_in_worker)}},
            .worker_fds = {clusterkit::BindFd{listen_fd_in_worker, listener.native_handle()}},
            .workers = options.workers,
            .grace = options.grace,
            // Stop accepting: once the workers have closed their copies too, the port is free.
            .on_stop = [&listener] { listener.close(); },
        });
        //end::share[]
        supervisor.start();
        context.run();
        return supervisor.exit_status();
    });
}
