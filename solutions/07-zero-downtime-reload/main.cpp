// Lesson 07: zero-downtime reload. Lesson 06's server (its listener, its workers), and on SIGHUP every worker is
// replaced, one at a time, by a new process of the worker program as it is on disk now: each new worker is ready
// before the old one drains, so no request is refused or dropped. Lesson text:
// lessons/07-zero-downtime-reload/README.md.
//
//     lesson07 [--workers N] [--port P] [--host H] [--grace-ms MS] [--exec PATH] [--ready-timeout-ms MS]
#include "listener.hpp"
#include "primary.hpp"
#include "reload.hpp"

#include <clusterkit/cli.hpp>
#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>

#include <boost/asio/io_context.hpp>

namespace {

namespace asio = boost::asio;

constexpr std::string_view program = "lesson07";
constexpr std::string_view usage =
    "lesson07 [--workers N] [--port P] [--host H] [--grace-ms MS] [--exec PATH] [--ready-timeout-ms MS]";

}  // namespace

int main(int argc, char* argv[]) {
    return clusterkit::run_main(program, [&] {
        const auto values =
            clusterkit::parse_command_line(argc, argv, usage, {lesson06::add_options, lesson07::add_options});
        const auto options = lesson06::read_options(values, program);
        asio::io_context context;
        asio::io_context holder;  // lesson 06: the listening socket lives on an io_context that never runs
        auto listener = lesson06::open_listener(holder, options.host, options.port);
        clusterkit::emit("listening", {{"port", lesson06::listening_port(listener)}});

        lesson07::Reloader server(context, {.supervisor = lesson06::supervisor_config(program, options, listener)},
                                  lesson07::read_options(values));
        server.start();
        context.run();
        return server.exit_status();
    });
}
