// Lesson 06: one HTTP connection of a worker (lessons/06-http-workers/README.md, "Keep-alive, and requests that
// are not HTTP" and "Draining"). See worker_session.hpp. What a connection does between its reads and writes is
// here; reading a request, writing a response and the deadlines are in worker_session_io.cpp.
#include "worker_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/error.hpp>

namespace lesson06 {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto idle_timeout = std::chrono::seconds(30);   // between requests on a keep-alive connection
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

// Idle: wait until the next request's first bytes arrive, without reading them. Until then the connection
// holds nothing in flight, and drain() may close it; after that, it serves the request.
void Session::wait_for_request() {
    busy_ = false;
    if (buffer_.size() > 0) return read_request();  // the client already sent the next request with the last
    // Draining, an idle connection gets a moment for one more request, answered with `Connection: close`: its
    // client may be sending it right now, and closing under it would fail that request.
    set_deadline(Clock::now() + (server_.draining() ? drain_linger : idle_timeout));
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code error) {
        if (error) return self->close();
        self->read_request();
    });
}

//tag::read[]
void Session::on_read(error_code error) {
    if (error && is_hang_up(error)) return close();
    busy_ = true;
    if (error) {
        // Not HTTP: answer 400 and close this connection. The worker and its other connections go on.
        auto response = error_response(http::status::bad_request, "malformed request: " + error.message());
        response.keep_alive(false);
        return send(std::move(response));
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
    // Bytes of a request that the kernel holds for us count as a request in flight: the client sent it
    // before we stopped. (wait_for_request() never takes them out of the kernel, so this is the whole truth.)
    error_code ignored;
    if (busy_ || socket_.available(ignored) > 0) return;  // answered first, then closed
    // Idle: the client may be sending its next request right now. It gets a moment, then the connection closes.
    set_deadline(Clock::now() + drain_linger);
}

}  // namespace lesson06
