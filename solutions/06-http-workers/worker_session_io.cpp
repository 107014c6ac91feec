// Lesson 06: how a connection reads a request and writes a response with Boost.Beast, and the deadline that
// watches both. See worker_session.hpp; what the connection does between its reads and writes, and the answer
// to a request that is not HTTP, are in worker_session.cpp.
//
// A file of its own for the build's sake too: Beast's parser and serializer are the heaviest templates of the
// worker, and here they compile once, not again on every edit of worker_session.cpp.
#include "worker_session.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/ostream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <unistd.h>

namespace lesson06 {
namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto send_timeout = std::chrono::seconds(30);   // to take a whole response
constexpr std::size_t max_body = 64 * 1024;

}  // namespace

void Session::read_request() {
    parser_.emplace();
    parser_->body_limit(max_body);
    http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](error_code error, std::size_t) {
        self->on_read(error);
    });
}

void Session::send(Response response) {
    response_ = std::move(response);
    // getpid() is a system call (glibc no longer caches it): work the header out once per worker.
    static const std::string worker_pid = std::to_string(::getpid());
    response_.set("X-Worker-Pid", worker_pid);
    if (server_.draining()) response_.keep_alive(false);  // tell the client this connection ends
    // The whole response serialized into one buffer, sent with one write: http::async_write would walk Beast's
    // view of the header pieces again on every step of its write, which costs more than the rest of the request.
    output_.clear();
    beast::ostream(output_) << response_;
    set_deadline(Clock::now() + send_timeout);
    asio::async_write(socket_, output_.data(), [self = shared_from_this()](error_code error, std::size_t) {
        self->on_sent(error);
    });
}

// Every step of a connection has a deadline (idle, read, send), and a request moves it three times. Moving a
// timer costs a reorder of Asio's timer queue and often a system call (the kernel's timer behind the event
// loop), so the watchdog does not follow each move: it sleeps until the deadline it was set for, then looks at
// the current one. Moved later, it sleeps again; passed, it closes the connection. Only a deadline moved sooner
// (a drain's linger) wakes it early. nginx keeps its timers the same lazy way.
void Session::set_deadline(Clock::time_point deadline) {
    deadline_ = deadline;
    if (deadline_ < watchdog_.expiry()) watch_deadline();
}

void Session::watch_deadline() {
    watchdog_.expires_at(deadline_);  // cancels the wait in progress, if any
    watchdog_.async_wait([self = shared_from_this()](error_code error) {
        if (error) return;  // cancelled: moved sooner (a new wait is on), or the connection closed
        if (Clock::now() < self->deadline_) return self->watch_deadline();
        self->close();  // a silent or slow client loses its connection
    });
}

}  // namespace lesson06
