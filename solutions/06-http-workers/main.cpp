// Lesson 06: HTTP workers, the seed's server.js. The primary opens one listening socket, prints its port, and
// keeps N workers (lesson06-worker) that all accept on that one socket, replaced when they die (the kit's
// Supervisor, lesson 03's answer). SIGTERM drains: no new connections, in-flight requests finish, exit 0.
// Lesson text: lessons/06-http-workers/README.md.
//
//     lesson06 [--workers N] [--port P] [--host H] [--grace-ms MS] [--exec PATH]
#include "listener.hpp"
#include "primary.hpp"

#include <clusterkit/cli.hpp>
#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>
#include <clusterkit/supervisor.hpp>

#include <boost/asio/io_context.hpp>

namespace {

namespace asio = boost::asio;

constexpr std::string_view program = "lesson06";
constexpr std::string_view usage = "lesson06 [--workers N] [--port P] [--host H] [--grace-ms MS] [--exec PATH]";

}  // namespace

int main(int argc, char* argv[]) {
    return clusterkit::run_main(program, [&] {
        clusterkit::program_options::options_description described("options");
        lesson06::add_options(described);
        const auto options = lesson06::read_options(clusterkit::parse_command_line(argc, argv, usage, described), program);
        asio::io_context context;
        // The primary holds the listening socket for its workers but never accepts on it, so the socket lives
        // on an io_context that never runs: otherwise every new connection would wake the primary too.
        asio::io_context holder;
        auto listener = lesson06::open_listener(holder, options.host, options.port);
        clusterkit::emit("listening", {{"port", lesson06::listening_port(listener)}});

        clusterkit::Supervisor supervisor(context, lesson06::supervisor_config(program, options, listener));
        supervisor.start();
        context.run();
        return supervisor.exit_status();
    });
}
