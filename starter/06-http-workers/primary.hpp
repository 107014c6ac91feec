// Lesson 06: the primary's command line, and the set-up of its supervisor. Lessons 07 and 08 grow this server
// and use both as they are; each lesson has a main.cpp of its own.
#pragma once

#include <clusterkit/cli.hpp>
#include <clusterkit/supervisor.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <filesystem>
#include <string_view>

namespace lesson06 {

struct Options {
    int workers = 1;
    int port = 5000;
    boost::asio::ip::address host;
    std::chrono::milliseconds grace{3000};
    std::filesystem::path worker_program;
};

// --workers, --port, --host, --grace-ms and --exec, added to `options` (a later lesson adds its own beside them).
void add_options(clusterkit::program_options::options_description& options);

// Their values. The worker program is --exec, or else "<program>-worker" beside this executable; either must
// be a program we may run.
Options read_options(const clusterkit::program_options::variables_map& values, std::string_view program);

// The supervisor of N workers that all serve the one listening socket; a stop closes it.
clusterkit::SupervisorConfig supervisor_config(std::string_view program, const Options& options,
                                              boost::asio::ip::tcp::acceptor& listener);

}  // namespace lesson06
