// Lesson 06: a worker's HTTP/1.1 server, Boost.Beast on one single-threaded Asio event loop.
//
// The Server accepts connections on the listening socket it inherited from the primary, one Session each.
// A Session reads requests one after another on its connection (keep-alive), answers each (worker_routes.hpp),
// and ends when the client closes, asks for `Connection: close`, sends something that is not HTTP (400, then
// close), or stays silent too long. A failure on one connection never touches another, nor the worker.
//
// drain(), on SIGTERM: stop accepting; close the connections that wait for a request; let those with a
// request in flight finish it and send the response (with `Connection: close`). When the last one has ended
// the event loop runs out of work and the worker exits 0.
#pragma once

#include "worker_routes.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include <memory>
#include <optional>
#include <set>

namespace lesson06 {

class Server;

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(boost::asio::ip::tcp::socket socket, Server& server);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void start();
    // For drain(): closes the connection unless a request is in flight (being read, worked on or answered).
    void close_if_idle();

private:
    void wait_for_request();
    void read_request();
    void on_read(boost::system::error_code error);
    void work_then_send(Answer answer);
    void send(Response response);
    void on_sent(boost::system::error_code error);
    void close();

    boost::beast::tcp_stream stream_;
    boost::asio::steady_timer idle_timer_;
    boost::beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    Response response_;  // lives here while async_write sends it
    Server& server_;
    bool busy_ = false;  // a request is arriving, being worked on or being answered
};

class Server {
public:
    Server(boost::asio::io_context& context, boost::asio::ip::tcp::acceptor listener);

    void start();   // the accept loop
    void drain();   // see above
    bool draining() const { return draining_; }

private:
    friend class Session;  // sessions sign in and out
    void accept_next();

    boost::asio::io_context& context_;
    boost::asio::ip::tcp::acceptor listener_;
    boost::asio::steady_timer retry_timer_;
    std::set<Session*> sessions_;
    bool draining_ = false;
};

}  // namespace lesson06
