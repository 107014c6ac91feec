// Lesson 06: one HTTP/1.1 connection of a worker, with Boost.Beast.
//
// A Session reads requests one after another on its connection (keep-alive), answers each (worker_routes.hpp)
// with the worker's pid in X-Worker-Pid, and ends when the client closes, asks for `Connection: close`, sends
// something that is not HTTP (400, then close), or stays silent too long. A failure on one connection never
// touches another, nor the worker. While the Server drains, the answer in flight is the last one, and an idle
// connection gets a moment (a second) for one more request before it is closed.
//
// Defined in two files: worker_session.cpp, what a connection does between its reads and writes, and
// worker_session_io.cpp, reading a request and writing a response with Beast, and the deadlines.
#pragma once

#include "worker_routes.hpp"
#include "worker_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace lesson06 {

class Session final : public Connection, public std::enable_shared_from_this<Session> {
public:
    Session(boost::asio::ip::tcp::socket socket, Server& server);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void start();
    void close_if_idle() override;

private:
    void wait_for_request();
    void on_read(boost::system::error_code error);
    void work_then_send(Answer answer);
    void on_sent(boost::system::error_code error);
    void close();

    // worker_session_io.cpp
    void read_request();
    void send(Response response);
    void set_deadline(std::chrono::steady_clock::time_point deadline);
    void watch_deadline();

    boost::asio::ip::tcp::socket socket_;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    boost::asio::steady_timer watchdog_;  // closes the connection once deadline_ has passed
    boost::beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    Response response_;
    boost::beast::flat_buffer output_;  // response_, serialized: lives here while async_write sends it
    Server& server_;
    bool busy_ = false;  // a request has been read, and is being worked on or answered
};

}  // namespace lesson06
