// Lesson 06: one HTTP connection of a worker (lessons/06-http-workers/README.md, "Keep-alive, and requests that
// are not HTTP" and "Draining"). See worker_session.hpp. What a connection does between its reads and writes is
// here; reading a request, writing a response and the deadlines are in worker_session_io.cpp.
// YOUR CODE: fill in the TODO(lesson 06) gap below.
#include "worker_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/error.hpp>

namespace lesson06 {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto request_timeout = std::chrono::seconds(30);  // for the next request, from the last answer to its end
constexpr auto drain_linger = std::chrono::seconds(1);    // draining: for an idle connection's next request
constexpr auto work_slice = std::chrono::milliseconds(5);  // /work burns CPU in slices; the loop runs between

// The connection ended or failed on the client's side: nothing to answer, nothing to report.
bool is_hang_up(error_code error) {
    return error == http::error::end_of_stream || error == http::error::partial_message ||
           error == asio::error::operation_aborted || error == asio::error::connection_reset ||
           error == asio::error::eof;
}

}  // namespace

void serve_connection(tcp::socket socket, Server& server) {
    std::make_shared<Session>(std::move(socket), server)->start();
}

Session::Session(tcp::socket socket, Server& server)
    : socket_(std::move(socket)), watchdog_(socket_.get_executor(), Clock::time_point::max()), server_(server) {
    server_.add(*this);
}

Session::~Session() { server_.remove(*this); }

void Session::start() { wait_for_request(); }

// Between two requests: read the next one. Until its first bytes arrive the connection holds nothing in flight,
// and drain() may close it. (Reading at once, rather than first waiting with async_wait until the socket has bytes,
// spares the event loop a system call a request: Asio registers the socket with epoll again for every wait.)
void Session::wait_for_request() {
    busy_ = false;
    // Draining, an idle connection gets a moment for one more request, answered with `Connection: close`: its
    // client may be sending it right now, and closing under it would fail that request.
    set_deadline(Clock::now() + (server_.draining() ? drain_linger : request_timeout));
    read_request();  // it starts with what buffer_ holds: a client may send its next request with the last
}

//tag::read[]
void Session::on_read(error_code error) {
    if (error && is_hang_up(error)) return close();
    busy_ = true;
    if (error) {
        // TODO(lesson 06): the request is not HTTP: answer 400 (say why) and then close this connection.
        // The worker and its other connections go on.
        return close();
    }
    work_then_send(serve(parser_->get()));
}
//end::read[]

// /work burns its CPU in slices, posting the rest to the event loop after each one: the worker goes on
// accepting, reading and answering other connections, and notices SIGTERM, while it works.
void Session::work_then_send(Answer answer) {
    if (answer.cpu_work <= std::chrono::milliseconds::zero()) {
        answer.response.keep_alive(parser_->get().keep_alive());
        return send(std::move(answer.response));
    }
    set_deadline(Clock::time_point::max());  // the client waits for us now
    const auto slice = std::min(answer.cpu_work, work_slice);
    burn_cpu(slice);
    answer.cpu_work -= slice;
    asio::post(socket_.get_executor(), [self = shared_from_this(), answer = std::move(answer)]() mutable {
        self->work_then_send(std::move(answer));
    });
}

void Session::on_sent(error_code error) {
    if (error || !response_.keep_alive()) return close();
    wait_for_request();
}

void Session::close() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);  // the client reads to the end, then EOF
    socket_.close(ignored);
    watchdog_.cancel();  // the session ends once its last handler has run
}

void Session::close_if_idle() {
    if (!socket_.is_open()) return;  // closed already, and ends once its last handler has run
    // A request that has begun to arrive is in flight: the client sent it before we stopped. Its bytes are in
    // our buffer or parser, or the kernel holds them for us. It is answered first, then the connection closes.
    error_code ignored;
    if (busy_ || buffer_.size() > 0 || parser_->got_some() || socket_.available(ignored) > 0) return;
    // Idle, as far as we can see: the client may be sending its next request right now, or Asio has just taken
    // its bytes out of the kernel, in this turn of the event loop, and the read's handler has not run yet.
    // Either way it gets a moment, then the connection closes.
    set_deadline(Clock::now() + drain_linger);
}

}  // namespace lesson06
