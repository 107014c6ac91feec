// Lesson 06: the worker's HTTP server: the accept loop and the drain (lessons/06-http-workers/README.md, "One
// socket, many acceptors" and "Draining"). See worker_server.hpp.
// YOUR CODE: fill in the TODO(lesson 06) gaps below.
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
    // TODO(lesson 06): accept the next connection on listener_ without blocking, hand it to
    // serve_connection(), and accept again. Stop when drain() closes the listener; on any other error, report
    // it and try again in a moment (retry_timer_).
}
//end::accept[]

//tag::drain[]
void Server::drain() {
    if (draining_) return;
    draining_ = true;
    // TODO(lesson 06): stop accepting new connections, and close every connection that has no request in
    // flight, once it has had its second for one more (close_if_idle() does that). (Those with a request in
    // flight close themselves once they have sent its response.)
}
//end::drain[]

}  // namespace lesson06
