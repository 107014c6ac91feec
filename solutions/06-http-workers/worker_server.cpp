// Lesson 06: the worker's HTTP server: the accept loop and the drain (lessons/06-http-workers/README.md, "One
// socket, many acceptors" and "Draining"). See worker_server.hpp.
#include "worker_server.hpp"

#include <clusterkit/errors.hpp>

namespace lesson06 {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

Server::Server(asio::io_context& context, tcp::acceptor listener)
    : context_(context), listener_(std::move(listener)), retry_timer_(context) {}

void Server::start() { accept_next(); }

void Server::add(Connection& connection) { connections_.insert(&connection); }

void Server::remove(Connection& connection) { connections_.erase(&connection); }

//tag::accept[]
void Server::accept_next() {
    listener_.async_accept([this](error_code error, tcp::socket socket) {
        if (error == asio::error::operation_aborted) return;  // drain() closed the listener
        if (!error) {
            serve_connection(std::move(socket), *this);
            if (!draining_) accept_next();
            return;
        }
        // Out of descriptors or memory: say so, and try again in a moment rather than in a busy loop.
        clusterkit::report_error("lesson06-worker", "accept: " + error.message());
        retry_timer_.expires_after(std::chrono::milliseconds(100));
        retry_timer_.async_wait([this](error_code timer_error) {
            if (!timer_error) accept_next();
        });
    });
}
//end::accept[]

//tag::drain[]
void Server::drain() {
    if (draining_) return;
    draining_ = true;
    error_code ignored;
    listener_.close(ignored);  // no new connections: the pending accept ends with operation_aborted
    retry_timer_.cancel();
    const std::set<Connection*> open(connections_);  // close_if_idle() may end connections
    for (Connection* connection : open) connection->close_if_idle();
}
//end::drain[]

}  // namespace lesson06
