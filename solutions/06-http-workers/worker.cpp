// Lesson 06: the worker, lesson06-worker. It serves HTTP on the listening socket it inherited from the primary
// (descriptor CLUSTERKIT_LISTEN_FD), in one thread with one event loop, until SIGTERM (or SIGINT): then it
// drains and exits 0. It also drains when its lifeline (stdin, a pipe from the primary) reaches end-of-file,
// which means the primary is gone. To a primary that gives it a control pipe (lessons 07 and 08), it says
// `ready` once it accepts, and sends heartbeats if asked to (clusterkit/primary_link.hpp).
//
//     lesson06-worker      (started by lesson06, never by hand; lessons 07 and 08 build it into their own workers)
#include "worker_server.hpp"

#include <clusterkit/cli.hpp>
#include <clusterkit/errors.hpp>
#include <clusterkit/events.hpp>
#include <clusterkit/primary_link.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/signal_set.hpp>

#include <array>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

int environment_number(const char* name) {
    const char* text = std::getenv(name);
    const auto number = clusterkit::parse_whole_number(text ? text : "");
    if (!number) throw clusterkit::UsageError(std::string(name) + " is not set: my primary starts me");
    return *number;
}

//tag::inherit[]
// The listening socket the primary passed down as descriptor `fd`, as an Asio acceptor.
tcp::acceptor inherited_listener(asio::io_context& context, int fd) {
    int listening = 0;
    socklen_t size = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || !listening)
        throw std::runtime_error("descriptor " + std::to_string(fd) + " is not a listening socket");
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) clusterkit::throw_system_error("getsockname");
    return tcp::acceptor(context, address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd);
}
//end::inherit[]

// Reads the lifeline until end-of-file (the primary is gone), then calls on_end.
template <typename OnEnd>
void watch_lifeline(asio::readable_pipe& lifeline, std::array<char, 64>& buffer, OnEnd on_end) {
    lifeline.async_read_some(asio::buffer(buffer), [&lifeline, &buffer, on_end](boost::system::error_code error, std::size_t) {
        if (error) return on_end();
        watch_lifeline(lifeline, buffer, on_end);
    });
}

}  // namespace

int main(int argc, char* argv[]) {
    // "lesson06-worker", or the name of the lesson worker this file is built into.
    const std::string program = std::filesystem::path(argc > 0 ? argv[0] : "worker").filename().string();
    return clusterkit::run_main(program, [&] {
        clusterkit::parse_command_line(argc, argv, program, clusterkit::program_options::options_description("options"));
        // A client that hangs up while we write must not kill the worker: EPIPE instead of SIGPIPE.
        std::signal(SIGPIPE, SIG_IGN);
        const int id = environment_number("CLUSTERKIT_WORKER_ID");
        // One thread runs this loop and nothing else touches it: Asio may skip the locks it would take for more.
        asio::io_context context(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE);
        lesson06::Server server(context, inherited_listener(context, environment_number("CLUSTERKIT_LISTEN_FD")));

        const auto primary = clusterkit::PrimaryLink::from_environment();
        clusterkit::Heartbeat heartbeat(context, primary);
        asio::signal_set stop_signals(context, SIGTERM, SIGINT);
        asio::readable_pipe lifeline(context, ::dup(STDIN_FILENO));
        std::array<char, 64> buffer{};
        // Drain once: then nothing but the connections in flight keeps the event loop running.
        const auto drain = [&] {
            server.drain();
            heartbeat.stop();
            stop_signals.cancel();
            lifeline.close();
        };
        stop_signals.async_wait([&](boost::system::error_code error, int) {
            if (!error) drain();
        });
        watch_lifeline(lifeline, buffer, [&] { drain(); });

        server.start();
        clusterkit::emit("worker", {{"id", id}, {"pid", ::getpid()}});
        primary.send("ready");  // accepting now: Node's 'listening'
        heartbeat.start();
        context.run();
        return clusterkit::exit_status::ok;
    });
}
