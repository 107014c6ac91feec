// Lesson 06: a worker's HTTP server, Boost.Beast on one single-threaded Asio event loop.
//
// The Server accepts connections on the listening socket it inherited from the primary, and hands each one to
// serve_connection(): a Session (worker_session.hpp) reads requests on it one after another (keep-alive) and
// answers them (worker_routes.hpp). This file knows a session only as a Connection, which keeps Beast, slow to
// compile, out of it: an edit here rebuilds in seconds.
//
// drain(), on SIGTERM: stop accepting; close the connections that wait for a request once they have waited a
// moment more (a request may be on its way); let those with a request in flight finish it and send the
// response (with `Connection: close`). When the last one has ended the event loop runs out of work and the
// worker exits 0.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <set>

namespace lesson06 {

class Server;

// One connection, as the Server sees it.
class Connection {
public:
    // For drain(): closes the connection once it has stayed idle a moment more, or after the answer to the
    // request in flight (being read, worked on or answered).
    virtual void close_if_idle() = 0;

protected:
    ~Connection() = default;
};

// Serves HTTP on an accepted connection until it ends (worker_session.cpp).
void serve_connection(boost::asio::ip::tcp::socket socket, Server& server);

class Server {
public:
    Server(boost::asio::io_context& context, boost::asio::ip::tcp::acceptor listener);

    void start();   // the accept loop
    void drain();   // see above
    bool draining() const { return draining_; }

    // Connections sign in for as long as they live, so that drain() can reach them.
    void add(Connection& connection);
    void remove(Connection& connection);

private:
    void accept_next();

    boost::asio::io_context& context_;
    boost::asio::ip::tcp::acceptor listener_;
    boost::asio::steady_timer retry_timer_;
    std::set<Connection*> connections_;
    bool draining_ = false;
};

}  // namespace lesson06
