// Lesson 08: supervision. Lesson 07's server (lesson 06's workers, reloaded on SIGHUP), whose primary also caps
// each worker's memory, recycles a worker that grows too large or has answered its share of requests, kills one
// that hangs, and backs off from a worker that cannot start. Lesson text: lessons/08-supervision/README.md.
//
//     lesson08 [lesson 07's options] [--memory-limit-mb M] [--max-rss-mb M] [--max-requests N [--jitter J]]
//              [--heartbeat-ms MS] [--hang-timeout-ms MS] [--backoff-ms MS] [--backoff-max-ms MS]
//              [--max-restarts R] [--within S]
#include "listener.hpp"
#include "primary.hpp"
#include "reload.hpp"
#include "supervision.hpp"

#include <clusterkit/cli.hpp>
#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>

#include <boost/asio/io_context.hpp>

namespace {

namespace asio = boost::asio;

constexpr std::string_view program = "lesson08";
constexpr std::string_view usage =
    "lesson08 [--workers N] [--port P] [--host H] [--grace-ms MS] [--exec PATH] [--ready-timeout-ms MS]\n"
    "         [--memory-limit-mb M] [--max-rss-mb M] [--max-requests N [--jitter J]] [--heartbeat-ms MS]\n"
    "         [--hang-timeout-ms MS] [--backoff-ms MS] [--backoff-max-ms MS] [--max-restarts R] [--within S]";

}  // namespace

int main(int argc, char* argv[]) {
    return clusterkit::run_main(program, [&] {
        const auto values = clusterkit::parse_command_line(
            argc, argv, usage, {lesson06::add_options, lesson07::add_options, lesson08::add_options});
        const auto options = lesson06::read_options(values, program);
        asio::io_context context;
        lesson08::Supervision supervision(context, lesson08::read_options(values));
        asio::io_context holder;  // lesson 06: the listening socket lives on an io_context that never runs
        auto listener = lesson06::open_listener(holder, options.host, options.port);
        clusterkit::emit("listening", {{"port", lesson06::listening_port(listener)}});

        clusterkit::HandoverConfig config{.supervisor = lesson06::supervisor_config(program, options, listener)};
        supervision.configure(config);
        lesson07::Reloader server(context, std::move(config), lesson07::read_options(values));
        supervision.watch(server);
        server.start();
        context.run();
        return server.exit_status();
    });
}
